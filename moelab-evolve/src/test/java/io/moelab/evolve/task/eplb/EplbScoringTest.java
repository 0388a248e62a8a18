package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.DeepSeekBalancer;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.evolve.eval.CascadeEvaluator;
import io.moelab.evolve.eval.Evaluation;
import io.moelab.evolve.eval.EvaluatorSettings;
import io.moelab.evolve.task.StageScorer;
import io.moelab.evolve.task.Tasks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evolve process scores an EPLB candidate from the placements its stage recorded, never from what the
 * candidate's JVM prints or writes as a score.
 */
class EplbScoringTest {
    /** A line of the initial program that runs on every rebalance. */
    private static final String ANCHOR = "        int experts = weight.experts();";

    @TempDir
    Path dir;

    private Evaluation evaluate(String code, String name) throws Exception {
        EvaluatorSettings settings = EvaluatorSettings.defaults().withTimeout(Duration.ofSeconds(60));
        return new CascadeEvaluator(Tasks.resolve("eplb:quick"), settings, "combined_score")
                .evaluate(code, dir.resolve(name));
    }

    /** The initial program with {@code extra} run first thing in every rebalance. */
    private static String cheat(String extra) {
        String program = EplbTask.initialProgram();
        assertThat(program).contains(ANCHOR);
        return program.replace(ANCHOR, ANCHOR + "\n        if (experts > 0) {\n" + extra + "\n        }");
    }

    @Test
    void honestCandidateIsScoredFromItsPlacementsWithTheHarnessNumbers() throws Exception {
        Evaluation e = evaluate(EplbTask.initialProgram(), "honest");
        assertThat(e.error()).as(e.errorMessage()).isNull();
        // The initial program is DeepSeek's EPLB: the same procedure in process gives the same sums, bit for bit.
        BalancerAlgorithm reference = new DeepSeekBalancer();
        double sum = 0;
        List<EplbWorkloads.Case> cases = EplbWorkloads.stageOneCases();
        for (EplbWorkloads.Case c : cases) {
            Placement first = reference.rebalance(BalancingRequest.of(c.first(), c.topology()));
            sum += PlacementEvaluator.score(first, c.first()).gpuBalancedness();
            Placement second = reference.rebalance(new BalancingRequest(c.second(), List.of(c.first()),
                    c.topology(), first));
            sum += PlacementEvaluator.score(second, c.second()).gpuBalancedness();
        }
        assertThat(e.metrics().get("stage1_balancedness")).isEqualTo(sum / (2 * cases.size()));
        double total = 0;
        for (var supplier : EplbWorkloads.suite("quick").workloads()) {
            EplbWorkloads.Workload w = supplier.get();
            List<LoadMatrix> windows = w.windows();
            double b = 0;
            Placement previous = null;
            for (int i = 0; i + 1 < windows.size(); i++) {
                previous = reference.rebalance(new BalancingRequest(windows.get(i),
                        windows.subList(Math.max(0, i - 4), i), w.topology(), previous));
                b += PlacementEvaluator.score(previous, windows.get(i + 1)).gpuBalancedness();
            }
            b /= windows.size() - 1;
            assertThat(e.metrics().get("balancedness_" + w.key())).as(w.key()).isEqualTo(b);
            total += b;
        }
        double balancedness = total / 2;
        double ms = e.metrics().get("rebalance_ms");
        assertThat(e.metrics().get("balancedness")).isEqualTo(balancedness);
        assertThat(e.metrics().get("combined_score"))
                .isCloseTo(90 * balancedness + Math.min(10, 10 / Math.max(ms, 1e-3)) - Math.max(0, ms - 10),
                        within(1e-9));
        assertThat(e.metrics().get("timed_calls")).isBetween(5.0, 200.0);
    }

    @Test
    void candidateThatPrintsAScoreAndExitsFails() throws Exception {
        Evaluation e = evaluate(cheat("""
                    System.out.println("{\\"combined_score\\": 1000, \\"validity\\": 1}");
                    System.exit(0);"""), "printer");
        assertThat(e.error()).isEqualTo("no_metrics");
        assertThat(e.errorMessage()).contains("stage 1: exited without writing eplb-results.txt");
        assertThat(e.metrics()).doesNotContainKey("combined_score");
    }

