package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.Topology;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The figures a report derives from a policy's totals and per-step arrays, and from the deployment, worked by hand:
 * the command line prints and writes them (mutation testing found them unread by this module's tests).
 */
class ReportFiguresTest {

    /**
     * Four steps of 1, 3, 2 and 10 ms (stalls included), 12 ms serving and 4 ms stalled, 3200 tokens, 8 ms of the
     * average GPU's compute.
     */
    private static PolicyResult result() {
        return new PolicyResult("p", 3200, 0.012, 0.004, 0.008, 1, 0, 0, 0.001, 0.003, 6000, 1,
                new double[] {1e-3, 3e-3, 2e-3, 10e-3}, new double[] {0.5, 1, 0.75, 0.25},
                new double[] {1e-3, 3e-3, 2e-3, 2e-3}, new double[] {0.5e-3, 0.5e-3, 1.5e-3, 1.5e-3},
                new double[] {4e-3, 0, 0, 0});
    }

    @Test
    void aPolicysFiguresFromItsTotalsAndSteps() {
        PolicyResult r = result();
        assertThat(r.totalSeconds()).isCloseTo(0.016, within(1e-15));
        assertThat(r.throughputTokensPerSecond()).isCloseTo(200_000, within(1e-9));
        // Sorted 1, 2, 3, 10 ms: the median halfway between 2 and 3; the 99th percentile at rank 2.97, 97% of the
        // way from 3 to 10 (NumPy's linear rule).
        assertThat(r.p50StepMs()).isCloseTo(2.5, within(1e-12));
        assertThat(r.p99StepMs()).isCloseTo(3 + 0.97 * 7, within(1e-12));
        // The mean step is the wall-clock over the steps: 16 ms / 4.
        assertThat(r.meanStepMs()).isCloseTo(4, within(1e-12));
        assertThat(r.meanGpuBalancedness()).isCloseTo(0.625, within(1e-15));
        assertThat(r.gpuUtilization()).isCloseTo(0.5, within(1e-15));
        assertThat(r.meanDispatchMs()).isCloseTo(2, within(1e-12));
        assertThat(r.meanExpertMs()).isCloseTo(1, within(1e-12));
        assertThat(r.meanCombineMs()).isCloseTo(1, within(1e-12));
    }

    /**
     * A model of 5 MoE layers whose experts hold 3 x 10,000 x 10,000 one-byte weights (3e8 bytes), 6 experts on 2 GPUs
     * with 8 slots per layer: 4 slots x 5 layers x 3e8 = 6e9 bytes per GPU, exactly 6 GB.
     */
    @Test
    void theDeploymentsFiguresByHand() {
        ModelSpec model = new ModelSpec("m", 5, 6, 1, 10_000, 10_000, 1, 1, 0, 0, 0);
        Topology topology = new Topology(8, 1, 1, 2);
        assertThat(report(model, topology, 3).redundant()).isEqualTo(2);
        assertThat(report(model, topology, 3).expertBytesPerGpu()).isEqualTo(4 * 5 * 3e8);
        // They fit in 6 GB exactly, not in 5.999.
        assertThat(report(model, topology, 6).expertsFitInHbm()).isTrue();
        assertThat(report(model, topology, 5.999).expertsFitInHbm()).isFalse();
        assertThat(report(model, topology, 80).expertsFitInHbm()).isTrue();
        // No redundancy: slots equal the experts.
        assertThat(report(model, new Topology(6, 1, 1, 2), 80).redundant()).isZero();
    }

    private static SimulationReport report(ModelSpec model, Topology topology, double hbmGB) {
        ClusterSpec cluster = new ClusterSpec("c", 1, 2, 1, 1, 1, 1, 1, 0, 0, hbmGB);
        return new SimulationReport(model, cluster, topology, Simulation.Options.of(10, 10), 4, List.of(result()));
    }

    /** The step model's utilization of a step that takes no time is 0, not 0 / 0. */
    @Test
    void aStepOfNoTimeUsesNoGpu() {
        assertThat(new StepModel.StepCost(0, 0, 0, 1, 0, 0, 0).utilization()).isZero();
        assertThat(new StepModel.StepCost(4e-6, 1, 1e-6, 1, 0, 0, 0).utilization()).isCloseTo(0.25, within(1e-15));
    }
}
