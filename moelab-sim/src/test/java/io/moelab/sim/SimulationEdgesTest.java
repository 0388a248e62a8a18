package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.StaticBalancer;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulation at its edges, on one MoE layer of two experts (top-1) on small clusters: rescaled steps without
 * tokens, the progress it reports, a rebalance interval as long as the trace, what the check before a run plans on,
 * the measured planning time and the 2^53 limit at exactly 2^53.
 */
class SimulationEdgesTest {
    private static final ModelSpec TINY = new ModelSpec("tiny", 1, 2, 1, 100, 10, 1, 2, 0, 0, 0);
    /** One node of two GPUs: 1 TFLOP/s, 1 TB/s HBM, 1 GB/s NVLink (2 us), 0.5 GB/s network (10 us). */
    private static final ClusterSpec ONE_NODE = cluster(1, 2);

    private static ClusterSpec cluster(int nodes, int gpusPerNode) {
        return new ClusterSpec("test", nodes, gpusPerNode, 1, 1.0, 1, 1, 0.5, 2, 10, 80);
    }

    private static ExpertLoadTrace trace(double[]... steps) {
        List<LoadMatrix> list = new ArrayList<>();
        for (double[] s : steps) {
            list.add(LoadMatrix.of(new double[][] {s}, "step"));
        }
        return ExpertLoadTrace.of(list);
    }

    private static Simulation.Options options(int k, int w, int redundant, double tokensPerStep, double planning) {
        return new Simulation.Options(k, w, redundant, 0, false, planning, tokensPerStep,
                StepModel.Options.defaults());
    }

    /**
     * Rescaling keeps a step without tokens at none (not 0 x 1000 / 0): it serves in no time, perfectly balanced, and
     * the two other steps serve 1000 tokens each.
     */
    @Test
    void aRescaledStepWithoutTokensServesNothing() {
        ExpertLoadTrace t = trace(new double[] {30, 10}, new double[] {0, 0}, new double[] {10, 30});
        PolicyResult r = new Simulation(t, TINY, ONE_NODE, options(10, 10, 0, 1000, 0))
                .run(Policy.parse("none"), Simulation.Progress.NONE);
        assertThat(r.tokens()).isCloseTo(2000, within(1e-9));
        assertThat(r.stepSeconds()[1]).isZero();
        assertThat(r.balancedness()).containsExactly(new double[] {2.0 / 3, 1, 2.0 / 3}, within(1e-15));
        // Steps 0 and 2 by hand: 750 and 250 tokens on the two GPUs; 375 of the busy GPU's tokens come from the
        // other one: 75,000 B at 1 GB/s + 2 us each way, and 750 x 6000 FLOPs at 1 TFLOP/s.
        assertThat(r.stepSeconds()[0]).isCloseTo(2 * 77e-6 + 4.5e-6, within(1e-15));
        assertThat(r.stepSeconds()[2]).isCloseTo(r.stepSeconds()[0], within(1e-15));
    }

    /** Progress is told every 64 steps and at the last, counting a step once per policy. */
    @Test
    void progressIsToldEverySixtyFourStepsAndAtTheEnd() {
        double[][] steps = new double[130][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new double[] {1 + i % 3, 2};
        }
        List<long[]> told = new ArrayList<>();
        new Simulation(trace(steps), TINY, ONE_NODE, options(1000, 10, 0, 0, 0))
                .run(Policy.parseAll(List.of("none", "static")), (done, total) -> told.add(new long[] {done, total}));
        assertThat(told).containsExactly(new long[] {128, 260}, new long[] {256, 260}, new long[] {260, 260});
    }

    /**
     * A rebalance interval as long as the trace never plans, so a policy that could not plan here runs (as `none`
     * does); one step shorter, it would plan before the last step and is refused before any policy runs. Two experts
     * in two groups cannot be kept on three nodes.
     */
    @Test
    void aPolicyThatNeverPlansIsNotCheckedForPlanning() {
        ModelSpec grouped = new ModelSpec("grouped", 1, 2, 1, 100, 10, 2, 2, 0, 0, 0);
        ClusterSpec three = cluster(3, 1);
        ExpertLoadTrace t = trace(new double[] {3, 1}, new double[] {1, 3}, new double[] {2, 2});
        SimulationReport report = new Simulation(t, grouped, three, options(3, 1, 1, 0, 0))
                .run(Policy.parseAll(List.of("deepseek:hierarchical")), Simulation.Progress.NONE);
        assertThat(report.policies().getFirst().rebalances()).isZero();
        assertThatThrownBy(() -> new Simulation(t, grouped, three, options(2, 1, 1, 0, 0))
                .run(Policy.parseAll(List.of("deepseek:hierarchical")), Simulation.Progress.NONE))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("policies: 'deepseek:hierarchical' cannot plan for 3 GPUs on 3 nodes");
    }

