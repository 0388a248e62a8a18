package io.moelab.eplb.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.StaticBalancer;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plan-on-window-i, score-on-window-i+1 protocol. */
class WindowedEvaluationTest {
    private static final Topology TWO_GPUS = new Topology(4, 1, 1, 2);
    private static final WindowedEvaluation.Options FAST = new WindowedEvaluation.Options(2, 16, 0, 1, false);

    /** A trace of one layer, a step per row (also the evaluation report's tests' traces). */
    static ExpertLoadTrace trace(double[]... steps) {
        List<LoadMatrix> list = new ArrayList<>();
        for (double[] s : steps) {
            list.add(LoadMatrix.of(new double[][] {s}, "step"));
        }
        return ExpertLoadTrace.of(list);
    }

    /** A static placement that records every request it is given into {@code seen}. */
    private static BalancerAlgorithm recorder(List<BalancingRequest> seen) {
        return new BalancerAlgorithm() {
            @Override
            public String name() {
                return "recorder";
            }

            @Override
            public String description() {
                return "records requests";
            }

            @Override
            public Placement rebalance(BalancingRequest request) {
                seen.add(request);
                return new StaticBalancer().rebalance(request);
            }
        };
    }

    @Test
    void scoresEachPlanOnTheNextWindow() {
        // Windows of 2 steps: w0 = [2,2,2,2], w1 = [4,2,2,0], w2 = [1,1,1,1]; one trailing step is dropped.
        ExpertLoadTrace t = trace(new double[] {1, 1, 1, 1}, new double[] {1, 1, 1, 1},
                new double[] {3, 1, 0, 0}, new double[] {1, 1, 2, 0},
                new double[] {0, 1, 0, 1}, new double[] {1, 0, 1, 0},
                new double[] {9, 9, 9, 9});
        EvaluationReport r = WindowedEvaluation.run(t, TWO_GPUS, List.of(new StaticBalancer()), FAST,
                WindowedEvaluation.Progress.NONE);
        assertThat(r.windows()).isEqualTo(3);
        assertThat(r.scoredWindows()).isEqualTo(2);
        AlgorithmReport a = r.algorithms().getFirst();
        // Static placement: GPU 0 holds experts 0,1; GPU 1 holds 2,3.
        // Scored on w1: GPU loads 6 and 2 -> 4/6. Scored on w2: 2 and 2 -> 1.
        assertThat(a.windowGpuBalancedness()).containsExactly(new double[] {4.0 / 6, 1.0}, within(1e-12));
        assertThat(a.meanGpuBalancedness()).isCloseTo((4.0 / 6 + 1) / 2, within(1e-12));
        assertThat(a.minGpuBalancedness()).isCloseTo(4.0 / 6, within(1e-12));
        assertThat(a.meanExpertsMoved()).isZero();
        assertThat(a.timing().samples()).isEqualTo(2);
    }

    @Test
    void plansSeeTheLatestWindowAndBoundedHistory() {
        List<BalancingRequest> seen = new ArrayList<>();
        BalancerAlgorithm recorder = recorder(seen);
        double[][] steps = new double[8][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new double[] {i, 1, 1, 1};
        }
        WindowedEvaluation.Options options = new WindowedEvaluation.Options(1, 2, 0, 1, false);
        WindowedEvaluation.run(trace(steps), TWO_GPUS, List.of(recorder), options, WindowedEvaluation.Progress.NONE);
        // The warm-up makes one call first; the measured plans follow, one per window but the last.
        List<BalancingRequest> plans = seen.subList(seen.size() - 7, seen.size());
        for (int i = 0; i < plans.size(); i++) {
            BalancingRequest req = plans.get(i);
            assertThat(req.weight().load(0, 0)).as("plan %d plans on window %d", i, i).isEqualTo(i);
            List<Double> history = req.history().stream().map(m -> m.load(0, 0)).toList();
            List<Double> expected = new ArrayList<>();
            for (int h = Math.max(0, i - 2); h < i; h++) {
                expected.add((double) h);
            }
            assertThat(history).as("history of plan %d, oldest first", i).isEqualTo(expected);
            assertThat(req.previousPlacement().isPresent()).as("previous placement").isEqualTo(i > 0);
        }
    }

