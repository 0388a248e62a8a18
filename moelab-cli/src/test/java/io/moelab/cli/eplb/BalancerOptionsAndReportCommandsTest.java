package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.cli.LockHolder;
import io.moelab.cli.support.DirectoryLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Modes, migration, hindsight, bench and report on the command line. */
class BalancerOptionsAndReportCommandsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private Path input(String name, String weights) throws Exception {
        return Files.writeString(dir.resolve(name), "{\"weight\": " + weights
                + ", \"num_replicas\": 16, \"num_groups\": 4, \"num_nodes\": 2, \"num_gpus\": 8}");
    }

    @Test
    void moelabIsTheDefaultAndModesApply() throws Exception {
        Path in = input("in.json", "[[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86]]");
        Path out = dir.resolve("out.json");
        Result r = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out.toString(),
                "--mode", "global");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(JSON.readTree(out.toFile()).get("algorithm").asString()).isEqualTo("moelab:global");
        assertThat(r.out()).contains("bound");
        Result bad = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out.toString(),
                "--mode", "sideways");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.errLines()).singleElement().asString().startsWith("error: --mode: unknown mode 'sideways'");
        // A mode inside --algorithm is that option's fault, not --mode's (which the user did not give).
        Result inSpec = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out.toString(),
                "--algorithm", "moelab:sideways");
        assertThat(inSpec.exitCode()).isEqualTo(2);
        assertThat(inSpec.errLines()).containsExactly(
                "error: --algorithm: unknown mode 'sideways' (known: auto, global, hierarchical)");
        // The JSON input's topology keeps its own names, under the file (num_replicas is a key of it); M is --gpus.
        Result few = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out.toString(),
                "--gpus", "5");
        assertThat(few.exitCode()).isEqualTo(2);
        assertThat(few.errLines()).singleElement().asString().startsWith("error: " + in + ": num_replicas: R=16 is not "
                + "a multiple of --gpus M=5");
    }

    @Test
    void previousPlacementMeansFewerExpertsMoved() throws Exception {
        Path before = input("a.json", "[[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86]]");
        Path after = input("b.json", "[[95, 120, 45, 70, 100, 150, 44, 9, 80, 50, 170, 90]]");
        Path first = dir.resolve("first.json");
        assertThat(CliRunner.run("eplb", "rebalance", "--input", before.toString(), "--output", first.toString(),
                "--mode", "global").exitCode()).isZero();
        Path fresh = dir.resolve("fresh.json");
        Path aware = dir.resolve("aware.json");
        Result f = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output", fresh.toString(),
                "--algorithm", "moelab:global:migrate=off", "--previous", first.toString());
        Result a = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output", aware.toString(),
                "--mode", "global", "--previous", first.toString(), "--tolerance", "0.05");
        assertThat(f.exitCode()).as(f.err()).isZero();
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(moved(a.out())).isLessThanOrEqualTo(moved(f.out()));
        Result wrongShape = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                dir.resolve("x.json").toString(), "--previous", before.toString());
        assertThat(wrongShape.exitCode()).isEqualTo(2);
        assertThat(wrongShape.errLines()).singleElement().asString().contains("has no \"phy2log\"");
        Result toleranceForDeepseek = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                dir.resolve("y.json").toString(), "--algorithm", "deepseek", "--tolerance", "0.01");
        assertThat(toleranceForDeepseek.exitCode()).isEqualTo(2);
        assertThat(toleranceForDeepseek.errLines())
                .containsExactly("error: --tolerance: applies to moelab only, not to --algorithm deepseek");
        Result negative = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                dir.resolve("z.json").toString(), "--tolerance", "-1");
        assertThat(negative.exitCode()).isEqualTo(2);
        assertThat(negative.errLines()).containsExactly("error: --tolerance: must be a number in [0, 1], got -1");
        // The ends of the range are allowed; at 1 any balance may go, so the placement in service stays whole.
        Result all = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                dir.resolve("v.json").toString(), "--mode", "global", "--previous", first.toString(),
                "--tolerance", "1");
        assertThat(all.exitCode()).as(all.err()).isZero();
        assertThat(moved(all.out())).isZero();
        Result none = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                dir.resolve("u.json").toString(), "--mode", "global", "--previous", first.toString(),
                "--tolerance", "0");
        assertThat(none.exitCode()).as(none.err()).isZero();
        for (String beyond : List.of("1.5", "NaN")) {
            Result r = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                    dir.resolve("t.json").toString(), "--tolerance", beyond);
            assertThat(r.exitCode()).as(beyond).isEqualTo(2);
            assertThat(r.errLines()).singleElement().asString()
                    .startsWith("error: --tolerance: must be a number in [0, 1]");
        }
        Path more = input("c.json", "[[95, 120, 45, 70, 100, 150, 44, 9, 80, 50, 170, 90, 1, 2, 3, 4]]");
        Result smaller = CliRunner.run("eplb", "rebalance", "--input", more.toString(), "--output",
                dir.resolve("w.json").toString(), "--previous", first.toString());
        assertThat(smaller.exitCode()).isEqualTo(2);
        assertThat(smaller.errLines()).containsExactly("error: " + first
                + ": phy2log: places experts 0..11 but the loads have 16 experts per layer");
        // A placement for another topology or layer count names its file as well (it read "previous: ...").
        Result otherGpus = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                dir.resolve("s.json").toString(), "--previous", first.toString(), "--gpus", "2");
        assertThat(otherGpus.exitCode()).isEqualTo(2);
        assertThat(otherGpus.errLines()).containsExactly("error: " + first
                + ": placement is for R=16 G=4 N=2 M=8, expected R=16 G=4 N=2 M=2");
        // Other expert groups on the same slots, nodes and GPUs are the model's routing, not the hardware: accepted.
        Result otherGroups = CliRunner.run("eplb", "rebalance", "--input", after.toString(), "--output",
                dir.resolve("g.json").toString(), "--previous", first.toString(), "--groups", "2");
        assertThat(otherGroups.exitCode()).as(otherGroups.err()).isZero();
        assertThat(otherGroups.out()).contains("moved from " + first);
        Path twoLayers = input("d.json", "[[95, 120, 45, 70, 100, 150, 44, 9, 80, 50, 170, 90], "
                + "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]");
        Result otherLayers = CliRunner.run("eplb", "rebalance", "--input", twoLayers.toString(), "--output",
                dir.resolve("s.json").toString(), "--previous", first.toString());
        assertThat(otherLayers.exitCode()).isEqualTo(2);
        assertThat(otherLayers.errLines()).containsExactly("error: " + first
                + ": placement covers 1 layer x 12 experts, expected 2 layers x 12 experts");
        assertThat(dir.resolve("s.json")).doesNotExist();
    }

    private static int moved(String out) {
        var m = java.util.regex.Pattern.compile("(\\d+) experts moved").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void evaluateAddsHindsightRowsAndTheBound() throws Exception {
        Path trace = dir.resolve("t.json");
        assertThat(CliRunner.run("eplb", "generate", "--layers", "3", "--experts", "32", "--steps", "40", "--seed",
                "2", "--output", trace.toString()).exitCode()).isZero();
        Result r = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10", "--replicas",
                "48", "--groups", "4", "--nodes", "2", "--gpus", "8", "--algorithms", "deepseek,moelab",
                "--mode", "global", "--hindsight", "--warmup-ms", "0", "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode json = JSON.readTree(r.out());
        assertThat(json.get("mean_bound").asDouble()).isBetween(0.0, 1.0);
        assertThat(json.get("window_bound").size()).isEqualTo(3);
        var names = new java.util.ArrayList<String>();
        json.get("algorithms").forEach(a -> names.add(a.get("algorithm").asString()));
        assertThat(names).containsExactly("deepseek:global", "moelab:global", "deepseek:global (hindsight)",
                "moelab:global (hindsight)");
        for (JsonNode a : json.get("algorithms")) {
            assertThat(a.get("mean_gpu_balancedness").asDouble()).isLessThanOrEqualTo(
                    json.get("mean_bound").asDouble() + 1e-9);
        }
    }

    @Test
    void benchPrintsTheDocumentedJson() throws Exception {
        Result r = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", "moelab:global,deepseek",
                "--warmup-ms", "50", "--rounds", "1", "--round-ms", "50", "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode json = JSON.readTree(r.out());
        assertThat(json.get("shape").asString()).isEqualTo("adrs");
        assertThat(json.get("results")).hasSize(2);
        JsonNode first = json.get("results").get(0);
        assertThat(first.get("algorithm").asString()).isEqualTo("moelab:global");
        assertThat(first.get("median_us").asDouble()).isPositive();
        assertThat(first.get("p90_us").asDouble()).isGreaterThanOrEqualTo(first.get("median_us").asDouble());
        // The default table: the shape line, the header, one row per algorithm in the order asked.
        Result table = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", "static,moelab:global",
                "--warmup-ms", "20", "--rounds", "1", "--round-ms", "20");
        assertThat(table.exitCode()).as(table.err()).isZero();
        List<String> lines = table.out().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines.get(0)).startsWith("shape adrs: ");
        // One round in the singular: it read "of 1 rounds".
        assertThat(lines.get(0)).endsWith(" (median and p90 of 1 round, one rebalance of every layer)");
        Result two = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", "static", "--warmup-ms", "1",
                "--rounds", "2", "--round-ms", "1");
        assertThat(two.exitCode()).as(two.err()).isZero();
        assertThat(two.out().lines().findFirst().orElseThrow())
                .endsWith(" (median and p90 of 2 rounds, one rebalance of every layer)");
        assertThat(lines.get(1).split("\\s+")).containsExactly("algorithm", "median_us", "p90_us", "samples");
        assertThat(lines.subList(2, lines.size())).extracting(l -> l.split("\\s+")[0])
                .containsExactly("static", "moelab:global");
        Result bad = CliRunner.run("eplb", "bench", "--shape", "dsv4");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.errLines()).singleElement().asString().startsWith("error: --shape: unknown shape 'dsv4'");
        // Settings that would time something else than asked (they were clamped to one round, or one call a round).
        Result rounds = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", "static", "--rounds", "0");
        assertThat(rounds.exitCode()).isEqualTo(2);
        assertThat(rounds.errLines()).containsExactly("error: --rounds: must be at least 1, got 0");
        Result roundMs = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", "static", "--round-ms",
                "-5");
        assertThat(roundMs.errLines()).containsExactly("error: --round-ms: must be 1 to 3600000 ms, got -5");
    }

    @Test
    void reportWritesTablesAndPlots() throws Exception {
        Path out = dir.resolve("report");
        String md = report(out, "in512 > prefill_in1024");
        assertThat(md).contains("## Real DeepSeek-V3 workloads").contains("prefill_in512 > prefill_in1024")
                .contains("| moelab:global |").contains("timing skipped");
        // The command it names reproduces it: the options given, not the full run's "--out DIR" alone.
        assertThat(md).contains("Generated by `bin/moelab eplb report --out " + out
                + " --cases 'in512 > prefill_in1024' --timing-rounds 0` on ");
        // Counts in the right number: a one-core machine read "1 cores", one timing round "1 alternating rounds".
        String java = ", Java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch");
        assertThat(ReportCommand.machine(1)).isEqualTo("1 core" + java);
        assertThat(ReportCommand.machine(2)).isEqualTo("2 cores" + java);
        assertThat(md).contains(": " + ReportCommand.machine(Runtime.getRuntime().availableProcessors())
                + ". GPU balancedness");
        assertThat(ReportCommand.timingNote(1)).contains(" median and p90 over 1 alternating round after 1 s of ");
        assertThat(ReportCommand.timingNote(5)).contains(" median and p90 over 5 alternating rounds after 1 s of ");
        assertThat(ReportCommand.shellWord("docs/eplb")).isEqualTo("docs/eplb");
        assertThat(ReportCommand.shellWord("it's here")).isEqualTo("'it'\\''s here'");
        assertThat(ReportCommand.shellWord("")).isEqualTo("''");
        assertThat(out.resolve("real-pairs.png")).exists();
        // Only a real pair ran: no drifting, history or migration sections, and the ablation names one pair.
        assertThat(md).doesNotContain("## Drifting traffic").doesNotContain("## Stationary and cycling")
                .doesNotContain("## Migration").contains("Real pairs: mean over the 1 prefill pair.");
        // The pair's detail table: one row per algorithm and the hindsight row, the columns.
        assertThat(md).contains("### Each pair in detail").contains(
                "| pair | algorithm | mode | GPU balancedness | of bound | slot balancedness | experts moved | µs |");
        String[] global = detailRow(md, "moelab:global");
        String[] deepseek = detailRow(md, "deepseek");
        String[] hindsight = detailRow(md, "moelab:global (hindsight)");
        assertThat(global[3]).isEqualTo("global");
        assertThat(deepseek[3]).isEqualTo("auto = hierarchical");
        // Planned on the workload it is scored on, moelab beats its own plan on the other workload.
        assertThat(Double.parseDouble(hindsight[4])).isGreaterThan(Double.parseDouble(global[4]));
        assertThat(hindsight[7]).isEqualTo("n/a");
        // Replanning for the second workload: DeepSeek's EPLB ignores the placement in service, moelab keeps most
        // of it (migration-aware), so it moves fewer copies; both move some, since the loads changed.
        assertThat(Integer.parseInt(global[7])).isPositive()
                .isLessThan(Integer.parseInt(deepseek[7]));
    }

    @Test
    void reportOnADriftingAndACyclingCase() throws Exception {
        Path out = dir.resolve("report2");
        String md = report(out, "adrs-26x64,cycling-noisy");
        assertThat(out.resolve("adrs-26x64.png")).exists();
        assertThat(out.resolve("cycling-noisy.png")).exists();
        // No real pair ran: no real-pairs section, plot or ablation column (they were written empty, "12 pairs").
        assertThat(out.resolve("real-pairs.png")).doesNotExist();
        assertThat(md).doesNotContain("## Real DeepSeek-V3").doesNotContain("real prefill pairs")
                .doesNotContain("Real pairs:").contains("## Ablation").contains("## Migration");
        // Each ablation row has a cell per column of its header: no real column's cell without the column.
        String ablation = md.substring(md.indexOf("## Ablation"), md.indexOf("## Migration"));
        List<String> table = ablation.lines().filter(l -> l.startsWith("|")).toList();
        assertThat(table).hasSize(2 + ReportCommand.ABLATION.size());
        for (String line : table) {
            assertThat(line.split("\\|", -1)).as(line).hasSameSizeAs(table.getFirst().split("\\|", -1));
        }
        // Migration: each row's percentage recomputed from its experts moved and its mode's migrate=off row; and
        // issue 3's target on this case: at least 50% fewer moved for at most 0.005 of balancedness.
        Map<String, String[]> migration = new HashMap<>();
        md.lines().filter(l -> l.startsWith("| adrs-26x64 | moelab:")).forEach(l -> migration.put(
                l.split("\\s*\\|\\s*")[2], l.split("\\s*\\|\\s*")));
        for (String mode : List.of("global", "hierarchical")) {
            String[] off = migration.get("moelab:" + mode + ":migrate=off");
            for (String variant : List.of("moelab:" + mode, "moelab:" + mode + ":tolerance=0.005")) {
                String[] row = migration.get(variant);
                double moved = Double.parseDouble(row[4]);
                double offMoved = Double.parseDouble(off[4]);
                assertThat(row[5]).as(variant).isEqualTo(String.format(Locale.ROOT, "%+.0f%%",
                        100 * (moved / offMoved - 1)));
                assertThat(moved).as(variant).isLessThanOrEqualTo(offMoved / 2);
                assertThat(Double.parseDouble(off[3]) - Double.parseDouble(row[3])).as(variant)
                        .isLessThanOrEqualTo(0.005);
            }
        }
        // The case's table: MAIN's rows, then snake:global and moelab:global planned with hindsight; of bound =
        // balancedness / the bound written under the table (both rounded to 4 places).
        String section = md.substring(md.indexOf("### adrs-26x64"), md.indexOf("## Stationary"));
        double bound = Double.parseDouble(section.lines().filter(l -> l.startsWith("Bound (mean over windows): "))
                .findFirst().orElseThrow().replaceAll("[^0-9.]|\\.$", ""));
        List<String[]> rows = section.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| algorithm "))
                .map(l -> l.split("\\s*\\|\\s*")).toList();
        assertThat(rows).extracting(row -> row[1]).containsExactly("deepseek", "snake", "snake:global",
                "moelab:hierarchical", "moelab:global", "snake:global (hindsight)", "moelab:global (hindsight)");
        for (String[] row : rows) {
            assertThat(Double.parseDouble(row[4])).as(row[1])
                    .isCloseTo(Double.parseDouble(row[3]) / bound, within(0.0005 + 1e-4 / bound));
        }
        // What history buys: the closure column recomputed from the row's own columns (rounded to 4 places).
        String[] history = md.lines().filter(l -> l.startsWith("| cycling-noisy: ")).findFirst().orElseThrow()
                .split("\\s*\\|\\s*");
        double last = Double.parseDouble(history[2]);
        double full = Double.parseDouble(history[4]);
        double ideal = Double.parseDouble(history[5]);
        assertThat(Double.parseDouble(history[6].replace("%", ""))).isCloseTo(100 * (full - last) / (ideal - last),
                within(1.0));
        // The forecast model moelab picks: the domains cycle every 8 windows (200 steps in windows of 25), which a
        // seasonal model of period 8 follows.
        assertThat(history[7]).matches("seasonal-(mean|difference)\\(8\\)");
    }

    /**
     * Two prefill pairs and a decode pair (144 GPUs in 18 nodes, where 8 groups do not divide the nodes): the decode
     * pair has no hierarchical result, its DeepSeek runs global, and the ablation's real column averages the prefill
     * pairs alone. Every figure derived from others is recomputed from RESULTS.md's own tables.
     */
    @Test
    void reportOnPrefillAndDecodePairs() throws Exception {
        Path out = dir.resolve("report3");
        Result r = CliRunner.run("eplb", "report", "--out", out.toString(), "--cases",
                "in512 > prefill_in1024,in1024 > prefill_in512,out1000 > decode", "--timing-rounds", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("wrote " + out.resolve("RESULTS.md") + " and plots in " + out + "\n");
        String md = Files.readString(out.resolve("RESULTS.md"));
        String prefillA = "prefill_in512 > prefill_in1024";
        String prefillB = "prefill_in1024 > prefill_in512";
        String decode = "decode_in1000out1000 > decode_in1800out100";
        // The side-by-side table: bound, then MAIN's columns; n/a where the spec cannot run.
        assertThat(md).contains("| pair | bound | deepseek | snake | snake:global | moelab:hierarchical "
                + "| moelab:global |");
        Map<String, String[]> real = new HashMap<>();
        for (String pair : List.of(prefillA, prefillB, decode)) {
            String[] row = md.lines().filter(l -> l.startsWith("| " + pair + " | ") && l.split("\\|").length == 8)
                    .findFirst().orElseThrow(() -> new AssertionError("no row for " + pair)).split("\\s*\\|\\s*");
            real.put(pair, row);
        }
        assertThat(real.get(decode)[6]).isEqualTo("n/a");
        for (String pair : List.of(prefillA, prefillB)) {
            for (int c = 2; c <= 7; c++) {
                assertThat(Double.parseDouble(real.get(pair)[c])).as(pair + " column " + c).isBetween(0.0, 1.0);
            }
        }
        // The detail table: of bound = balancedness / the pair's bound (both rounded to 4 places in the tables).
        String detail = md.substring(md.indexOf("### Each pair in detail"), md.indexOf("## Ablation"));
        List<String[]> rows = detail.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| pair "))
                .map(l -> l.split("\\s*\\|\\s*")).toList();
        // Five MAIN rows and hindsight per prefill pair; four and hindsight for decode (no hierarchical moelab).
        assertThat(rows).hasSize(6 + 6 + 5);
        for (String[] row : rows) {
            double bound = Double.parseDouble(real.get(row[1])[2]);
            double balancedness = Double.parseDouble(row[4]);
            assertThat(Double.parseDouble(row[5])).as(row[1] + " " + row[2])
                    .isCloseTo(balancedness / bound, within(0.0005 + 1e-4 / bound));
            if (row[1].equals(decode)) {
                assertThat(row[2]).isNotEqualTo("moelab:hierarchical");
                assertThat(row[3]).isIn("global", "auto = global");
            }
        }
        assertThat(rows.stream().filter(row -> row[1].equals(decode) && row[2].equals("deepseek"))
                .map(row -> row[3])).containsExactly("auto = global");
        // The ablation: its real column is the mean over the two prefill pairs only ("2 prefill pairs", not 3),
        // checked where the side-by-side table has the same variant.
        assertThat(md).contains("Real pairs: mean over the 2 prefill pairs.").contains("| real prefill pairs |");
        Map<String, Integer> mainColumn = Map.of("snake:global", 5, "moelab:hierarchical", 6, "moelab:global", 7);
        for (var variant : mainColumn.entrySet()) {
            String[] ablation = md.substring(md.indexOf("## Ablation")).lines()
                    .filter(l -> l.startsWith("| " + variant.getKey() + " | ")).findFirst().orElseThrow()
                    .split("\\s*\\|\\s*");
            double mean = (Double.parseDouble(real.get(prefillA)[variant.getValue()])
                    + Double.parseDouble(real.get(prefillB)[variant.getValue()])) / 2;
            assertThat(Double.parseDouble(ablation[3])).as(variant.getKey()).isCloseTo(mean, within(1.0001e-4));
        }
    }

    /** Runs {@code eplb report} on the cases named, without timing; returns RESULTS.md. */
    private static String report(Path out, String cases) throws Exception {
        Result r = CliRunner.run("eplb", "report", "--out", out.toString(), "--cases", cases, "--timing-rounds", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        return Files.readString(out.resolve("RESULTS.md"));
    }

    /** The cells of the detail table's row for {@code algorithm} (index 1 is the pair, 2 the algorithm). */
    private static String[] detailRow(String md, String algorithm) {
        String table = md.substring(md.indexOf("### Each pair in detail"));
        return table.lines().filter(l -> l.startsWith("| prefill_in512 > prefill_in1024 | " + algorithm + " |"))
                .findFirst().orElseThrow(() -> new AssertionError("no detail row for " + algorithm))
                .split("\\s*\\|\\s*");
    }

    @Test
    void reportRefusesAFilterThatMatchesNothing() {
        Result none = CliRunner.run("eplb", "report", "--out", dir.resolve("r").toString(), "--cases", "nope");
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.errLines()).singleElement().asString()
                .startsWith("error: --cases: no case name contains 'nope' (cases: adrs-26x64, ");
        Result empty = CliRunner.run("eplb", "report", "--out", dir.resolve("r").toString(), "--cases", "");
        assertThat(empty.errLines()).containsExactly("error: --cases: an empty filter matches every case (drop "
                + "--cases to run them all)");
        Result twice = CliRunner.run("eplb", "report", "--out", dir.resolve("r").toString(), "--cases",
                "cycling,cycling");
        assertThat(twice.exitCode()).isEqualTo(2);
        assertThat(twice.errLines()).singleElement().asString().startsWith("error: --cases: ");
        Result rounds = CliRunner.run("eplb", "report", "--out", dir.resolve("r").toString(), "--timing-rounds", "-1");
        assertThat(rounds.errLines()).containsExactly("error: --timing-rounds: must be 0 or more, got -1");
        assertThat(dir.resolve("r")).doesNotExist();
    }

    /**
     * Two reports into one --out at the same time could leave one's RESULTS.md beside the other's plots (each
     * renamed its files together, but two processes' renames interleave). A directory in use is refused before any
     * work, a new one still works, and the lock file is gone at the end.
     */
    @Test
    void reportRefusesAnOutputDirectoryAnotherRunIsUsing() throws Exception {
        Path out = dir.resolve("report");
        String[] run = {"eplb", "report", "--out", out.toString(), "--cases", "cycling-noisy", "--timing-rounds", "0"};
        try (LockHolder other = LockHolder.start(out)) {
            Result r = CliRunner.run(run);
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("error: --out " + out + ": another moelab run is using it (pid "
                    + other.pid() + ")\n");
            assertThat(r.out()).isEmpty();
        }
        Files.delete(out.resolve(DirectoryLock.FILE));
        Files.delete(out);
        Result r = CliRunner.run(run);
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> names;
        try (var list = Files.list(out)) {
            names = list.map(p -> p.getFileName().toString()).toList();
        }
        assertThat(names).contains("RESULTS.md").allMatch(n -> !n.startsWith("."));
        String md = Files.readString(out.resolve("RESULTS.md"));
        try (DirectoryLock held = DirectoryLock.acquire("--out", out)) {
            Result again = CliRunner.run("eplb", "report", "--out", out.toString(), "--cases", "adrs-26x64",
                    "--timing-rounds", "0");
            assertThat(again.exitCode()).as(again.err()).isEqualTo(2);
            assertThat(again.errLines()).containsExactly("error: --out " + out + ": another moelab run is using it "
                    + "(pid " + ProcessHandle.current().pid() + ")");
        }
        assertThat(out.resolve("RESULTS.md")).hasContent(md);
        assertThat(out.resolve(DirectoryLock.FILE)).doesNotExist();
    }
}
