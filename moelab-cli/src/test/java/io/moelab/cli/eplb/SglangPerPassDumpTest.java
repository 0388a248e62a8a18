package io.moelab.cli.eplb;

import static io.moelab.cli.eplb.EvaluateReports.results;
import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Wherever {@code --trace} is taken, one rank's SGLang per_pass dump reads as the stat form of its logical loads. The
 * fixtures are moelab-eplb's {@code torch/per_pass_rank1.pt} and {@code per_pass_no_map.pt} (make_fixtures.py there
 * works the loads by hand): two passes, 3 layers x 4 physical slots of 3 experts, layer 0 zero throughout.
 */
class SglangPerPassDumpTest {
    @TempDir
    Path dir;

    private Path fixture(String name) throws IOException {
        try (InputStream in = SglangPerPassDumpTest.class.getResourceAsStream(name)) {
            return Files.write(dir.resolve(name), in.readAllBytes());
        }
    }

    private static String[] evaluate(String trace) {
        return new String[] {"eplb", "evaluate", "--trace", trace, "--window", "1", "--replicas", "4", "--gpus", "2",
                "--algorithms", "deepseek,static", "--warmup-ms", "0", "--format", "json"};
    }

    /**
     * {@code sim} and {@code sim sweep} (with {@code redundants}) on {@code trace} against a two-layer model of
     * {@code experts} experts both run, sim's first line giving the trace's {@code shape}.
     */
    private void assertSimAndSweepRun(Path trace, int experts, String shape, String redundants) throws IOException {
        Path model = Files.writeString(dir.resolve("two-layers.json"), "{\"moe_layers\": 2, \"experts\": " + experts
                + ", \"top_k\": 1, \"hidden\": 64, \"expert_ffn\": 32}");
        Result sim = CliRunner.run("sim", "--trace", trace.toString(), "--model", model.toString(), "--cluster",
                "1x2-h100", "--policies", "none,deepseek", "--rebalance-every", "1", "--out",
                dir.resolve("sim").toString());
        assertThat(sim.exitCode()).as(sim.err()).isZero();
        assertThat(sim.out().lines().findFirst()).hasValue("trace: " + trace + " (" + shape + ")");
        Result sweep = CliRunner.run("sim", "sweep", "--trace", trace.toString(), "--model", model.toString(),
                "--cluster", "1x2-h100", "--policies", "none", "--redundants", redundants, "--out",
                dir.resolve("sweep").toString());
        assertThat(sweep.exitCode()).as(sweep.err()).isZero();
        assertThat(dir.resolve("sweep/sweep.json")).isRegularFile();
    }

    @Test
    void evaluateSimAndSweepReadThePerPassDumpAsItsLogicalLoads() throws IOException {
        Path pt = fixture("sglang_per_pass_rank1.pt");
        Path json = Files.writeString(dir.resolve("logical.json"), """
                {"logical_count": [[[1, 7, 3], [4, 1, 0]], [[0, 2, 0], [0, 0, 7]]]}
                """);
        JsonNode fromPt = results(CliRunner.run(evaluate(pt.toString())));
        assertThat(fromPt.get("windows").asInt()).isEqualTo(2);
        assertThat(fromPt).isEqualTo(results(CliRunner.run(evaluate(json.toString()))));
        assertSimAndSweepRun(pt, 3, "2 steps, 2 layers x 3 experts", "1,3");
    }

    /**
     * A directory of one dump's per-rank files (moelab-eplb's {@code torch/ranks/}, make_fixtures.py working the sums)
     * reads as one trace, step i the ranks' pass i summed: three passes, 2 layers x 4 experts after the dense layer.
     */
    @Test
    void evaluateSimAndSweepReadADirectoryOfRankFilesAsTheirSum() throws IOException {
        Path ranks = Files.createDirectory(dir.resolve("ranks"));
        for (int r = 0; r < 3; r++) {
            String name = "expert_distribution_recorder_1718000000.25_" + r + ".pt";
            try (InputStream in = SglangPerPassDumpTest.class.getResourceAsStream("sglang_ranks/" + name)) {
                Files.write(ranks.resolve(name), in.readAllBytes());
            }
        }
        Path json = Files.writeString(dir.resolve("summed.json"), """
                {"logical_count": [[[1, 1, 3, 1], [3, 0, 0, 0]], [[0, 3, 4, 2], [0, 0, 0, 1]],
                                   [[2, 0, 1, 1], [0, 3, 0, 0]]]}
                """);
        JsonNode fromDir = results(CliRunner.run(evaluate(ranks.toString())));
        assertThat(fromDir.get("windows").asInt()).isEqualTo(3);
        assertThat(fromDir).isEqualTo(results(CliRunner.run(evaluate(json.toString()))));
        assertSimAndSweepRun(ranks, 4, "3 steps, 2 layers x 4 experts", "0,2");
        // An output naming one of the directory's rank files would replace an input it read: refused up front.
        Path rank0 = ranks.resolve("expert_distribution_recorder_1718000000.25_0.pt");
        byte[] before = Files.readAllBytes(rank0);
        String[] args = evaluate(ranks.toString());
        Result over = CliRunner.run(java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("--output", rank0.toString())).toArray(String[]::new));
        assertThat(over.exitCode()).isEqualTo(2);
        assertThat(over.errLines()).containsExactly("error: --output: " + rank0 + " is also the input --trace; write "
                + "the output to another file");
        assertThat(Files.readAllBytes(rank0)).isEqualTo(before);
        // Two dumps' files in one directory: one error line naming both.
        Files.copy(ranks.resolve("expert_distribution_recorder_1718000000.25_1.pt"), ranks.resolve("later_1.pt"));
        Result twice = CliRunner.run(evaluate(ranks.toString()));
        assertThat(twice.exitCode()).isEqualTo(2);
        assertThat(twice.errLines()).containsExactly("error: " + ranks + ": expert_distribution_recorder_1718000000"
                + ".25_1.pt and later_1.pt are both rank 1 (a directory holds one dump's files, one per rank)");
    }

    @Test
    void aPerPassDumpWithoutItsMapIsOneErrorLine() throws IOException {
        Path pt = fixture("sglang_per_pass_no_map.pt");
        Result r = CliRunner.run(evaluate(pt.toString()));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: " + pt + ": is an SGLang per_pass or per_token dump without "
                + "\"last_physical_to_logical_map\": its counts are of physical slots, and nothing says which logical "
                + "expert each holds");
    }
}