    /**
     * Warm-up calls and the extra timed calls carry the placement before them, as the plans do: they were all made
     * without one, so an algorithm's migration step (moelab's) ran first in the timed plans, compiled there.
     */
    @Test
    void warmUpAndExtraTimedCallsCarryThePlacementBefore() {
        List<BalancingRequest> seen = new ArrayList<>();
        BalancerAlgorithm recorder = recorder(seen);
        double[][] steps = new double[4][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new double[] {i, 1, 1, 1};
        }
        // 4 windows, 3 plans, 8 timed calls: 5 beyond the plans; a warm-up of 100 ms makes many calls.
        WindowedEvaluation.Options options = new WindowedEvaluation.Options(1, 2, 100, 8, false);
        WindowedEvaluation.run(trace(steps), TWO_GPUS, List.of(recorder), options, WindowedEvaluation.Progress.NONE);
        int warmUp = seen.size() - 8;
        assertThat(warmUp).isGreaterThan(3);
        for (int c = 0; c < seen.size(); c++) {
            BalancingRequest req = seen.get(c);
            int window = (int) req.weight().load(0, 0);
            boolean extra = c >= warmUp + 3;
            assertThat(req.previousPlacement().isPresent()).as("call %d (window %d)", c, window)
                    .isEqualTo(extra || window > 0);
            if (c < warmUp) {
                assertThat(window).as("warm-up call %d", c).isEqualTo(c % 3);
            }
        }
    }

    /** With hindsight every call, warm-up and extra ones included, plans on the window it is scored on, alone. */
    @Test
    void hindsightCallsPlanOnTheNextWindowAlone() {
        List<BalancingRequest> seen = new ArrayList<>();
        BalancerAlgorithm recorder = recorder(seen);
        double[][] steps = new double[3][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new double[] {i, 1, 1, 1};
        }
        WindowedEvaluation.run(trace(steps), TWO_GPUS, List.of(recorder),
                new WindowedEvaluation.Options(1, 2, 20, 6, true), WindowedEvaluation.Progress.NONE);
        for (BalancingRequest req : seen) {
            assertThat(req.weight().load(0, 0)).isGreaterThan(0);
            assertThat(req.history()).isEmpty();
            assertThat(req.previousPlacement()).isEmpty();
        }
    }

    @Test
    void needsTwoCompleteWindows() {
        ExpertLoadTrace t = trace(new double[] {1, 1, 1, 1}, new double[] {1, 1, 1, 1}, new double[] {1, 1, 1, 1});
        assertThatThrownBy(() -> WindowedEvaluation.run(t, TWO_GPUS, List.of(new StaticBalancer()), FAST,
                WindowedEvaluation.Progress.NONE))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("window:")
                .hasMessageContaining("3 steps");
    }

    /**
     * The last window is only scored, never planned on: it once escaped the planners' check and its loads near the
     * largest double turned every balancedness into NaN with exit code 0. Now it is named like any other window.
     */
    @Test
    void aScoredWindowBeyondTwoToThe53IsRefusedByName() {
        ExpertLoadTrace t = trace(new double[] {1, 2, 3, 4}, new double[] {1, 2, 3, 4}, new double[] {1, 1e300, 1, 1},
                new double[] {1, 1, 1, 1});
        assertThatThrownBy(() -> WindowedEvaluation.run(t, TWO_GPUS, List.of(new StaticBalancer()),
                new WindowedEvaluation.Options(2, 0, 0, 1, false), WindowedEvaluation.Progress.NONE))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("window 1 (steps 2-3), layer and expert [0][1]: load 1.0E300 is above 2^53 tokens, "
                        + "which planning cannot sum or square reliably");
    }