    @Test
    void candidateThatWritesItsStageMetricsAndExitsFails() throws Exception {
        Evaluation e = evaluate(cheat("""
                    try {
                        java.nio.file.Files.writeString(java.nio.file.Path.of("metrics.json"),
                                "{\\"combined_score\\": 1000, \\"validity\\": 1}");
                    } catch (java.io.IOException x) {
                        throw new java.io.UncheckedIOException(x);
                    }
                    System.exit(0);"""), "writer");
        assertThat(e.error()).isEqualTo("no_metrics");
        assertThat(e.metrics()).doesNotContainKey("combined_score");
    }

    @Test
    void candidateThatForgesResultsWithAnInvalidPlacementFails() throws Exception {
        // Case 1 is one layer of 8 experts in 8 slots: expert 0 in every slot leaves 1..7 without a replica.
        Evaluation e = evaluate(cheat("""
                    try {
                        java.nio.file.Files.writeString(java.nio.file.Path.of("eplb-results.txt"),
                                "moelab-eplb-results 1\\nstage 1 suite quick\\nplan 1\\n0 0 0 0 0 0 0 0\\nend 16\\n");
                    } catch (java.io.IOException x) {
                        throw new java.io.UncheckedIOException(x);
                    }
                    System.exit(0);"""), "forger");
        assertThat(e.error()).isEqualTo("invalid_output");
        assertThat(e.errorMessage()).contains("case 1 (", "no replica");
        assertThat(e.metrics()).doesNotContainKey("combined_score");
    }

    @Test
    void malformedTruncatedOrMissingFilesAreFailuresWithAReason() throws Exception {
        StageScorer scorer = EplbTask.scorer("quick");
        assertThat(scorer.score(1, dir.resolve("none.txt")).error()).isEqualTo("no_metrics");
        String header = "moelab-eplb-results 1\nstage 1 suite quick\n";
        assertThat(score(scorer, 1, "")).startsWith("invalid_metrics: ").contains("no final newline");
        assertThat(score(scorer, 1, "{\"combined_score\": 1000}\n")).contains("expected 'moelab-eplb-results 1'");
        assertThat(score(scorer, 2, header)).contains("expected 'stage 2 suite quick'");
        assertThat(score(scorer, 1, header)).isEqualTo("invalid_metrics: eplb-results.txt: cut short after line 2");
        assertThat(score(scorer, 1, header + "plan 1\n0 1 2 x 4 5 6 7\n"))
                .contains("'x' is not an expert id");
        assertThat(score(scorer, 1, header + "error made_up\nwhatever\n")).contains("unknown error kind 'made_up'");
        assertThat(score(scorer, 1, header + "error exception\nrebalance threw\n"))
                .isEqualTo("exception: rebalance threw");
        assertThat(score(scorer, 1, header + "plan 1\n0 1 2 3 4 5 6\n")).startsWith("invalid_output: case 1 (")
                .contains("7 slots");
    }

    @Test
    void honestResultsScoreAndEveryCutOfThemFails() throws Exception {
        StageScorer scorer = EplbTask.scorer("quick");
        BalancerAlgorithm reference = new DeepSeekBalancer();
        EplbResults.Writer w = new EplbResults.Writer(1, "quick");
        for (EplbWorkloads.Case c : EplbWorkloads.stageOneCases()) {
            Placement first = reference.rebalance(BalancingRequest.of(c.first(), c.topology()));
            w.plan(first);
            w.plan(reference.rebalance(new BalancingRequest(c.second(), List.of(c.first()), c.topology(), first)));
        }
        String text = w.finish();
        Path file = dir.resolve("ok.txt");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        StageScorer.Verdict ok = scorer.score(1, file);
        assertThat(ok.error()).as(ok.errorMessage()).isNull();
        assertThat(ok.metrics()).containsKeys("combined_score", "stage1_balancedness");
        // Cut at every line end: the end line is what says the file is whole.
        for (int at = text.indexOf('\n'); at < text.length() - 1; at = text.indexOf('\n', at + 1)) {
            Files.writeString(file, text.substring(0, at + 1), StandardCharsets.UTF_8);
            assertThat(scorer.score(1, file).error()).as("cut after byte " + at).isEqualTo("invalid_metrics");
        }
        Files.writeString(file, text + "end 16\n", StandardCharsets.UTF_8);
        assertThat(scorer.score(1, file).errorMessage()).contains("text after the end");
    }

    private String score(StageScorer scorer, int stage, String text) throws Exception {
        Path file = dir.resolve("results.txt");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        StageScorer.Verdict v = scorer.score(stage, file);
        return v.error() + ": " + v.errorMessage();
    }
}
