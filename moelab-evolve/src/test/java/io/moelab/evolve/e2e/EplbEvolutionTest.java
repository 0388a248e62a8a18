package io.moelab.evolve.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.evolve.config.EvolveConfig;
import io.moelab.evolve.llm.CostLedger;
import io.moelab.evolve.llm.LlmEnsemble;
import io.moelab.evolve.run.EvolutionRun;
import io.moelab.evolve.run.EvolveSettings;
import io.moelab.evolve.run.RunListener;
import io.moelab.evolve.run.RunSummary;
import io.moelab.evolve.task.Task;
import io.moelab.evolve.task.Tasks;
import io.moelab.evolve.testing.RunMain;
import io.moelab.evolve.testing.ScriptedChatServer;
import io.moelab.evolve.testing.ScriptedChatServer.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The EPLB task end to end: a real OpenAI-compatible HTTP server on loopback answers with scripted edits of the
 * Java candidate, which is compiled and scored in child JVMs (the small {@code eplb:quick} suite).
 */
class EplbEvolutionTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A line of the initial program's evolve block that every child below keeps. */
    private static final String ANCHOR = "        int experts = weight.experts();";
    private static final String POLICY = "        boolean hierarchical = topology.groups() % topology.nodes() == 0;";

    @TempDir
    Path tmp;
    ScriptedChatServer server;

    @BeforeEach
    void start() {
        server = ScriptedChatServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static String edit(String from, String to) {
        return "Here is my change.\n```\n<<<<<<< SEARCH\n" + from + "\n=======\n" + to + "\n>>>>>>> REPLACE\n```\n";
    }

    static String after(String extra) {
        return edit(ANCHOR, ANCHOR + "\n" + extra);
    }

    private Path config(String yaml) throws Exception {
        Path cfg = tmp.resolve("config.yaml");
        Files.writeString(cfg, """
                checkpoint_interval: 2
                llm:
                  retries: 2
                database:
                  num_islands: 1
                evaluator:
                  timeout: 12   # generous: a loaded CI machine must not time out honest candidates
                """ + yaml);
        return cfg;
    }

    static List<JsonNode> trace(Path out) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve("trace.jsonl"))) {
            lines.add(JSON.readTree(l));
        }
        return lines;
    }

    /** Runs the quick EPLB task for {@code iterations} against the scripted server into {@code out}. */
    private RunSummary runQuick(int iterations, Path out) throws Exception {
        Task task = Tasks.resolve("eplb:quick");
        EvolveSettings s = EvolveConfig.defaults(task.fitnessMetric()).read(config("")).iterations(iterations)
                .model("scripted").apiBase(server.apiBase()).build(null);
        CostLedger ledger = new CostLedger();
        return new EvolutionRun(task, s, LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null), ledger, out,
                RunListener.NONE).run(false);
    }

    @Test
    void improvingEditWinsAndEveryFailingCandidateIsRecorded() throws Exception {
        server.enqueue(
                Reply.content(edit(POLICY, "        boolean hierarchical = false; // global packing balances better")),
                Reply.content(after("        while (experts >= 0) { Thread.onSpinWait(); }")),      // hangs
                Reply.content(after("        if (experts > 0) { System.exit(3); }")),                // exits
                Reply.content(after("        if (experts > 0) { throw new IllegalStateException(\"boom\"); }")),
                Reply.content(after("        int broken = ;")),                                      // no compile
                Reply.content("I think the program is already optimal."),                        // no edit
                Reply.raw(200, "{\"choices\": [{\"message\": "),                                 // malformed...
                Reply.status(429).withHeader("Retry-After", "0"),                               // ...rate limited
                Reply.content(after("        long[] waste = new long[1_000_000_000]; // 8 GB, beyond the heap cap")),
                Reply.status(500), Reply.status(500), Reply.status(500));                      // server down
        Path out = tmp.resolve("run");
        RunSummary summary = runQuick(8, out);

        List<JsonNode> t = trace(out);
        assertThat(t).hasSize(9);
        assertThat(t.get(1).get("outcome").asString()).isEqualTo("improved");
        assertThat(summary.bestId()).isEqualTo("1");
        assertThat(summary.bestFitness()).isGreaterThan(summary.initialFitness());
        assertThat(error(t, 2)).isEqualTo("timeout");
        assertThat(t.get(2).get("seconds").asDouble()).isLessThan(30);
        assertThat(error(t, 3)).isEqualTo("exit");
        assertThat(t.get(3).get("error_message").asString()).contains("code 3");
        assertThat(error(t, 4)).isEqualTo("exception");
        assertThat(t.get(4).get("error_message").asString()).contains("IllegalStateException").contains("boom");
        assertThat(error(t, 5)).isEqualTo("compile_error");
        assertThat(t.get(5).get("error_message").asString()).contains("EvolvedBalancer.java:");
        assertThat(error(t, 6)).isEqualTo("no_edit");
        assertThat(error(t, 7)).isIn("out_of_memory", "exception");
        assertThat(t.get(7).get("error_message").asString()).contains("OutOfMemoryError");
        assertThat(error(t, 8)).isEqualTo("llm_error");
        // Iteration 7 needed three calls (malformed, 429, success); iteration 8 three 500s.
        assertThat(server.requestCount()).isEqualTo(12);
        assertThat(Files.readString(out.resolve("best/EvolvedBalancer.java"))).contains("hierarchical = false");
        JsonNode info = JSON.readTree(out.resolve("best/best_program_info.json").toFile());
        assertThat(info.get("metrics").get("combined_score").asDouble()).isEqualTo(summary.bestFitness());
        // The compiler's complaint reaches the next prompt.
        String lastPrompt = server.requests().get(9).get("messages").get(1).get("content").asString();
        assertThat(lastPrompt).contains("compile_error").contains("illegal start of expression");
    }

    /**
     * Candidates that report a score of their own from inside the harness's JVM: each printed or wrote 1000 and
     * became the run's best when the stage's stdout or metrics file was the score. Now each is a failure.
     */
    @Test
    void candidatesThatFakeTheirScoreFail() throws Exception {
        String write = "            try { java.nio.file.Files.writeString(java.nio.file.Path.of(\"%s\"), \"%s\"); }"
                + " catch (java.io.IOException x) { throw new java.io.UncheckedIOException(x); }";
        String fake = "{\\\"combined_score\\\": 1000, \\\"validity\\\": 1}";
        server.enqueue(
                Reply.content(after("        if (experts > 0) { System.out.println(\"" + fake
                        + "\"); System.exit(0); }")),
                Reply.content(after("        if (experts > 0) {\n" + write.formatted("metrics.json", fake)
                        + "\n            System.exit(0);\n        }")),
                Reply.content(after("        if (experts > 0) {\n" + write.formatted("eplb-results.txt",
                        "moelab-eplb-results 1\\nstage 1 suite quick\\nplan 1\\n0 0 0 0 0 0 0 0\\nend 16\\n")
                        + "\n            System.exit(0);\n        }")));
        Path out = tmp.resolve("run");
        RunSummary summary = runQuick(3, out);

        List<JsonNode> t = trace(out);
        assertThat(t).hasSize(4);
        for (int i = 1; i <= 3; i++) {
            assertThat(Files.readString(out.resolve("programs/" + t.get(i).get("program_id").asString() + ".java")))
                    .as("iteration %d's edit applied", i).contains("System.exit(0)");
        }
        assertThat(error(t, 1)).isEqualTo("no_metrics");
        assertThat(error(t, 2)).isEqualTo("no_metrics");
        assertThat(error(t, 3)).isEqualTo("invalid_output");
        assertThat(t.get(3).get("error_message").asString()).contains("no replica");
        assertThat(summary.bestId()).isEqualTo("0");
        assertThat(summary.bestFitness()).isEqualTo(summary.initialFitness()).isLessThan(100);
    }

    @Test
    void runKilledWithSigkillResumesToTheTotal() throws Exception {
        server.fallback(req -> Reply.content(after("        int unused" + System.nanoTime() % 1000 + " = 0;")));
        Path cfg = config("");
        Path out = tmp.resolve("run");
        Process child = launch(out, cfg, 6, "fresh");
        // Wait until three iterations are in the trace, then kill without warning.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && lines(out) < 4 && child.isAlive()) {
            Thread.sleep(50);
        }
        assertThat(child.isAlive()).as("child still running when killed").isTrue();
        new ProcessBuilder("kill", "-KILL", String.valueOf(child.pid())).start().waitFor();
        child.waitFor(30, TimeUnit.SECONDS);
        List<JsonNode> before = trace(out);
        assertThat(before.size()).isBetween(4, 6);

        Process resumed = launch(out, cfg, 6, "resume");
        assertThat(resumed.waitFor(180, TimeUnit.SECONDS)).isTrue();
        assertThat(resumed.exitValue()).as(Files.readString(tmp.resolve("child.log"))).isZero();
        List<JsonNode> after = trace(out);
        assertThat(after.subList(0, before.size())).isEqualTo(before);
        assertThat(after.stream().map(n -> n.get("iteration").asLong()).sorted().toList())
                .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(after.stream().filter(n -> n.get("program_id").isString())).allSatisfy(n ->
                assertThat(out.resolve("programs/" + n.get("program_id").asString() + ".java")).exists());
        // Only iterations without a trace line were asked for again (at most the ones in flight repeat).
        assertThat(server.requestCount()).isBetween(6, 6 + 1);
    }

    private Process launch(Path out, Path cfg, int iterations, String mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), RunMain.class.getName(),
                "eplb:quick", server.apiBase(), String.valueOf(iterations), out.toString(), cfg.toString(), mode)
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
    }

    private static int lines(Path out) throws Exception {
        Path trace = out.resolve("trace.jsonl");
        return Files.exists(trace) ? (int) Files.readAllLines(trace).stream().filter(l -> l.endsWith("}")).count() : 0;
    }

    private static String error(List<JsonNode> t, int i) {
        JsonNode e = t.get(i).get("error");
        return e == null || e.isNull() ? null : e.asString();
    }
}