    @Test
    void timingHasAtLeastTheRequestedSamples() {
        ExpertLoadTrace t = trace(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1});
        EvaluationReport r = WindowedEvaluation.run(t, TWO_GPUS, List.of(new StaticBalancer()),
                new WindowedEvaluation.Options(1, 0, 0, 5, false), WindowedEvaluation.Progress.NONE);
        Timing timing = r.algorithms().getFirst().timing();
        assertThat(timing.samples()).isEqualTo(5);
        assertThat(timing.medianMillis()).isGreaterThanOrEqualTo(0).isLessThanOrEqualTo(timing.p90Millis());
    }

    @Test
    void statsMatchNumpyConventions() {
        double[] v = {4, 1, 3, 2};
        assertThat(Stats.median(v)).isEqualTo(2.5);
        assertThat(Stats.quantile(v, 0.9)).isCloseTo(3.7, within(1e-12));
        assertThat(Stats.mean(v)).isEqualTo(2.5);
        assertThat(Stats.min(v)).isEqualTo(1);
        assertThat(Stats.median(new double[0])).isNaN();
        // The ends and a lower quantile (numpy.quantile([1, 2, 3, 4], 0.25) = 1.75), and one sample.
        assertThat(Stats.quantile(v, 0)).isEqualTo(1);
        assertThat(Stats.quantile(v, 1)).isEqualTo(4);
        assertThat(Stats.quantile(v, 0.25)).isCloseTo(1.75, within(1e-12));
        assertThat(Stats.quantile(new double[] {5}, 0.9)).isEqualTo(5);
    }

    /**
     * The report's means against a recomputation from the protocol's definition: DeepSeek's balancer plans on the
     * latest window alone, so plan i is its placement of window i, scored on window i+1; experts moved average over
     * consecutive plans, colocated pairs over plans.
     */
    @Test
    void aggregatesEqualARecomputationFromTheDefinition() {
        ExpertLoadTrace t =
                SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(3, 16, 40, 9).withRouting(256, 4));
        Topology topology = new Topology(24, 4, 2, 8);
        WindowedEvaluation.Options options = new WindowedEvaluation.Options(5, 16, 0, 1, false);
        AlgorithmReport a = WindowedEvaluation.run(t, topology, List.of(Algorithms.byName("deepseek")), options,
                WindowedEvaluation.Progress.NONE).algorithms().getFirst();
        List<LoadMatrix> windows = t.windows(5);
        BalancerAlgorithm deepseek = Algorithms.byName("deepseek");
        int plans = windows.size() - 1;
        double[] gpu = new double[plans];
        double slot = 0;
        double node = 0;
        double moved = 0;
        double colocated = 0;
        Placement previous = null;
        for (int i = 0; i < plans; i++) {
            Placement plan = deepseek.rebalance(BalancingRequest.of(windows.get(i), topology));
            PlacementScore score = PlacementEvaluator.score(plan, windows.get(i + 1));
            gpu[i] = score.gpuBalancedness();
            slot += score.slotBalancedness();
            node += score.nodeBalancedness();
            colocated += score.colocatedPairs();
            if (previous != null) {
                moved += PlacementEvaluator.migration(previous, plan).expertsMoved();
            }
            previous = plan;
        }
        assertThat(a.windowGpuBalancedness()).containsExactly(gpu);
        assertThat(a.meanGpuBalancedness()).isCloseTo(Arrays.stream(gpu).average().orElseThrow(), within(1e-12));
        assertThat(a.minGpuBalancedness()).isEqualTo(Arrays.stream(gpu).min().orElseThrow());
        assertThat(a.meanSlotBalancedness()).isCloseTo(slot / plans, within(1e-12));
        assertThat(a.meanNodeBalancedness()).isCloseTo(node / plans, within(1e-12));
        assertThat(a.meanExpertsMoved()).isCloseTo(moved / (plans - 1), within(1e-12)).isPositive();
        assertThat(a.meanColocatedPairs()).isCloseTo(colocated / plans, within(1e-12));
        assertThat(a.timing().samples()).isEqualTo(plans);
    }
}
