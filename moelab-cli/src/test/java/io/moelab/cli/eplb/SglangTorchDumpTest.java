package io.moelab.cli.eplb;

import static io.moelab.cli.eplb.EvaluateReports.results;
import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code eplb evaluate --trace} takes SGLang's torch.save dump ({@code .pt}) as it takes the JSON form of the same
 * dump. The fixture is moelab-eplb's {@code torch/stat_int32.pt} (see make_fixtures.py there): two passes of 4 layers
 * x 3 experts, layers 0 and 3 zero throughout.
 */
class SglangTorchDumpTest {
    @TempDir
    Path dir;

    private static byte[] dump() throws IOException {
        try (InputStream in = SglangTorchDumpTest.class.getResourceAsStream("sglang_stat_int32.pt")) {
            return in.readAllBytes();
        }
    }

    private static String[] evaluate(String trace) {
        return new String[] {"eplb", "evaluate", "--trace", trace, "--window", "1", "--replicas", "4", "--groups",
                "1", "--nodes", "1", "--gpus", "2", "--algorithms", "deepseek,static", "--warmup-ms", "0",
                "--format", "json"};
    }

    /**
     * A dump on standard input is copied to a temporary file first (a zip is read from its end). A run ended by a
     * signal while it copied, its input a pipe still open, left that copy behind in the temporary directory.
     */
    @Test
    void aRunEndedWhileItCopiesADumpFromStandardInputLeavesNoCopy() throws Exception {
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        String jvm = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(jvm, "-Djava.io.tmpdir=" + tmp,
                "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"),
                io.moelab.cli.Main.class.getName()));
        command.addAll(List.of(evaluate("-")));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.txt").toFile()).start();
        try {
            byte[] d = dump();
            // Half the dump, the pipe left open: the copy waits for the rest.
            p.getOutputStream().write(d, 0, d.length / 2);
            p.getOutputStream().flush();
            for (int i = 0; i < 1500 && listed(tmp).isEmpty(); i++) {
                Thread.sleep(20);
            }
            assertThat(listed(tmp)).singleElement().asString().startsWith("moelab-trace").endsWith(".pt");
            // SIGTERM, the pipe still open (Process.destroy would close it, ending the copy normally).
            assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor()).isZero();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(listed(tmp)).as(Files.readString(dir.resolve("out.txt"))).isEmpty();
        } finally {
            p.destroyForcibly();
        }
    }

    private static List<String> listed(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(f -> f.getFileName().toString()).toList();
        }
    }

    @Test
    void evaluateReadsTheDumpAsItsJsonForm() throws IOException {
        Path pt = Files.write(dir.resolve("expert_distribution_recorder_1.pt"), dump());
        Path json = Files.writeString(dir.resolve("dump.json"), """
                {"rank": 0, "logical_count": [[[0, 0, 0], [1, 2, 3], [0, 0, 0], [0, 0, 0]],
                                              [[0, 0, 0], [4, 0, 6], [7, 0, 0], [0, 0, 0]]]}
                """);
        JsonNode fromPt = results(CliRunner.run(evaluate(pt.toString())));
        assertThat(fromPt.get("windows").asInt()).isEqualTo(2);
        JsonNode fromJson = results(CliRunner.run(evaluate(json.toString())));
        assertThat(fromPt.toString()).contains("balancedness");
        assertThat(fromPt).isEqualTo(fromJson);
        // From standard input too, told from its content.
        assertThat(CliRunner.runWithStdin(dump(), evaluate("-")).exitCode()).isZero();
        Result table = CliRunner.run("eplb", "evaluate", "--trace", pt.toString(), "--window", "1", "--replicas",
                "4", "--groups", "1", "--nodes", "1", "--gpus", "2", "--algorithms", "static");
        assertThat(table.out().lines().findFirst()).hasValue("trace: " + pt + " (2 steps, 2 layers x 3 experts)");
    }

    /**
     * {@code sim} and {@code sim sweep} read a dump through the same reader: its 2 passes of the 2 layers x 3 experts
     * left after the dense ones are dropped, against a model of that shape, from a file and from standard input (a
     * copy, read twice), and a dump of another shape is refused against the model.
     */
    @Test
    void simAndSimSweepRunOnTheDump() throws IOException {
        Path pt = Files.write(dir.resolve("expert_distribution_recorder_1.pt"), dump());
        Path model = Files.writeString(dir.resolve("two-layers.json"), "{\"moe_layers\": 2, \"experts\": 3, "
                + "\"top_k\": 1, \"hidden\": 64, \"expert_ffn\": 32}");
        Result sim = CliRunner.run("sim", "--trace", pt.toString(), "--model", model.toString(), "--cluster",
                "1x2-h100", "--policies", "none,deepseek", "--rebalance-every", "1", "--out",
                dir.resolve("sim").toString());
        assertThat(sim.exitCode()).as(sim.err()).isZero();
        assertThat(sim.out().lines().findFirst()).hasValue("trace: " + pt + " (2 steps, 2 layers x 3 experts)");
        JsonNode summary = JsonMapper.builder().build().readTree(dir.resolve("sim/summary.json").toFile());
        assertThat(summary.toString()).contains("deepseek");
        Result stdin = CliRunner.runWithStdin(dump(), "sim", "--trace", "-", "--model", model.toString(),
                "--cluster", "1x2-h100", "--policies", "none", "--out", dir.resolve("stdin").toString());
        assertThat(stdin.exitCode()).as(stdin.err()).isZero();
        assertThat(stdin.out().lines().findFirst())
                .hasValue("trace: standard input (2 steps, 2 layers x 3 experts)");
        Result sweep = CliRunner.run("sim", "sweep", "--trace", pt.toString(), "--model", model.toString(),
                "--cluster", "1x2-h100", "--policies", "none", "--redundants", "1,3", "--out",
                dir.resolve("sweep").toString());
        assertThat(sweep.exitCode()).as(sweep.err()).isZero();
        assertThat(dir.resolve("sweep/sweep.json")).isRegularFile();
        Path wide = Files.writeString(dir.resolve("four-layers.json"), "{\"moe_layers\": 4, \"experts\": 3, "
                + "\"top_k\": 1, \"hidden\": 64, \"expert_ffn\": 32}");
        Result shape = CliRunner.run("sim", "--trace", pt.toString(), "--model", wide.toString(), "--cluster",
                "1x2-h100", "--out", dir.resolve("shape").toString());
        assertThat(shape.errLines()).containsExactly(
                "error: --trace: has 2 MoE layers x 3 experts, but model four-layers.json has 4 x 3");
    }

    @Test
    void aBadDumpIsOneErrorLineNamingIt() throws IOException {
        byte[] bytes = dump();
        Path pt = Files.write(dir.resolve("cut.pt"), java.util.Arrays.copyOf(bytes, bytes.length - 30));
        Result r = CliRunner.run(evaluate(pt.toString()));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: " + pt + ": corrupt zip archive: zip END header not found");
    }
}
