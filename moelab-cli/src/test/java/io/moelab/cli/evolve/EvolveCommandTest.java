package io.moelab.cli.evolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** {@code moelab evolve} and {@code evolve init} as users call them. */
class EvolveCommandTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String POLICY = "        boolean hierarchical = topology.groups() % topology.nodes() == 0;";

    @TempDir
    Path dir;

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

    @Test
    void replayedRunWritesTraceBestAndResumes() throws Exception {
        Path replay = dir.resolve("replay.jsonl");
        String improve = "<<<<<<< SEARCH\n" + POLICY + "\n=======\n        boolean hierarchical = false;\n>>>>>>> REPLACE";
        Files.write(replay, List.of(
                line(1, improve), line(2, "nothing to change"), line(3, "still nothing")));
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
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        Path out = dir.resolve("run");
        assertBad(CliRunner.run("evolve", "--task", "eplb", "--iterations", "3"), "--out");
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
        assertBad(withModel(out, "--api-key-env", "MOELAB_NO_SUCH_KEY_VAR"), "MOELAB_NO_SUCH_KEY_VAR");
        assertBad(withModel(out, "--eval-timeout", "0"), "--eval-timeout");
        assertBad(withModel(out, "--budget", "-1"), "error: --budget: must be at least 0 USD, got -1.0");
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
    }

    /** {@code evolve} on the EPLB task with a model and an endpoint (never reached), plus {@code extra}. */
    private static Result withModel(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("evolve", "--task", "eplb", "--iterations", "3", "--out",
                out.toString(), "--model", "m", "--api-base", "http://127.0.0.1:1/v1"));
        args.addAll(List.of(extra));
        return CliRunner.run(args.toArray(String[]::new));
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
