package io.moelab.cli.evolve;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.cli.LockHolder;
import io.moelab.cli.support.DirectoryLock;
import io.moelab.evolve.config.EvolveConfig;
import io.moelab.evolve.run.RunSummary;
import io.moelab.evolve.task.Tasks;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** {@code moelab evolve} and {@code evolve init} as users call them. */
class EvolveCommandTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String POLICY = "        boolean hierarchical = topology.groups() % topology.nodes() == 0;";
    /** A model's answer that edits the initial program: global placement always. */
    private static final String IMPROVE = "<<<<<<< SEARCH\n" + POLICY + "\n=======\n"
            + "        boolean hierarchical = false;\n>>>>>>> REPLACE";

    @TempDir
    Path dir;

    /** Every path of docs/EVOLVE.md's "What a run writes" table is named in the help's list of what a run writes. */
    @Test
    void helpNamesEveryFileOfTheDocsTable() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "EVOLVE.md"), StandardCharsets.UTF_8);
        String table = doc.substring(doc.indexOf("## What a run writes"), doc.indexOf("**Resume.**"));
        java.util.regex.Matcher row = java.util.regex.Pattern.compile("(?m)^\\| `(OUT/[^`]+)`").matcher(table);
        List<String> paths = new ArrayList<>();
        while (row.find()) {
            // A file inside a directory of many (programs/ID.EXT) counts as its directory.
            String path = row.group(1);
            int slash = path.indexOf('/', "OUT/".length());
            paths.add(slash < 0 ? path : path.substring(0, slash + 1));
        }
        assertThat(paths).as("the table's paths").hasSizeGreaterThanOrEqualTo(7);
        // The description as written: the rendered help breaks lines inside a path at its dots.
        String text = String.join(" ", new picocli.CommandLine(new EvolveCommand()).getCommandSpec().usageMessage()
                .description());
        assertThat(paths).allSatisfy(p -> assertThat(text).contains(p));
    }

    /**
     * The options a bare 'moelab evolve' names as missing are the ones its help calls required: picocli's synopsis
     * shows them as optional, since the command checks them itself so that 'evolve init' needs none of them.
     */
    @Test
    void helpCallsRequiredWhatTheCommandRequires() {
        Result bare = CliRunner.run("evolve");
        assertThat(bare.exitCode()).isEqualTo(2);
        java.util.regex.Matcher missing = java.util.regex.Pattern.compile("^error: (.+): missing required options? ")
                .matcher(bare.errLines().getFirst());
        assertThat(missing.find()).as(bare.err()).isTrue();
        picocli.CommandLine.Model.CommandSpec spec = new picocli.CommandLine(new EvolveCommand()).getCommandSpec();
        List<String> named = List.of(missing.group(1).split(", "));
        assertThat(named).isNotEmpty().allSatisfy(option -> assertThat(String.join(" ",
                spec.findOption(option).description())).as(option).contains("Required."));
    }

    @Test
    void initWritesTheInitialProgramAndAConfigThatLoads() throws Exception {
        Path d = dir.resolve("eplb");
        Result r = CliRunner.run("evolve", "init", "--task", "eplb", "--dir", d.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        String program = Files.readString(d.resolve("EvolvedBalancer.java"));
        assertThat(program).contains("EVOLVE-BLOCK-START", "EVOLVE-BLOCK-END", "implements BalancerAlgorithm");
        assertThat(Files.readString(d.resolve("config.yaml"))).contains("num_islands", "cascade_thresholds");
        Result again = CliRunner.run("evolve", "init", "--task", "eplb", "--dir", d.toString());
        assertThat(again.exitCode()).isEqualTo(2);
        assertThat(again.err()).startsWith("error: ").contains("exists").contains("--force");
        assertThat(CliRunner.run("evolve", "init", "--task", "eplb", "--dir", d.toString(), "--force").exitCode())
                .isZero();
    }

    /**
     * What 'evolve init' says: the two files it wrote and the command that runs with them; --force replaces both
     * files' content; one file already there refuses the run, naming it, and the other is not written.
     */
    @Test
    void initNamesWhatItWroteAndForceReplacesBothFiles() throws Exception {
        Path d = dir.resolve("init");
        Result r = CliRunner.run("evolve", "init", "--task", "eplb", "--dir", d.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path program = d.resolve("EvolvedBalancer.java");
        Path config = d.resolve("config.yaml");
        assertThat(r.out().lines().toList()).containsExactly(
                "wrote " + program + " (the initial program of task eplb) and " + config,
                "run: bin/moelab evolve --task eplb --model NAME --api-base URL --iterations 100 --config " + config
                        + " --out RUN_DIR");
        assertThat(r.err()).isEmpty();
        String programText = Files.readString(program);
        String configText = Files.readString(config);
        assertThat(programText).isEqualTo(Tasks.resolve("eplb").initialProgram());
        assertThat(configText).isEqualTo(EvolveConfig.commentedDefaults());

        Files.writeString(program, "edited\n");
        Files.writeString(config, "edited: true\n");
        Result forced = CliRunner.run("evolve", "init", "--task", "eplb", "--dir", d.toString(), "--force");
        assertThat(forced.exitCode()).as(forced.err()).isZero();
        assertThat(program).hasContent(programText);
        assertThat(config).hasContent(configText);

        // Only the configuration there: named, and the program is not written beside it.
        Path half = Files.createDirectory(dir.resolve("half"));
        Files.writeString(half.resolve("config.yaml"), "mine: 1\n");
        assertBad(CliRunner.run("evolve", "init", "--task", "eplb", "--dir", half.toString()),
                "error: --dir: " + half.resolve("config.yaml") + " exists (use --force to overwrite)");
        assertThat(half.resolve("EvolvedBalancer.java")).doesNotExist();
        assertThat(half.resolve("config.yaml")).hasContent("mine: 1\n");
        // Standard output holds no files: no directory named - is made.
        assertBad(CliRunner.run("evolve", "init", "--task", "eplb", "--dir", "-"), "error: --dir: standard output "
                + "(-) takes text only");
    }

    @Test
    void replayedRunWritesTraceBestAndResumes() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(
                line(1, IMPROVE), line(2, "nothing to change"), line(3, "still nothing")));
        Path out = dir.resolve("run");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--iterations",
                "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("completed 2 of 2 iterations", "best program 1: combined_score",
                "failed iterations: no_edit 1");
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(3);
        assertThat(Files.readString(out.resolve("best/EvolvedBalancer.java"))).contains("hierarchical = false;");

        Result twice = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "2", "--out", out.toString());
        assertThat(twice.exitCode()).isEqualTo(2);
        assertThat(twice.err()).contains("--resume");

        Result resumed = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "3", "--out", out.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("completed 3 of 3 iterations");
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(4);

        // Resuming wrong: fewer iterations than done, the run's islands not given, nothing to resume.
        Result fewer = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "2", "--out", out.toString(), "--resume");
        assertBad(fewer, "error: --iterations: 2 is below the 3 iterations the run has completed");
        Result none = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "2", "--out", dir.resolve("typo").toString(), "--resume");
        assertBad(none, "no run to resume");
        assertThat(dir.resolve("typo")).doesNotExist();
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "2", "--out", empty.toString(), "--resume"), "holds no run to resume");
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(4);
    }

    /**
     * A resume takes the run's seed and configuration from its folder: given with other values they are refused,
     * naming both; left out they used to be the defaults (seed 42, no configuration), which the checkpoint refused.
     */
    @Test
    void resumeTakesTheRunsSeedAndConfiguration() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, IMPROVE), line(2, "nothing to change"), line(3, "still nothing")));
        Path cfg = Files.writeString(dir.resolve("three.yaml"),
                "checkpoint_interval: 1\ndatabase:\n  num_islands: 3\n");
        Path out = dir.resolve("seeded");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--seed", "7",
                "--config", cfg.toString(), "--iterations", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(out.resolve("checkpoints/checkpoint_2")).isDirectory();

        Path other = Files.writeString(dir.resolve("other.yaml"), "checkpoint_interval: 1\n");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--seed", "8",
                "--iterations", "3", "--out", out.toString(), "--resume"),
                "error: --seed: the run in " + out + " used seed 7, not 8");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--config",
                other.toString(), "--iterations", "3", "--out", out.toString(), "--resume"),
                "error: --config: the run in " + out + " used " + cfg.toAbsolutePath().normalize() + ", not "
                        + other.toAbsolutePath().normalize());
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(3);

        Result resumed = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "3", "--out", out.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("completed 3 of 3 iterations");
        // Iteration 3 works on island 3 mod 3 = 0: the run's three islands, not the default's.
        List<String> trace = Files.readAllLines(out.resolve("trace.jsonl"));
        assertThat(trace).hasSize(4);
        assertThat(JSON.readTree(trace.getLast()).get("island").asInt()).isZero();
        // The same values given again are no change.
        Result same = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--seed", "7",
                "--config", cfg.toString(), "--iterations", "3", "--out", out.toString(), "--resume");
        assertThat(same.exitCode()).as(same.err()).isZero();
        // The run's length left to its configuration: named as the file's key, not as --iterations (not given).
        Files.writeString(cfg, "max_iterations: 2\ncheckpoint_interval: 1\ndatabase:\n  num_islands: 3\n");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--out",
                out.toString(), "--resume"), "error: " + cfg.toAbsolutePath().normalize() + ": max_iterations: 2 is "
                + "below the 3 iterations the run has completed");
    }

    /**
     * A resume before the run's first checkpoint (after a crash) checked none of the settings the run's programs
     * are ranked and placed in grids by: another fitness metric, Pareto objectives or grid went on silently. run.json
     * records them, and a resume with others is refused naming the setting and both values.
     */
    @Test
    void resumeWithoutACheckpointRefusesOtherRankingAndGrid() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, IMPROVE), line(2, "nothing to change"), line(3, "still nothing")));
        String settings = "database:\n  feature_bins: 5\n";
        Path cfg = Files.writeString(dir.resolve("grid.yaml"), settings);
        Path out = dir.resolve("grid");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--config",
                cfg.toString(), "--iterations", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        var recorded = JSON.readTree(out.resolve("run.json").toFile());
        assertThat(recorded.get("fitness_metric").asString()).isEqualTo("combined_score");
        assertThat(recorded.get("pareto_metrics").isArray() && recorded.get("pareto_metrics").isEmpty()).isTrue();
        assertThat(recorded.get("feature_dimensions").toString()).isEqualTo("[\"complexity\",\"diversity\"]");
        assertThat(recorded.get("feature_bins").asInt()).isEqualTo(5);
        // As a crash before the first checkpoint leaves it.
        try (var files = Files.walk(out.resolve("checkpoints"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        String runJson = out.resolve("run.json").toString();
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("database:\n  feature_bins: 4\n", "database.feature_bins: 4, but the run's " + runJson
                + " records 5");
        refused.put(settings + "  feature_dimensions: [complexity]\n", "database.feature_dimensions: [complexity], "
                + "but the run's " + runJson + " records [complexity, diversity]");
        refused.put(settings + "  pareto_metrics: [speed_score, balancedness]\n", "database.pareto_metrics: "
                + "[speed_score, balancedness], but the run's " + runJson + " records []");
        refused.put(settings + "  fitness_metric: speed_score\n", "database.fitness_metric: speed_score, but the "
                + "run's " + runJson + " records combined_score");
        for (var e : refused.entrySet()) {
            Files.writeString(cfg, e.getKey());
            assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                    "--iterations", "3", "--out", out.toString(), "--resume"), "error: " + cfg + ": " + e.getValue()
                    + " (resume with the run's --config)");
        }
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(3);
        Files.writeString(cfg, settings);
        Result resumed = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "3", "--out", out.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("completed 3 of 3 iterations");
    }

    /**
     * A resume before the run's first checkpoint with more islands than the run's went on silently, the trace's
     * iterations now meaning other islands (fewer failed only because the trace names an island beyond them), and
     * so did one with another task, evolving its programs from the run's.
     */
    @Test
    void resumeWithoutACheckpointRefusesAnotherIslandCountOrTask() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, IMPROVE), line(2, "nothing to change"), line(3, "still nothing")));
        Path cfg = Files.writeString(dir.resolve("islands.yaml"), "database:\n  num_islands: 3\n");
        Path out = dir.resolve("islands");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--config",
                cfg.toString(), "--iterations", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(JSON.readTree(out.resolve("run.json").toFile()).get("num_islands").asInt()).isEqualTo(3);
        try (var files = Files.walk(out.resolve("checkpoints"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        // The task's name, as the checkpoint records it: eplb:quick is a task of its own.
        assertThat(JSON.readTree(out.resolve("run.json").toFile()).get("task").asString()).isEqualTo("eplb:quick");
        assertBad(CliRunner.run("evolve", "--task", "eplb", "--llm-replay", replay.toString(), "--iterations", "3",
                "--out", out.toString(), "--resume"), "error: --task: the run in " + out + " is of task eplb:quick, "
                + "not eplb");
        Files.writeString(cfg, "database:\n  num_islands: 5\n");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--iterations",
                "3", "--out", out.toString(), "--resume"), "error: " + cfg + ": database.num_islands: 5, but the run's "
                + out.resolve("run.json") + " records 3 (resume with the run's --config)");
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(3);
    }

    /**
     * run.json giving a key twice: the last value was taken without a word, though which one was meant cannot be
     * known. It is refused naming the file and the key, and nothing is run.
     */
    @Test
    void aRunJsonGivingAKeyTwiceIsRefusedNamingIt() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, IMPROVE), line(2, "nothing to change"), line(3, "still nothing")));
        Path out = dir.resolve("twice");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path runJson = out.resolve("run.json");
        String saved = Files.readString(runJson);
        String twice = saved.replaceFirst("\"seed\" : (\\d+)", "\"seed\" : $1, \"seed\" : $1");
        assertThat(twice).isNotEqualTo(saved);
        Files.writeString(runJson, twice);
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--iterations",
                "3", "--out", out.toString(), "--resume"), "error: " + runJson + ": unreadable: Duplicate Object "
                + "property \"seed\"");
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(3);
    }

    /**
     * A configuration file moved or renamed since the run started: left out, the error named only the old path as
     * if --config had been given; given at its new place, it was refused as another file, so the run could not be
     * resumed at all. The new place is taken (and recorded for the next resume).
     */
    @Test
    void resumeFindsAMovedConfigurationWhereItIsGiven() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, IMPROVE), line(2, "nothing to change"), line(3, "still nothing"),
                line(4, "nothing either")));
        Path cfg = Files.writeString(dir.resolve("before.yaml"), "database:\n  num_islands: 3\n");
        Path out = dir.resolve("moved");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--config",
                cfg.toString(), "--iterations", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path moved = Files.move(cfg, Files.createDirectory(dir.resolve("elsewhere")).resolve("after.yaml"));

        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--iterations",
                "3", "--out", out.toString(), "--resume"), "error: --config: the run's configuration "
                + cfg.toAbsolutePath().normalize() + " (recorded in " + out.resolve("run.json") + ") no longer "
                + "exists; give its new place with --config");
        Result resumed = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--config", moved.toString(), "--iterations", "3", "--out", out.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(JSON.readTree(out.resolve("run.json").toFile()).get("config").asString())
                .isEqualTo(moved.toAbsolutePath().normalize().toString());
        Result again = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "4", "--out", out.toString(), "--resume");
        assertThat(again.exitCode()).as(again.err()).isZero();
        // Iteration 4 works on island 4 mod 3 = 1: the moved file's three islands.
        List<String> trace = Files.readAllLines(out.resolve("trace.jsonl"));
        assertThat(trace).hasSize(5);
        assertThat(JSON.readTree(trace.getLast()).get("island").asInt()).isEqualTo(1);
    }

    /**
     * A run against a live (local) model: the configuration file's settings take effect (prices, checkpoint
     * interval; an ignored key is a warning), the budget stops the run before the call that would exceed it, the
     * responses are recorded, and replaying the recording reproduces the run's best program.
     */
    @Test
    void liveModelRunStopsAtTheBudgetAndItsRecordingReplays() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", exchange -> {
            exchange.getRequestBody().readAllBytes();
            var root = JSON.createObjectNode();
            root.put("id", "c").put("object", "chat.completion").put("model", "scripted");
            root.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop")
                    .putObject("message").put("role", "assistant")
                    .put("content", calls.incrementAndGet() == 1 ? IMPROVE : "nothing to change");
            root.putObject("usage").put("prompt_tokens", 900).put("completion_tokens", 100).put("total_tokens", 1000);
            byte[] body = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream o = exchange.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        try {
            Path cfg = dir.resolve("config.yaml");
            // $10 per million tokens both ways: 1000 tokens a call cost $0.01.
            Files.writeString(cfg, "checkpoint_interval: 1\nlog_dir: logs\nllm:\n  models:\n    - name: scripted\n"
                    + "      api_base: http://127.0.0.1:" + server.getAddress().getPort() + "/v1\n"
                    + "      input_price: 10\n      output_price: 10\n");
            Path out = dir.resolve("live");
            // After two calls $0.02 are spent, beyond $0.015: the third iteration does not call.
            Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--config", cfg.toString(), "--iterations", "4",
                    "--budget", "0.015", "--out", out.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(calls).hasValue(2);
            assertThat(r.out()).contains("completed 2 of 4 iterations (stopped: budget)",
                    "best program 1: combined_score", "LLM cost $0.0200, 2000 tokens", "failed iterations: no_edit 1");
            assertThat(r.out().lines().filter(l -> l.startsWith("  metrics: ")).findFirst()).get().asString()
                    .contains("combined_score=");
            assertThat(r.err()).contains("warning: " + cfg + ": log_dir ignored")
                    .contains("budget of $0.0150 reached ($0.0200 spent)");
            assertThat(out.resolve("checkpoints/checkpoint_1")).isDirectory();
            assertThat(out.resolve("checkpoints/checkpoint_2")).isDirectory();
            BufferedImage plot = ImageIO.read(out.resolve("progress.png").toFile());
            assertThat(plot).isNotNull();
            assertThat(plot.getWidth()).isPositive();

            Path recording = out.resolve("llm_responses.jsonl");
            assertThat(Files.readAllLines(recording)).hasSize(2);
            Path again = dir.resolve("replayed");
            Result replayed = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", recording.toString(),
                    "--iterations", "2", "--out", again.toString());
            assertThat(replayed.exitCode()).as(replayed.err()).isZero();
            assertThat(calls).hasValue(2);
            assertThat(replayed.out()).contains("completed 2 of 2 iterations\n", "best program 1: combined_score");
            assertThat(Files.readString(again.resolve("best/EvolvedBalancer.java")))
                    .isEqualTo(Files.readString(out.resolve("best/EvolvedBalancer.java")))
                    .contains("hierarchical = false;");
            // With the run's budget the replay stops where the run did (the budget was ignored: the third and fourth
            // iterations ran, as llm_error for want of a recording).
            Path budgeted = dir.resolve("replayed-budget");
            Result stopped = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", recording.toString(),
                    "--iterations", "4", "--budget", "0.015", "--out", budgeted.toString());
            assertThat(stopped.exitCode()).as(stopped.err()).isZero();
            assertThat(stopped.out()).contains("completed 2 of 4 iterations (stopped: budget)",
                    "LLM cost $0.0200, 2000 tokens").doesNotContain("llm_error");
            assertThat(stopped.err()).contains("budget of $0.0150 reached ($0.0200 spent)");
            assertThat(Files.readAllLines(budgeted.resolve("trace.jsonl"))).hasSize(3);

            // Resumed without the run's settings (its configuration file edited since): named as the setting, not
            // an internal error; run.json's record refuses it before the checkpoint would. (Another file is refused
            // first, see resumeTakesTheRunsSeedAndConfiguration.)
            Files.writeString(cfg, "database:\n  num_islands: 3\n");
            Result config = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", recording.toString(),
                    "--iterations", "4", "--out", out.toString(), "--resume", "--config", cfg.toString());
            assertBad(config, "error: " + cfg + ": database.num_islands: 3, but the run's " + out.resolve("run.json")
                    + " records 5");
        } finally {
            server.stop(0);
        }
    }

    /**
     * The configuration's max_iterations is the run's length when --iterations is left out (it was always
     * required, so the key never took effect); --iterations still overrides it, and with neither the run is
     * refused, naming both.
     */
    @Test
    void iterationsComeFromTheConfigurationUnlessGiven() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, "nothing to change"), line(2, "still nothing")));
        Path cfg = Files.writeString(dir.resolve("one.yaml"), "max_iterations: 1\n");
        Path out = dir.resolve("from-config");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--config",
                cfg.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("completed 1 of 1 iteration\n");
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(2);

        Result longer = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "2", "--out", out.toString(), "--resume");
        assertThat(longer.exitCode()).as(longer.err()).isZero();
        assertThat(longer.out()).contains("completed 2 of 2 iterations");

        String missing = "error: --iterations: missing: give --iterations N or max_iterations in --config";
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--out",
                dir.resolve("neither").toString()), missing);
        Path without = Files.writeString(dir.resolve("without.yaml"), "checkpoint_interval: 1\n");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--config",
                without.toString(), "--out", dir.resolve("neither").toString()), missing);
        assertThat(dir.resolve("neither")).doesNotExist();
    }

    /** The bounds themselves are allowed: no iterations (the initial program scored alone) and a zero budget. */
    @Test
    void zeroIterationsAndZeroBudgetAreAllowed() throws Exception {
        Path out = dir.resolve("zero");
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "0", "--budget", "0", "--model",
                "m", "--api-base", "http://127.0.0.1:1/v1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("completed 0 of 0 iterations\n", "best program 0: combined_score");
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(1);
    }

    /** The closing summary's optional lines, from a summary made by hand. */
    @Test
    void summaryNamesStopReasonMetricsAndFailures() {
        var task = Tasks.resolve("eplb:quick");
        var settings = EvolveConfig.defaults(task.fitnessMetric()).build(null);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("balancedness", 0.75);
        metrics.put("speed", 2.0);
        Map<String, Integer> errors = new LinkedHashMap<>();
        errors.put("no_edit", 2);
        errors.put("timeout", 1);
        Path out = Path.of("run");
        String full = EvolveCommand.describe(new RunSummary(7, 10, "5", 0.8, metrics, 0.5, 1.25, 12_345,
                "early_stopping", errors), settings, out, task);
        assertThat(full.lines().toList()).containsExactly(
                "completed 7 of 10 iterations (stopped: early_stopping)",
                "best program 5: combined_score 0.800000 (initial 0.500000)",
                "  metrics: balancedness=0.750000, speed=2.00000",
                "LLM cost $1.2500, 12345 tokens",
                "failed iterations: no_edit 2, timeout 1",
                "wrote " + out.resolve("best/EvolvedBalancer.java") + ", " + out.resolve("trace.jsonl") + ", "
                        + out.resolve("progress.png"));
        String bare = EvolveCommand.describe(new RunSummary(10, 10, "0", 0.5, Map.of(), 0.5, 0, 0, null, Map.of()),
                settings, out, task);
        assertThat(bare.lines().toList()).hasSize(4).first().isEqualTo("completed 10 of 10 iterations");
        assertThat(bare).doesNotContain("metrics", "failed", "stopped");
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        Path out = dir.resolve("run");
        assertBad(CliRunner.run("evolve", "--task", "eplb", "--iterations", "3"), "--out");
        assertBad(CliRunner.run("evolve", "--out", out.toString(), "--iterations", "3"), "--task");
        // Both missing: both named, in a fixed order (one of the two, chosen by Map.of's order, varied by JVM).
        assertThat(CliRunner.run("evolve", "--iterations", "3").err().strip())
                .isEqualTo("error: --task, --out: missing required options (see 'moelab evolve --help')");
        // One missing: in the singular.
        assertThat(CliRunner.run("evolve", "--task", "eplb", "--iterations", "3").errLines())
                .containsExactly("error: --out: missing required option (see 'moelab evolve --help')");
        // Standard output holds no run directory; a configuration that is missing or no file is named as such.
        assertBad(withModel(Path.of("-")), "error: --out: standard output (-) takes text only, not a directory");
        assertBad(withModel(out, "--config", dir.resolve("none.yaml").toString()), "error: --config: "
                + dir.resolve("none.yaml") + " does not exist");
        assertBad(withModel(out, "--config", dir.toString()), "error: --config: " + dir + " is not a regular file");
        assertThat(out).doesNotExist();
        assertBad(CliRunner.run("evolve", "--task", "no-such-task", "--iterations", "3", "--out", out.toString(),
                "--model", "m", "--api-base", "http://127.0.0.1:1/v1"), "no-such-task");
        assertBad(CliRunner.run("evolve", "--task", "eplb", "--iterations", "3", "--out", out.toString()), "--model");
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "llm:\n  api_key: sk-secret\n");
        Result key = withModel(out, "--config", cfg.toString());
        assertBad(key, "llm.api_key");
        assertThat(key.err()).doesNotContain("sk-secret");
        Files.writeString(cfg, "database:\n  num_islandz: 3\n");
        assertBad(withModel(out, "--config", cfg.toString()), "database.num_islandz");
        // Ranges checked once the file and the options are merged named the key alone, not the file or option.
        Files.writeString(cfg, "llm:\n  temperature: 5\n");
        assertBad(withModel(out, "--config", cfg.toString()), "error: " + cfg + ": llm.temperature: must be in [0, 2], "
                + "got 5");
        assertBad(CliRunner.run("evolve", "--task", "eplb", "--iterations", "3", "--out", out.toString(), "--model",
                "m", "--api-base", "localhost:8000"), "error: --api-base: must start with http:// or https://, got "
                + "localhost:8000");
        assertThat(out).doesNotExist();
        // Refused by the run once it starts: named with the file too.
        Files.writeString(cfg, "prompt:\n  template_dir: no-such-templates\n");
        assertBad(withModel(out, "--config", cfg.toString()), "error: " + cfg + ": prompt.template_dir: "
                + dir.resolve("no-such-templates") + " is not a directory");
        assertThat(out).doesNotExist();
        assertBad(withModel(out, "--api-key-env", "MOELAB_NO_SUCH_KEY_VAR"), "MOELAB_NO_SUCH_KEY_VAR");
        // The key is looked up when the model's client is made, which came after --out was created: it stayed, empty.
        assertThat(out).doesNotExist();
        assertBad(withModel(out, "--eval-timeout", "0"), "--eval-timeout");
        assertBad(withModel(out, "--budget", "-1"), "error: --budget: must be at least 0 USD, got -1");
        // Values as written, not as Java prints a double ("got -1.0", "got 1.0000001E7").
        assertBad(withModel(out, "--budget", "-0.25"), "error: --budget: must be at least 0 USD, got -0.25");
        assertBad(withModel(out, "--eval-timeout", "10000001"),
                "error: --eval-timeout: must be a positive number of seconds up to 10000000, got 10000001");
        assertBad(withModel(out, "--eval-timeout", "-2"),
                "error: --eval-timeout: must be a positive number of seconds up to 10000000, got -2");
        // Two billion iterations filled memory before the first model call; past an int's range it was "not an int".
        for (String n : List.of("-1", "1000001", "2000000000", "3000000000")) {
            assertBad(CliRunner.run("evolve", "--task", "eplb", "--iterations", n, "--out", out.toString(), "--model",
                    "m", "--api-base", "http://127.0.0.1:1/v1"), "error: --iterations: must be 0 to 1000000, got " + n);
        }
        // An infinite timeout overflowed a Duration (an ArithmeticException's message); --parallel named the
        // configuration key it overrides, and a typo's 100000 was taken.
        assertBad(withModel(out, "--eval-timeout", "Infinity"),
                "error: --eval-timeout: must be a positive number of seconds up to 10000000, got Infinity");
        assertBad(withModel(out, "--parallel", "0"), "error: --parallel: must be 1 to 256, got 0");
        assertBad(withModel(out, "--parallel", "100000"), "error: --parallel: must be 1 to 256, got 100000");
        // A directory where a file belongs is not "missing".
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "3", "--out", out.toString(),
                "--llm-replay", dir.toString()), "--llm-replay: " + dir + " is not a regular file");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "3", "--out", out.toString(),
                "--llm-replay", dir.resolve("none.jsonl").toString()), "none.jsonl does not exist");
        // An empty recording ran every iteration as llm_error and exited 0; a bad one left an empty --out behind.
        Path emptyRecording = Files.writeString(dir.resolve("empty.jsonl"), "");
        Path fresh = dir.resolve("fresh-run");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "3", "--out", fresh.toString(),
                "--llm-replay", emptyRecording.toString()), "error: " + emptyRecording + ": holds no recorded "
                + "completion");
        assertThat(fresh).doesNotExist();
        // A misspelt fitness metric silently optimized the mean of every metric.
        Path metric = Files.writeString(dir.resolve("metric.yaml"), "database:\n  fitness_metric: combined_scor\n");
        Result typo = CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "1", "--out",
                dir.resolve("typo-run").toString(), "--model", "m", "--api-base", "http://127.0.0.1:1/v1", "--config",
                metric.toString());
        assertBad(typo, "error: " + metric + ": database.fitness_metric: 'combined_scor' is not a metric of the "
                + "initial program, "
                + "which reports ");
        assertThat(typo.err()).contains("combined_score");
        assertThat(dir.resolve("typo-run")).doesNotExist();
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "3", "--out", file.toString(),
                "--llm-replay", dir.resolve("none.jsonl").toString()), "error: --out " + file
                + ": is a file, not a run directory");
    }

    /**
     * {@code --config -} and {@code --llm-replay -} read standard input (they looked for a file named {@code -}),
     * errors naming it; one of them at most; {@code --task -} names no directory. A run configured from standard
     * input records it, and a resume asks for the configuration again rather than running without it.
     */
    @Test
    void configAndRecordingMayComeFromStandardInput() throws Exception {
        byte[] cfg = "checkpoint_interval: 1\ndatabase:\n  num_islands: 3\n".getBytes(StandardCharsets.UTF_8);
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, IMPROVE), line(2, "nothing to change"), line(3, "still nothing")));
        Path out = dir.resolve("piped");
        Result r = CliRunner.runWithStdin(cfg, "evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--config", "-", "--iterations", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        var run = JSON.readTree(out.resolve("run.json").toFile());
        assertThat(run.get("num_islands").asInt()).isEqualTo(3);
        assertThat(run.get("config").asString()).isEqualTo("-");

        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--iterations",
                "3", "--out", out.toString(), "--resume"), "error: --config: the run in " + out + " read its "
                + "configuration from standard input; give it again (--config - or a file)");
        Result resumed = CliRunner.runWithStdin(cfg, "evolve", "--task", "eplb:quick", "--llm-replay",
                replay.toString(), "--config", "-", "--iterations", "3", "--out", out.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        List<String> trace = Files.readAllLines(out.resolve("trace.jsonl"));
        assertThat(trace).hasSize(4);
        // Iteration 3 on island 3 mod 3 = 0: the piped configuration's three islands.
        assertThat(JSON.readTree(trace.getLast()).get("island").asInt()).isZero();
        // Another island count from standard input is a change the run refuses, as from a file.
        assertBad(CliRunner.runWithStdin("database:\n  num_islands: 2\n".getBytes(StandardCharsets.UTF_8), "evolve",
                "--task", "eplb:quick", "--llm-replay", replay.toString(), "--config", "-", "--iterations", "4",
                "--out", out.toString(), "--resume"), "num_islands");

        // A problem in it names standard input, as it names a file.
        Path none = dir.resolve("none");
        assertBad(CliRunner.runWithStdin("llm:\n  temperature: 5\n".getBytes(StandardCharsets.UTF_8), "evolve",
                "--task", "eplb", "--iterations", "3", "--out", none.toString(), "--model", "m", "--api-base",
                "http://127.0.0.1:1/v1", "--config", "-"),
                "error: standard input: llm.temperature: must be in [0, 2], got 5");
        // Relative paths in it are the working directory's (a file's are its directory's).
        assertBad(CliRunner.runWithStdin("prompt:\n  template_dir: no-such-templates\n"
                        .getBytes(StandardCharsets.UTF_8), "evolve", "--task", "eplb", "--iterations", "3", "--out",
                none.toString(), "--model", "m", "--api-base", "http://127.0.0.1:1/v1", "--config", "-"),
                "error: standard input: prompt.template_dir: "
                        + Path.of("no-such-templates").toAbsolutePath() + " is not a directory");
        assertThat(none).doesNotExist();

        // The recording from standard input.
        Path replayed = dir.resolve("replayed");
        Result fromStdin = CliRunner.runWithStdin(Files.readAllBytes(replay), "evolve", "--task", "eplb:quick",
                "--llm-replay", "-", "--iterations", "2", "--out", replayed.toString());
        assertThat(fromStdin.exitCode()).as(fromStdin.err()).isZero();
        assertThat(Files.readString(replayed.resolve("best/EvolvedBalancer.java"))).contains("hierarchical = false;");
        assertBad(CliRunner.runWithStdin(new byte[0], "evolve", "--task", "eplb:quick", "--llm-replay", "-",
                "--iterations", "2", "--out", none.toString()), "error: standard input: holds no recorded completion");
        assertThat(none).doesNotExist();

        assertBad(CliRunner.runWithStdin(cfg, "evolve", "--task", "eplb:quick", "--config", "-", "--llm-replay", "-",
                "--iterations", "2", "--out", none.toString()), "error: --llm-replay: names standard input (-) as "
                + "--config does; it can be read once (name a file for the other)");
        assertBad(CliRunner.run("evolve", "--task", "-", "--iterations", "2", "--out", none.toString(),
                "--llm-replay", replay.toString()), "error: --task: standard input (-) is a stream, not a directory "
                + "of files; name a directory (./- for one named -)");
        // And 'evolve init' says so as the run does (it said "'-' is neither a built-in task ... nor a task
        // directory").
        assertBad(CliRunner.run("evolve", "init", "--task", "-", "--dir", none.toString()), "error: --task: standard "
                + "input (-) is a stream, not a directory of files; name a directory (./- for one named -)");
        assertThat(none).doesNotExist();
    }

    /** {@code evolve} on the EPLB task with a model and an endpoint (never reached), plus {@code extra}. */
    private static Result withModel(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("evolve", "--task", "eplb", "--iterations", "3", "--out",
                out.toString(), "--model", "m", "--api-base", "http://127.0.0.1:1/v1"));
        args.addAll(List.of(extra));
        return CliRunner.run(args.toArray(String[]::new));
    }

    /**
     * A run whose initial program fails writes nothing, so it leaves no --out behind (the command created it, and
     * with a model an empty llm_responses.jsonl in it); an --out that existed before is kept.
     */
    @Test
    void aRunThatFailsToStartLeavesNoOutBehind() throws Exception {
        Path task = Files.createDirectory(dir.resolve("failing-task"));
        Files.writeString(task.resolve("initial_program.sh"), "# EVOLVE-BLOCK-START\nexit 3\n# EVOLVE-BLOCK-END\n");
        Files.writeString(task.resolve("task.yaml"), "evaluator: [sh, \"{program}\"]\nfitness_metric: score\n");
        Path replay = Files.write(dir.resolve("replay.jsonl"), List.of(line(1, "nothing to change")));
        Path replayed = dir.resolve("replayed");
        assertBad(CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out",
                replayed.toString(), "--llm-replay", replay.toString()), "initial program");
        assertThat(replayed).doesNotExist();
        Path modelled = dir.resolve("modelled");
        assertBad(CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out",
                modelled.toString(), "--model", "m", "--api-base", "http://127.0.0.1:1/v1"), "initial program");
        assertThat(modelled).doesNotExist();
        Path existing = Files.createDirectory(dir.resolve("existing"));
        assertBad(CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out",
                existing.toString(), "--llm-replay", replay.toString()), "initial program");
        assertThat(existing).isEmptyDirectory();
    }

    /**
     * A replay calls no model, so the configuration's ensemble needs no endpoint: one recorded with the endpoint
     * given as --api-base replays with the same file. It was refused, asking for an --api-base it does not use.
     */
    @Test
    void aReplayNeedsNoEndpointForTheConfigurationsModels() throws Exception {
        Path task = shellTask("\"score\": '$v'", "score");
        Path cfg = Files.writeString(dir.resolve("ensemble.yaml"), """
                llm:
                  models:
                    - {name: a, weight: 0.8}
                    - {name: b, weight: 0.2}
                """);
        Path replay = Files.write(dir.resolve("replay.jsonl"), List.of(line(1, "<<<<<<< SEARCH\nv=1\n=======\nv=2\n"
                + ">>>>>>> REPLACE")));
        Path out = dir.resolve("replayed");
        Result r = CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out", out.toString(),
                "--config", cfg.toString(), "--llm-replay", replay.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("completed 1 of 1 iteration", "best program 1: score 2");
        // A run that calls the models still needs their endpoint.
        assertBad(CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out",
                dir.resolve("modelled").toString(), "--config", cfg.toString()),
                "error: llm.api_base: no endpoint for model a");
    }

    /**
     * An OpenEvolve configuration with its built-in "score" dimension loads: score bins the fitness. It was refused
     * as a metric the initial program does not report; a metric the task names score (not the fitness) is refused.
     */
    @Test
    void openEvolvesScoreDimensionBinsTheFitness() throws Exception {
        Path task = shellTask("\"combined_score\": '$v', \"speed\": 3", "combined_score");
        Path cfg = Files.writeString(dir.resolve("openevolve.yaml"), """
                database:
                  num_islands: 1
                  feature_dimensions: [score, complexity]
                  feature_bins: 2
                """);
        Path replay = Files.write(dir.resolve("replay.jsonl"), List.of(line(1, "<<<<<<< SEARCH\nv=1\n=======\nv=2\n"
                + ">>>>>>> REPLACE")));
        Path out = dir.resolve("scored");
        Result r = CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out", out.toString(),
                "--config", cfg.toString(), "--llm-replay", replay.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("completed 1 of 1 iteration", "best program 1: combined_score 2");
        // Fitness 1, then 2: bin 0, then (2 - 1) / 1 * 2 = 2 clamped to 1; both programs are 44 characters: bin 0.
        var database = JSON.readTree(out.resolve("checkpoints/checkpoint_1/database.json").toFile());
        assertThat(database.get("islands").get(0).get("cellOf"))
                .isEqualTo(JSON.readTree("{\"0\": \"0,0\", \"1\": \"1,0\"}"));

        shellTask("\"combined_score\": '$v', \"score\": 3", "combined_score");
        assertBad(CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out",
                dir.resolve("named").toString(), "--config", cfg.toString(), "--llm-replay", replay.toString()),
                "error: " + cfg + ": database.feature_dimensions: 'score' is the built-in dimension that bins the "
                        + "fitness (combined_score), but the initial program also reports a metric named score");
        assertThat(dir.resolve("named")).doesNotExist();
    }

    /**
     * A task.yaml whose fitness_metric the initial program does not report (misspelt, or a YAML number such as .nan)
     * fell back to the mean of all metrics without a word, as only combined_score, the default, should; the same
     * name given in the configuration is refused.
     */
    @Test
    void aTaskFitnessMetricTheInitialProgramDoesNotReportIsRefused() throws Exception {
        Path task = shellTask("\"score\": '$v', \"size\": 3", "scor");
        Path replay = Files.write(dir.resolve("replay.jsonl"), List.of(line(1, "<<<<<<< SEARCH\nv=1\n=======\nv=2\n"
                + ">>>>>>> REPLACE")));
        Path out = dir.resolve("misspelt");
        assertBad(CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out", out.toString(),
                "--llm-replay", replay.toString()), "error: " + task.resolve("task.yaml") + ": fitness_metric: 'scor' "
                + "is not a metric of the initial program, which reports score, size");
        assertThat(out).doesNotExist();
        // The default, combined_score, unreported: the mean of the metrics, as OpenEvolve does.
        shellTask("\"score\": '$v', \"size\": 3", "combined_score");
        Result mean = CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out",
                out.toString(), "--llm-replay", replay.toString());
        assertThat(mean.exitCode()).as(mean.err()).isZero();
        assertThat(mean.out()).contains("best program 1: combined_score 2.50000 (initial 2.00000)");
    }

    /**
     * The resume reads a trace with a blank line (an editor's, or a hand-joined file) as the run, but the progress
     * plot made after it read the blank line as a record: the run completed, then the command failed with a
     * NullPointerException and exit code 1.
     */
    @Test
    void aBlankLineInTheTraceDoesNotFailTheProgressPlot() throws Exception {
        Path task = shellTask("\"score\": '$v'", "score");
        Path replay = Files.write(dir.resolve("replay.jsonl"), List.of(line(1, "<<<<<<< SEARCH\nv=1\n=======\nv=2\n"
                + ">>>>>>> REPLACE"), line(2, "<<<<<<< SEARCH\nv=2\n=======\nv=3\n>>>>>>> REPLACE")));
        Path out = dir.resolve("blank");
        Result r = CliRunner.run("evolve", "--task", task.toString(), "--iterations", "1", "--out", out.toString(),
                "--llm-replay", replay.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path trace = out.resolve("trace.jsonl");
        List<String> lines = Files.readAllLines(trace);
        Files.write(trace, List.of(lines.get(0), "", lines.get(1)));
        Files.delete(out.resolve("progress.png"));

        Result resumed = CliRunner.run("evolve", "--task", task.toString(), "--iterations", "2", "--out",
                out.toString(), "--llm-replay", replay.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("completed 2 of 2 iterations");
        assertThat(ImageIO.read(out.resolve("progress.png").toFile())).isNotNull();
    }

    /**
     * A shell task (made, or rewritten, in {@code shell-task}) whose program sets {@code v=1} and whose evaluator
     * prints the JSON object of {@code fields}, in which {@code '$v'} reads the program's {@code v}.
     */
    private Path shellTask(String fields, String fitness) throws IOException {
        Path task = Files.createDirectories(dir.resolve("shell-task"));
        Files.writeString(task.resolve("initial_program.sh"), "# EVOLVE-BLOCK-START\nv=1\n# EVOLVE-BLOCK-END\n");
        Files.writeString(task.resolve("task.yaml"), "evaluator: [sh, -c, \". {program}; echo '{"
                + fields.replace("\"", "\\\"") + "}'\"]\nfitness_metric: " + fitness + "\n");
        return task;
    }

    /**
     * Two runs on one --out at the same time: the second deleted the first's work files, and one of them failed
     * with its initial program's "failed evaluation" (or both wrote one trace). A run in use is refused up front,
     * starting or resuming, and the lock of a killed run does not outlive it.
     */
    @Test
    void aRunDirectoryAnotherRunIsUsingIsRefused() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        Files.write(replay, List.of(line(1, "nothing"), line(2, "nothing"), line(3, "nothing")));
        Path out = dir.resolve("shared");
        try (LockHolder other = LockHolder.start(out)) {
            assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                    "--iterations", "1", "--out", out.toString()),
                    "error: --out " + out + ": another moelab run is using it (pid " + other.pid() + ")");
            try (var names = Files.list(out)) {
                assertThat(names.map(p -> p.getFileName().toString())).containsExactly(".moelab.lock");
            }
        }
        // Killed, the holder left its lock file, which the next run takes over and removes.
        Result r = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(), "--iterations",
                "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(out.resolve(".moelab.lock")).doesNotExist();
        List<String> trace = Files.readAllLines(out.resolve("trace.jsonl"));
        try (LockHolder other = LockHolder.start(out)) {
            assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                    "--iterations", "2", "--out", out.toString(), "--resume"),
                    "error: --out " + out + ": another moelab run is using it (pid " + other.pid() + ")");
        }
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).isEqualTo(trace);
        // Held in this process (a command run in-process): refused too, without opening the file (that releases it).
        try (DirectoryLock held = DirectoryLock.acquire("--out", out)) {
            assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                    "--iterations", "2", "--out", out.toString(), "--resume"),
                    "error: --out " + out + ": another moelab run is using it (pid " + ProcessHandle.current().pid()
                            + ")");
        }
        Result resumed = CliRunner.run("evolve", "--task", "eplb:quick", "--llm-replay", replay.toString(),
                "--iterations", "2", "--out", out.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(Files.readAllLines(out.resolve("trace.jsonl"))).hasSize(trace.size() + 1);
        assertThat(out.resolve(".moelab.lock")).doesNotExist();
    }

    /**
     * An empty --out (a shell variable that was not set, quoted) ran in the working directory, writing trace.jsonl,
     * programs/ and checkpoints/ there (and init's empty --dir its files); an empty --task read as a task directory
     * named "". A file among --out's parents failed with exit 1, "error: FILE/run: Not a directory", naming no
     * option.
     */
    @Test
    void anEmptyOutOrTaskAndAFileAboveOutAreRefused() throws Exception {
        Path recording = Files.writeString(dir.resolve("r.jsonl"), line(1, "nothing") + "\n");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "1", "--out", "",
                "--llm-replay", recording.toString()), "error: --out: an empty path; name the run directory");
        assertBad(CliRunner.run("evolve", "--task", "", "--iterations", "1", "--out", dir.resolve("run").toString(),
                "--llm-replay", recording.toString()), "error: --task: an empty name; give eplb, eplb:quick or a "
                + "task directory");
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertBad(CliRunner.run("evolve", "--task", "eplb:quick", "--iterations", "1", "--out",
                file.resolve("run").toString(), "--llm-replay", recording.toString()),
                "error: --out " + file.resolve("run") + ": " + file + " is a file, not a directory");
        assertThat(dir.resolve("run")).doesNotExist();
        assertBad(CliRunner.run("evolve", "init", "--task", "eplb", "--dir", ""), "error: --dir: an empty path");
    }

    /**
     * A directory where the run writes its progress.png or run.json: the run evolved every iteration and then failed
     * (exit code 2 once the plot was due, with no summary; exit code 1 for run.json, leaving the run's files). Such
     * an --out is refused before the initial program is evaluated, naming the path, and nothing is written.
     */
    @Test
    void aDirectoryWhereTheRunWritesAFileIsRefusedBeforeTheRun() throws Exception {
        Path replay = Files.write(dir.resolve("replay.jsonl"), List.of(line(1, "nothing to change")));
        for (String name : List.of("progress.png", "run.json", "llm_responses.jsonl")) {
            Path out = Files.createDirectories(dir.resolve("out-" + name));
            Path taken = Files.createDirectories(out.resolve(name).resolve("inside"));
            List<String> args = new ArrayList<>(List.of("evolve", "--task", "eplb:quick", "--iterations", "1",
                    "--out", out.toString()));
            // The recording is written only when a model is called.
            args.addAll(name.startsWith("llm") ? List.of("--model", "m", "--api-base", "http://127.0.0.1:1/v1")
                    : List.of("--llm-replay", replay.toString()));
            Result r = CliRunner.run(args.toArray(String[]::new));
            assertBad(r, out.resolve(name).toString());
            assertThat(r.out()).as(name).isEmpty();
            try (var left = Files.walk(out)) {
                assertThat(left).as(name).containsExactlyInAnyOrder(out, out.resolve(name), taken);
            }
        }
    }

    private static void assertBad(Result r, String mentions) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: ").contains(mentions);
        assertThat(r.err().strip().lines().count()).isEqualTo(1);
    }

    private static String line(int iteration, String content) {
        var node = JSON.createObjectNode();
        node.put("iteration", iteration);
        node.put("model", "recorded");
        node.put("content", content);
        node.put("prompt_tokens", 900);
        node.put("completion_tokens", 100);
        node.put("cost_usd", 0.002);
        return JSON.writeValueAsString(node);
    }
}
