package io.moelab.eplb.eval;

import static io.moelab.eplb.eval.WindowedEvaluationTest.trace;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.StaticBalancer;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.WindowSums;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the windowed evaluation's report holds beyond the balancedness means (WindowedEvaluationTest): each scored
 * window's bound, progress, names with hindsight, a single plan's experts moved, the timing's units, windows summed as
 * a trace was read, the options' ranges, and the report's own arithmetic, worked by hand.
 */
class WindowedEvaluationReportTest {
    /** One layer, two experts, one slot on each of two GPUs. */
    private static final Topology ONE_EACH = new Topology(2, 1, 1, 2);
    private static final WindowedEvaluation.Options ONE_STEP = new WindowedEvaluation.Options(1, 16, 0, 1, false);

    /**
     * Windows [1, 1], [3, 1], [1, 1] on one slot per GPU: the bound of window [3, 1] is its mean GPU load 2 over the
     * expert of 3 that some GPU must hold whole, 2/3; of [1, 1], 1. Each plan's window is scored against the bound of
     * the window it is scored on (not the one planned on).
     */
    @Test
    void eachScoredWindowHasItsOwnBound() {
        EvaluationReport r = WindowedEvaluation.run(trace(new double[] {1, 1}, new double[] {3, 1},
                new double[] {1, 1}), ONE_EACH, List.of(new StaticBalancer()), ONE_STEP,
                WindowedEvaluation.Progress.NONE);
        assertThat(r.windowBound()).containsExactly(new double[] {2.0 / 3, 1}, within(1e-15));
        assertThat(r.meanBound()).isCloseTo(5.0 / 6, within(1e-15));
        // The static placement is the best there is for two experts on two GPUs: it reaches the bound.
        assertThat(r.algorithms().getFirst().windowGpuBalancedness()).containsExactly(new double[] {2.0 / 3, 1},
                within(1e-15));
        assertThat(r.window()).isEqualTo(1);
        assertThat(r.windows()).isEqualTo(3);
        assertThat(r.layers()).isEqualTo(1);
        assertThat(r.experts()).isEqualTo(2);
        assertThat(r.topology()).isEqualTo(ONE_EACH);
    }

    /** Progress counts every plan of every algorithm, in turn: 3 plans of 2 algorithms. */
    @Test
    void progressCountsEveryPlanOfEveryAlgorithm() {
        List<int[]> told = new ArrayList<>();
        WindowedEvaluation.run(trace(new double[] {1, 2}, new double[] {2, 1}, new double[] {3, 1},
                new double[] {1, 3}), ONE_EACH, List.of(new StaticBalancer(), Algorithms.byName("deepseek")),
                ONE_STEP, (done, total) -> told.add(new int[] {done, total}));
        assertThat(told).containsExactly(new int[] {1, 6}, new int[] {2, 6}, new int[] {3, 6}, new int[] {4, 6},
                new int[] {5, 6}, new int[] {6, 6});
    }

    /** With hindsight the report says so in the algorithm's name; without, the name is the algorithm's own. */
    @Test
    void hindsightIsNamed() {
        ExpertLoadTrace t = trace(new double[] {1, 2}, new double[] {2, 1});
        assertThat(WindowedEvaluation.run(t, ONE_EACH, List.of(new StaticBalancer()), ONE_STEP.withHindsight(true),
                WindowedEvaluation.Progress.NONE).algorithms().getFirst().algorithm()).isEqualTo("static (hindsight)");
        assertThat(WindowedEvaluation.run(t, ONE_EACH, List.of(new StaticBalancer()), ONE_STEP,
                WindowedEvaluation.Progress.NONE).algorithms().getFirst().algorithm()).isEqualTo("static");
    }

    /**
     * Two windows make one plan and no rebalance after it: experts moved is 0, not 0 / 0, even for a balancer that
     * moves experts between plans.
     */
    @Test
    void aSinglePlanMovesNothing() {
        AlgorithmReport a = WindowedEvaluation.run(trace(new double[] {9, 1}, new double[] {1, 9}), ONE_EACH,
                List.of(Algorithms.byName("deepseek")), ONE_STEP, WindowedEvaluation.Progress.NONE)
                .algorithms().getFirst();
        assertThat(a.meanExpertsMoved()).isZero();
        assertThat(a.meanColocatedPairs()).isZero();
        assertThat(a.windowGpuBalancedness()).hasSize(1);
    }

    /**
     * The timing is of the calls themselves, in milliseconds: no call took longer than the whole evaluation that made
     * it (a bound that holds on any machine, not a speed).
     */
    @Test
    void timedCallsLieWithinTheEvaluation() {
        ExpertLoadTrace t = trace(new double[] {1, 2}, new double[] {2, 1}, new double[] {3, 1});
        long start = System.nanoTime();
        AlgorithmReport a = WindowedEvaluation.run(t, ONE_EACH, List.of(Algorithms.byName("deepseek")),
                new WindowedEvaluation.Options(1, 0, 0, 7, false), WindowedEvaluation.Progress.NONE)
                .algorithms().getFirst();
        double elapsedMillis = (System.nanoTime() - start) / 1e6;
        assertThat(a.timing().samples()).isEqualTo(7);
        assertThat(a.timing().medianMillis()).isGreaterThanOrEqualTo(0).isLessThanOrEqualTo(a.timing().p90Millis());
        assertThat(a.timing().p90Millis()).isLessThanOrEqualTo(elapsedMillis);
    }