    /**
     * The check before a run plans on what the first rebalance plans on: with steps rescaled to 1000 tokens, steps
     * [30, 10] and [10, 30] become [750, 250] and [250, 750], a window of [1000, 1000] (not the trace's [40, 40]).
     */
    @Test
    void theCheckBeforeARunPlansOnTheRescaledWindowAsTheRebalanceDoes() {
        RecordingBalancer recorder = new RecordingBalancer(new StaticBalancer());
        List<BalancingRequest> seen = recorder.requests;
        ExpertLoadTrace t = trace(new double[] {30, 10}, new double[] {10, 30}, new double[] {5, 5},
                new double[] {1, 3});
        PolicyResult r = new Simulation(t, TINY, ONE_NODE, options(2, 2, 0, 1000, 0))
                .run(List.of(new Policy("rec", recorder)), Simulation.Progress.NONE).policies().getFirst();
        assertThat(r.rebalances()).isEqualTo(1);
        // The check's plan, then the rebalance before step 2 (no warm-up: planning time is given).
        assertThat(seen).hasSize(2);
        for (BalancingRequest request : seen) {
            assertThat(request.weight().toArray()).isDeepEqualTo(new double[][] {{1000, 1000}});
            assertThat(request.history()).isEmpty();
            assertThat(request.previous()).isEqualTo(new Simulation(t, TINY, ONE_NODE, options(2, 2, 0, 1000, 0))
                    .initialPlacement());
        }
    }

    /** Without rescaling the check plans on the trace's own window, [40, 40], as the rebalance does. */
    @Test
    void theCheckBeforeARunPlansOnTheTracesWindowWhenNotRescaled() {
        RecordingBalancer recorder = new RecordingBalancer(new StaticBalancer());
        List<BalancingRequest> seen = recorder.requests;
        ExpertLoadTrace t = trace(new double[] {30, 10}, new double[] {10, 30}, new double[] {5, 5});
        new Simulation(t, TINY, ONE_NODE, options(2, 2, 0, 0, 0))
                .run(List.of(new Policy("rec", recorder)), Simulation.Progress.NONE);
        assertThat(seen).hasSize(2);
        for (BalancingRequest request : seen) {
            assertThat(request.weight().toArray()).isDeepEqualTo(new double[][] {{40, 40}});
        }
    }

    /** Planning times from 0 to ten thousand seconds, both ends included, and nothing beyond. */
    @Test
    void planningTimesAreAcceptedUpToBothEnds() {
        assertThat(options(1, 1, 0, 0, 0).planningSeconds()).isZero();
        assertThat(options(1, 1, 0, 0, Simulation.MAX_PLANNING_SECONDS).planningSeconds()).isEqualTo(1e4);
        assertThatThrownBy(() -> options(1, 1, 0, 0, Math.nextUp(Simulation.MAX_PLANNING_SECONDS)))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("planning-ms: must be a number");
        assertThatThrownBy(() -> options(1, 1, 0, 0, -Double.MIN_VALUE))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("planning-ms: must be a number");
    }

    /** The deployment a simulation and its step model describe: slots per layer, groups, nodes and GPUs. */
    @Test
    void theDeploymentIsTheModelsOnTheCluster() {
        ExpertLoadTrace t = trace(new double[] {30, 10}, new double[] {10, 30});
        Simulation s = new Simulation(t, TINY, ONE_NODE, options(1, 1, 2, 0, 0));
        assertThat(s.topology()).isEqualTo(new Topology(4, 1, 1, 2));
        StepModel m = new StepModel(TINY, ONE_NODE, StepModel.Options.defaults());
        assertThat(m.topology(6)).isEqualTo(new Topology(6, 1, 1, 2));
        assertThat(m.model()).isSameAs(TINY);
        assertThat(m.cluster()).isSameAs(ONE_NODE);
    }

    /**
     * Measured planning times are the plans' own: positive, and within the wall-clock of the whole run that made them
     * (a bound, not a speed: it holds on any machine).
     */
    @Test
    void measuredPlanningLiesWithinTheRun() {
        ExpertLoadTrace t = trace(new double[] {30, 10}, new double[] {10, 30}, new double[] {5, 5},
                new double[] {1, 3});
        Simulation s = new Simulation(t, TINY, ONE_NODE, options(1, 1, 0, 0, Double.NaN));
        long start = System.nanoTime();
        PolicyResult r = s.run(Policy.parse("deepseek"), Simulation.Progress.NONE);
        double elapsed = (System.nanoTime() - start) * 1e-9;
        assertThat(r.rebalances()).isEqualTo(3);
        assertThat(r.planningSeconds()).isPositive().isLessThanOrEqualTo(elapsed);
        assertThat(r.stallSeconds()).isGreaterThanOrEqualTo(r.planningSeconds());
    }

    /** Loads that add up to exactly 2^53 over the trace can be planned on; 2 more cannot. */
    @Test
    void aTotalOfExactlyTwoToThe53IsPlannable() {
        double half = 0x1p52;
        Simulation s = new Simulation(trace(new double[] {half, 1}, new double[] {half, 1}), TINY, ONE_NODE,
                options(1, 2, 0, 0, 0));
        assertThat(s.run(Policy.parse("deepseek"), Simulation.Progress.NONE).rebalances()).isEqualTo(1);
        assertThatThrownBy(() -> new Simulation(trace(new double[] {half, 1}, new double[] {half + 2, 1}), TINY,
                ONE_NODE, options(1, 2, 0, 0, 0)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("trace: layer 0, expert 0 receives ");
    }
}
