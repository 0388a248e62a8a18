package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.Topology;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SweepTest {
    private static final ModelSpec MODEL = new ModelSpec("small", 2, 32, 4, 512, 256, 1, 2, 0, 0, 0);
    private static final ClusterSpec CLUSTER = ClusterSpec.preset("1x8-h100");
    /** 4 expert groups, which cannot be kept on {@link #THREE_NODES}' 3 nodes in hierarchical mode. */
    private static final ModelSpec GROUPED = new ModelSpec("grouped", 2, 32, 4, 512, 256, 4, 2, 0, 0, 0);
    private static final ClusterSpec THREE_NODES = ClusterSpec.preset("3x1-h100");
    private static final Simulation.Options GROUPED_BASE = new Simulation.Options(20, 20, -1, 4, false, 1e-3, 0,
            StepModel.Options.defaults());

    private static ExpertLoadTrace groupedTrace(int steps) {
        return SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(2, 32, steps, 3).withRouting(1024, 4));
    }

    @Test
    void defaultRedundantsFillTheGpusThenAddOnePerGpu() {
        assertThat(Sweep.defaultRedundants(64, 32, 3)).containsExactly(0, 32, 64, 96);
        assertThat(Sweep.defaultRedundants(256, 32, 1)).containsExactly(0, 32);
        assertThat(Sweep.defaultRedundants(8, 32, 1)).containsExactly(24, 56);
        assertThat(Sweep.defaultRedundants(60, 8, 0)).containsExactly(4);
    }

    /**
     * The default counts are the first {@code more + 1} that fill the GPUs evenly, found one count at a time, and
     * stop where a placement's slots do: 65,528 experts on 8 GPUs listed 16 and 24 redundant (65,544 and 65,552
     * slots), and {@code sim sweep} without {@code --redundants} failed naming {@code --redundants}.
     */
    @Test
    void defaultRedundantsAreTheFirstCountsThatFillTheGpusAndFitAPlacement() {
        assertThat(Sweep.defaultRedundants(65_528, 8, 3)).containsExactly(0, 8);
        assertThat(Sweep.defaultRedundants(65_536, 8, 3)).containsExactly(0);
        assertThat(Sweep.defaultRedundants(65_536, 3, 3)).isEmpty(); // 65,538 slots at the fewest
        ModelSpec big = new ModelSpec("big", 1, 65_528, 1, 64, 64, 1, 2, 0, 0, 0);
        assertThat(Sweep.redundants(Simulation.Options.of(10, 10), Sweep.defaultRedundants(65_528, 8, 3), big,
                CLUSTER)).extracting(Sweep.Variant::value).containsExactly(0, 8);
        qt().withFixedSeed(0x5EEDL).withExamples(3000).forAll(integers().between(1, Topology.MAX_REPLICAS),
                integers().between(1, Topology.MAX_REPLICAS), integers().between(0, 5)).checkAssert(
                    (experts, gpus, more) -> {
                        List<Integer> expected = new ArrayList<>();
                        for (int r = 0; experts + r <= Topology.MAX_REPLICAS && expected.size() <= more; r++) {
                            int slots = experts + r;
                            if (slots >= gpus && slots % gpus == 0) {
                                expected.add(r);
                            }
                        }
                        assertThat(Sweep.defaultRedundants(experts, gpus, more))
                                .as("%d experts, %d GPUs, %d more", experts, gpus, more).isEqualTo(expected);
                    });
    }

    @Test
    void intervalVariantsMayPlanFromTheLastKSteps() {
        Simulation.Options base = Simulation.Options.of(100, 40);
        assertThat(Sweep.intervals(base, List.of(10, 50), true)).extracting(v -> v.options().window())
                .containsExactly(10, 50);
        assertThat(Sweep.intervals(base, List.of(10, 50), false)).extracting(v -> v.options().window())
                .containsExactly(40, 40);
    }

    @Test
    void variantsRunInAscendingOrderWhateverTheOrderGiven() {
        // The plots join a sweep's points in order; 8,0,4 drew a line from 8 back to 0 and on to 4.
        Simulation.Options base = Simulation.Options.of(100, 100);
        assertThat(Sweep.intervals(base, List.of(100, 10, 50), true)).extracting(Sweep.Variant::value)
                .containsExactly(10, 50, 100);
        assertThat(Sweep.intervals(base, List.of(100, 10, 50), true)).extracting(v -> v.options().rebalanceEvery())
                .containsExactly(10, 50, 100);
        assertThat(Sweep.redundants(base, List.of(16, 0, 8), MODEL, CLUSTER)).extracting(v -> v.options().redundant())
                .containsExactly(0, 8, 16);
    }

    @Test
    void runsEveryVariantInOrderAndRejectsBadRedundancyFirst() {
        ExpertLoadTrace trace = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(2, 32, 120, 3)
                .withRouting(1024, 4));
        Simulation.Options base = new Simulation.Options(20, 20, -1, 4, false, 0, 0, StepModel.Options.defaults());
        assertThatThrownBy(() -> Sweep.redundants(base, List.of(8, 5), MODEL, CLUSTER))
                .hasMessageStartingWith("redundant: 32 experts + 5 redundant = 37 slots");
        // -1 is the options' "default" sentinel; asked for in a sweep it was run as the default under the label -1.
        assertThatThrownBy(() -> Sweep.redundants(base, List.of(0, -1), MODEL, CLUSTER))
                .hasMessage("redundants: must be 0 or more, got -1");
        assertThatThrownBy(() -> Sweep.redundants(base, List.of(0, 8, 0), MODEL, CLUSTER))
                .hasMessage("redundants: lists a value twice: 0,8,0");
        assertThatThrownBy(() -> Sweep.intervals(base, List.of(20, 0), true))
                .hasMessage("intervals: must be at least 1 step, got 0");
        assertThatThrownBy(() -> Sweep.intervals(base, List.of(20, 60, 20), true))
                .hasMessage("intervals: lists a value twice: 20,60,20");
        List<Sweep.Variant> variants = new ArrayList<>(Sweep.intervals(base, List.of(20, 60), true));
        variants.addAll(Sweep.redundants(base, List.of(0, 8), MODEL, CLUSTER));
        List<Policy> policies = Policy.parseAll(List.of("none", "deepseek"));
        List<long[]> progress = new ArrayList<>();
        List<Sweep.Point> points = Sweep.run(trace, MODEL, CLUSTER, policies, variants,
                (done, total) -> progress.add(new long[] {done, total}));
        assertThat(points).extracting(Sweep.Point::parameter).containsExactly(Sweep.Parameter.REBALANCE_EVERY,
                Sweep.Parameter.REBALANCE_EVERY, Sweep.Parameter.REDUNDANT, Sweep.Parameter.REDUNDANT);
        assertThat(points).extracting(Sweep.Point::value).containsExactly(20, 60, 0, 8);
        assertThat(points.get(2).report().topology().replicas()).isEqualTo(32);
        assertThat(points.get(3).report().topology().replicas()).isEqualTo(40);
        assertThat(points.get(0).report().policies().get(1).rebalances()).isEqualTo(5);
        assertThat(points.get(1).report().policies().get(1).rebalances()).isEqualTo(1);
        // `none` does not depend on the interval.
        assertThat(points.get(0).report().policies().getFirst().stepSeconds())
                .containsExactly(points.get(1).report().policies().getFirst().stepSeconds());
        assertThat(progress.getLast()).containsExactly(4L * 2 * 120, 4L * 2 * 120);
    }

    @Test
    void aPolicyThatCannotPlanInALaterVariantIsRefusedBeforeAnyVariantRuns() {
        // 4 expert groups cannot be kept on 3 nodes. The interval sweep's run never rebalances (K = 200 > 120 steps),
        // so only the redundancy sweep's first rebalance found it, after the interval sweep had been simulated.
        ExpertLoadTrace trace = groupedTrace(120);
        List<Sweep.Variant> variants = new ArrayList<>(Sweep.intervals(GROUPED_BASE, List.of(200), true));
        variants.addAll(Sweep.redundants(GROUPED_BASE, List.of(1), GROUPED, THREE_NODES));
        List<Policy> policies = Policy.parseAll(List.of("none", "deepseek:hierarchical"));
        List<Long> progress = new ArrayList<>();
        String message = "policies: 'deepseek:hierarchical' cannot plan for 3 GPUs on 3 nodes with 4 expert groups: "
                + "hierarchical mode needs the G=4 expert groups to divide evenly over the N=3 nodes";
        assertThatThrownBy(() -> Sweep.requireCanRun(trace, GROUPED, THREE_NODES, policies, variants))
                .hasMessage(message);
        assertThatThrownBy(() -> Sweep.run(trace, GROUPED, THREE_NODES, policies, variants,
                (done, total) -> progress.add(done))).hasMessage(message);
        assertThat(progress).isEmpty();
        // The interval sweep alone never plans, and runs.
        assertThat(Sweep.run(trace, GROUPED, THREE_NODES, policies, variants.subList(0, 1), Simulation.Progress.NONE))
                .singleElement().extracting(p -> p.report().policies().get(1).rebalances()).isEqualTo(0);
    }

    /** Simulations made without {@link Sweep#requireCanRun} are checked by the run itself, before any runs. */
    @Test
    void simulationsMadeElsewhereAreCheckedBeforeAnyVariantRuns() {
        ExpertLoadTrace trace = groupedTrace(60);
        TraceSource source = TraceSource.of(trace);
        List<Sweep.Variant> variants = Sweep.redundants(GROUPED_BASE, List.of(1), GROUPED, THREE_NODES);
        List<Simulation> simulations = List.of(new Simulation(source, GROUPED, THREE_NODES, variants.get(0).options()));
        List<Long> progress = new ArrayList<>();
        assertThatThrownBy(() -> Sweep.run(variants, simulations, Policy.parseAll(List.of("none",
                "deepseek:hierarchical")), (done, total) -> progress.add(done)))
                .hasMessageStartingWith("policies: 'deepseek:hierarchical' cannot plan for 3 GPUs on 3 nodes");
        assertThat(progress).isEmpty();
        // The held trace's check is the streamed one's.
        assertThat(Sweep.requireCanRun(trace, GROUPED, THREE_NODES, Policy.parseAll(List.of("none")), variants))
                .hasSize(1);
    }

    @Test
    void anIntervalOfOneStepIsASweepPoint() {
        assertThat(Sweep.intervals(Simulation.Options.of(100, 100), List.of(2, 1), true))
                .extracting(Sweep.Variant::value).containsExactly(1, 2);
        assertThat(Sweep.Parameter.REBALANCE_EVERY.key()).isEqualTo("rebalance_every");
        assertThat(Sweep.Parameter.REDUNDANT.key()).isEqualTo("redundant");
    }
}