    /** Windows summed as the trace was read give the report the trace gives, with the same checks. */
    @Test
    void windowSumsGiveTheTracesReport() {
        ExpertLoadTrace t = trace(new double[] {1, 2}, new double[] {2, 1}, new double[] {3, 1}, new double[] {1, 5},
                new double[] {4, 4});
        WindowedEvaluation.Options options = new WindowedEvaluation.Options(2, 16, 0, 1, false);
        EvaluationReport held = WindowedEvaluation.run(t, ONE_EACH, List.of(Algorithms.byName("deepseek")), options,
                WindowedEvaluation.Progress.NONE);
        EvaluationReport summed = WindowedEvaluation.run(WindowSums.of(t, 2), ONE_EACH,
                List.of(Algorithms.byName("deepseek")), options, WindowedEvaluation.Progress.NONE);
        assertThat(summed.windows()).isEqualTo(2).isEqualTo(held.windows());
        assertThat(summed.windowBound()).containsExactly(held.windowBound());
        assertThat(summed.algorithms().getFirst().windowGpuBalancedness())
                .containsExactly(held.algorithms().getFirst().windowGpuBalancedness());
        // Window [3, 3] planned, [4, 6] scored: one expert a GPU, GPU loads 4 and 6 whichever way round.
        assertThat(summed.algorithms().getFirst().windowGpuBalancedness()).containsExactly(5.0 / 6);
        assertThatThrownBy(() -> WindowedEvaluation.run(WindowSums.of(t, 3), ONE_EACH,
                List.of(new StaticBalancer()), options, WindowedEvaluation.Progress.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("windows of 3 steps, options say 2");
        assertThatThrownBy(() -> WindowedEvaluation.run(WindowSums.of(t, 3), ONE_EACH,
                List.of(new StaticBalancer()), new WindowedEvaluation.Options(3, 16, 0, 1, false),
                WindowedEvaluation.Progress.NONE))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("window: the trace has 5 steps, so windows of 3 give 1 complete window; at least 2 are "
                        + "needed (plan on one, score on the next)");
    }

    @Test
    void optionsAcceptTheirRangesEndsAndNothingBeyond() {
        new WindowedEvaluation.Options(1, 0, 0, 1, false);
        new WindowedEvaluation.Options(1, 0, RebalanceTimer.MAX_MILLIS, 1, false);
        assertThatThrownBy(() -> new WindowedEvaluation.Options(0, 0, 0, 1, false))
                .isInstanceOf(InvalidInputException.class).hasMessage("window: must be at least 1 step, got 0");
        assertThatThrownBy(() -> new WindowedEvaluation.Options(1, -1, 0, 1, false))
                .hasMessage("history: must be 0 or more windows, got -1");
        assertThatThrownBy(() -> new WindowedEvaluation.Options(1, 0, -1, 1, false))
                .hasMessage("warmup-ms: must be 0 to 3600000 ms, got -1");
        assertThatThrownBy(() -> new WindowedEvaluation.Options(1, 0, RebalanceTimer.MAX_MILLIS + 1, 1, false))
                .hasMessage("warmup-ms: must be 0 to 3600000 ms, got 3600001");
        assertThatThrownBy(() -> new WindowedEvaluation.Options(1, 0, 0, 0, false))
                .hasMessage("timed calls: must be at least 1, got 0");
        assertThat(WindowedEvaluation.Options.window(7))
                .isEqualTo(new WindowedEvaluation.Options(7, 16, 300, 10, false));
        assertThat(WindowedEvaluation.Options.window(7).withHindsight(true))
                .isEqualTo(new WindowedEvaluation.Options(7, 16, 300, 10, true));
        assertThat(WindowedEvaluation.Options.window(7).withHindsight(true).withHindsight(false))
                .isEqualTo(WindowedEvaluation.Options.window(7));
    }

    /** Durations in nanoseconds become milliseconds: 1, 3 and 2 ms have a median of 2 and a 90th percentile of 2.8. */
    @Test
    void timingIsInMillisecondsByHand() {
        Timing t = Timing.ofNanos(new double[] {1e6, 3e6, 2e6});
        assertThat(t.medianMillis()).isEqualTo(2);
        assertThat(t.p90Millis()).isCloseTo(2.8, within(1e-12));
        assertThat(t.samples()).isEqualTo(3);
        assertThat(Stats.mean(new double[0])).isNaN();
        assertThat(Stats.min(new double[0])).isNaN();
        assertThat(Stats.mean(new double[] {-1, 4})).isEqualTo(1.5);
    }

    /** A report with more algorithms appended keeps everything else, its bounds included. */
    @Test
    void aReportWithMoreAlgorithmsKeepsItsWindowsAndBounds() {
        EvaluationReport r = WindowedEvaluation.run(trace(new double[] {1, 1}, new double[] {3, 1},
                new double[] {1, 1}), ONE_EACH, List.of(new StaticBalancer()), ONE_STEP,
                WindowedEvaluation.Progress.NONE);
        EvaluationReport h = WindowedEvaluation.run(trace(new double[] {1, 1}, new double[] {3, 1},
                new double[] {1, 1}), ONE_EACH, List.of(new StaticBalancer()), ONE_STEP.withHindsight(true),
                WindowedEvaluation.Progress.NONE);
        EvaluationReport both = r.with(h.algorithms());
        assertThat(both.algorithms()).extracting(AlgorithmReport::algorithm)
                .containsExactly("static", "static (hindsight)");
        assertThat(both.windowBound()).isSameAs(r.windowBound());
        assertThat(both.scoredWindows()).isEqualTo(2);
        assertThat(both.meanBound()).isCloseTo(5.0 / 6, within(1e-15));
        assertThat(r.algorithms()).hasSize(1);
    }
}
