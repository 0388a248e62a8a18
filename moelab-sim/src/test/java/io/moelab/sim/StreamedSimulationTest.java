package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.StepSink;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A simulation reads its trace step by step (every policy over one reading) instead of holding it, and serves
 * exactly what the held trace served.
 */
class StreamedSimulationTest {
    private static final ModelSpec MODEL = new ModelSpec("small", 4, 64, 8, 1024, 512, 4, 2, 1, 512,
            8.0 * 1024 * 1024);
    private static final ClusterSpec CLUSTER = ClusterSpec.preset("2x4-h100");
    private static ExpertLoadTrace skewed;

    @BeforeAll
    static void trace() {
        skewed = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(4, 64, 300, 5));
    }

    private static Simulation.Options options(int k, int w, int history, boolean overlap, double planning,
                                              double tokens, StepModel.Routing routing, int redundant) {
        return new Simulation.Options(k, w, redundant, history, overlap, planning, tokens,
                new StepModel.Options(routing, 2, 1));
    }

    @Test
    void servesWhatTheHeldTraceServed() {
        ExpertLoadTrace first120 = ExpertLoadTrace.of(skewed.stepList().subList(0, 120));
        record Case(ExpertLoadTrace trace, Simulation.Options options) {
        }
        List<Case> cases = List.of(
                new Case(skewed, options(50, 50, 16, false, 1e-3, 0, StepModel.Routing.EVEN, 8)),
                // Windows that overlap (K < W) and that leave steps out (K > W).
                new Case(skewed, options(20, 30, 3, false, 2e-3, 0, StepModel.Routing.EVEN, 8)),
                new Case(skewed, options(40, 15, 16, true, 5e-3, 1000, StepModel.Routing.NODE_LOCAL, -1)),
                // Every history window there is, plans that take longer than the next rebalance (skipped).
                new Case(skewed, options(7, 25, Integer.MAX_VALUE, true, 0.05, 0, StepModel.Routing.NODE_LOCAL, 8)),
                new Case(first120, options(1, 3, 2, false, 0, 4096, StepModel.Routing.EVEN, 0)),
                new Case(first120, options(3, 1, 0, false, 1e-3, 0, StepModel.Routing.EVEN, 8)),
                // Never rebalances.
                new Case(first120, options(120, 50, 16, false, 1e-3, 0, StepModel.Routing.EVEN, 8)));
        List<Policy> policies = Policy.parseAll(List.of("none", "deepseek", "moelab", "moelab:global",
                "deepseek:hierarchical"));
        for (Case c : cases) {
            SimulationReport report = new Simulation(c.trace(), MODEL, CLUSTER, c.options())
                    .run(policies, Simulation.Progress.NONE);
            for (int i = 0; i < policies.size(); i++) {
                PolicyResult expected = HeldTraceReference.run(c.trace(), MODEL, CLUSTER, c.options(),
                        policies.get(i));
                assertSame(report.policies().get(i), expected, c.options() + " " + policies.get(i).name());
            }
        }
    }

    private static void assertSame(PolicyResult actual, PolicyResult expected, String what) {
        assertThat(actual.policy()).as(what).isEqualTo(expected.policy());
        // Bit for bit: every per-step series and total.
        assertThat(actual.stepSeconds()).as(what).isEqualTo(expected.stepSeconds());
        assertThat(actual.balancedness()).as(what).isEqualTo(expected.balancedness());
        assertThat(actual.dispatchSeconds()).as(what).isEqualTo(expected.dispatchSeconds());
        assertThat(actual.expertSeconds()).as(what).isEqualTo(expected.expertSeconds());
        assertThat(actual.combineSeconds()).as(what).isEqualTo(expected.combineSeconds());
        assertThat(new double[] {actual.tokens(), actual.servingSeconds(), actual.stallSeconds(),
            actual.computeSeconds(), actual.planningSeconds(), actual.migrationSeconds(), actual.migratedBytes()})
                .as(what).isEqualTo(new double[] {expected.tokens(), expected.servingSeconds(),
                    expected.stallSeconds(), expected.computeSeconds(), expected.planningSeconds(),
                    expected.migrationSeconds(), expected.migratedBytes()});
        assertThat(new long[] {actual.expertCopies(), actual.rebalances(), actual.skipped(), actual.unfinished()})
                .as(what).isEqualTo(new long[] {expected.expertCopies(), expected.rebalances(), expected.skipped(),
                    expected.unfinished()});
    }

    /** Delivers the skewed trace's steps (or fewer), counting readings and steps delivered. */
    private static final class CountingReader implements TraceSource.Reader {
        private final ExpertLoadTrace trace;
        int readings;
        long delivered;

        CountingReader(ExpertLoadTrace trace) {
            this.trace = trace;
        }

        @Override
        public void read(StepSink sink) {
            readings++;
            for (LoadMatrix step : trace.stepList()) {
                delivered++;
                sink.accept(step);
            }
        }
    }

    @Test
    void readsTheTraceOnceToCheckItTheFirstKStepsToCheckPlansAndOncePerRun() {
        CountingReader reader = new CountingReader(skewed);
        TraceSource source = TraceSource.of(reader);
        assertThat(reader.delivered).isEqualTo(300);
        Simulation simulation = new Simulation(source, MODEL, CLUSTER,
                options(50, 50, 16, false, 1e-3, 4096, StepModel.Routing.EVEN, 8));
        // 300 steps of at most 4096 tokens x top-8 x 4 layers cannot sum past 2^53: no reading to add them up.
        assertThat(reader.delivered).isEqualTo(300);
        simulation.run(Policy.parseAll(List.of("none", "deepseek", "moelab")), Simulation.Progress.NONE);
        // The first plan's 50 steps (the reading stops there), then every policy over one reading.
        assertThat(reader.readings).isEqualTo(3);
        assertThat(reader.delivered).isEqualTo(300 + 50 + 300);

        // A sweep: every variant over one reading too, after each variant's first K steps.
        CountingReader swept = new CountingReader(skewed);
        TraceSource sweptSource = TraceSource.of(swept);
        Simulation.Options base = options(50, 50, 16, false, 1e-3, 0, StepModel.Routing.EVEN, -1);
        List<Sweep.Variant> variants = new ArrayList<>(Sweep.intervals(base, List.of(20, 60, 400), true));
        variants.addAll(Sweep.redundants(base, List.of(8, 16), MODEL, CLUSTER));
        List<Sweep.Point> points = Sweep.run(sweptSource, MODEL, CLUSTER, Policy.parseAll(List.of("none", "moelab")),
                variants, Simulation.Progress.NONE);
        assertThat(points).hasSize(5);
        // K = 400 never plans: it reads no steps to check a plan.
        assertThat(swept.delivered).isEqualTo(300 + 20 + 60 + 50 + 50 + 300);
        assertThat(swept.readings).isEqualTo(6);
    }

    @Test
    void aTraceThatChangesBetweenReadingsIsRefused() {
        List<LoadMatrix> steps = skewed.stepList().subList(0, 100);
        String message = "trace: changed while it was being read: it had 100 steps of 4 layers x 64 experts when "
                + "first read (keep trace files as they are while a simulation runs)";
        // Fewer steps, more steps, another shape.
        List<List<LoadMatrix>> later = List.of(steps.subList(0, 99), skewed.stepList().subList(0, 101),
                List.of(LoadMatrix.ofFlat(2, 64, new double[128], "s")));
        for (List<LoadMatrix> second : later) {
            int[] readings = {0};
            TraceSource source = TraceSource.of(sink -> (readings[0]++ == 0 ? steps : second).forEach(sink::accept));
            Simulation simulation = new Simulation(source, MODEL, CLUSTER,
                    options(50, 50, 16, false, 1e-3, 0, StepModel.Routing.EVEN, 8));
            assertThatThrownBy(() -> simulation.run(Policy.parseAll(List.of("none")), Simulation.Progress.NONE))
                    .isInstanceOf(InvalidInputException.class).hasMessage(message);
        }
        // Two shapes in one reading: the error ExpertLoadTrace.of gives.
        List<LoadMatrix> mixed = new ArrayList<>(steps.subList(0, 2));
        mixed.add(LoadMatrix.ofFlat(2, 64, new double[128], "s"));
        assertThatThrownBy(() -> TraceSource.of(sink -> mixed.forEach(sink::accept)))
                .hasMessage("step 2: is 2 layers x 64 experts, expected 4 layers x 64 experts");
        assertThatThrownBy(() -> TraceSource.of(sink -> { })).hasMessage("trace: has no steps");
    }

    @Test
    void anErrorOfTheSimulationLeavesTheReaderAsItIs() {
        // A file reader names its file in the errors it passes on ("trace.json: ..."): an error thrown while
        // simulating a step must come out as it was thrown, not as the file's.
        TraceSource.Reader naming = sink -> {
            try {
                skewed.stepList().forEach(sink::accept);
            } catch (InvalidInputException e) {
                throw e.in("trace.json");
            }
        };
        BalancerAlgorithm deepseek = Algorithms.byName("deepseek");
        int[] plans = {0};
        BalancerAlgorithm failing = new BalancerAlgorithm() {
            @Override
            public String name() {
                return "failing";
            }

            @Override
            public String description() {
                return "deepseek, until its third plan";
            }

            @Override
            public Placement rebalance(BalancingRequest request) {
                if (++plans[0] == 3) {
                    throw new InvalidInputException("weight", "refused");
                }
                return deepseek.rebalance(request);
            }
        };
        Simulation simulation = new Simulation(TraceSource.of(naming), MODEL, CLUSTER,
                options(50, 50, 16, false, 1e-3, 0, StepModel.Routing.EVEN, 8));
        assertThatThrownBy(() -> simulation.run(List.of(new Policy("failing", failing)), Simulation.Progress.NONE))
                .isInstanceOf(InvalidInputException.class).hasMessage("weight: refused");
    }

    @Test
    void rescaledStepsAreAddedUpForThePlanningCheckOnlyWhenTheyMightPassTwoToThe53() {
        // A step's tokens split over layer 1's experts 3 and 4: rescaled to T tokens it routes T x top-8 x 4 layers,
        // half to each; the check's bound counts all of them on one expert.
        double[] cells = new double[4 * 64];
        cells[64 + 3] = 50;
        cells[64 + 4] = 50;
        LoadMatrix step = LoadMatrix.ofFlat(4, 64, cells, "s");
        CountingReader reader = new CountingReader(ExpertLoadTrace.of(List.of(step, step)));
        TraceSource source = TraceSource.of(reader);
        // 2 steps x 1e15 x 32 / 2 = 3.2e16 tokens on expert 3: past 2^53 (about 9.0e15).
        assertThatThrownBy(() -> new Simulation(source, MODEL, CLUSTER,
                options(1, 1, 0, false, 0, 1e15, StepModel.Routing.EVEN, 8)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("trace: layer 1, expert 3 receives " + Numbers.plain(3.2e16) + " tokens over the 2 steps, "
                        + "above 2^53, which planning cannot sum or square reliably");
        assertThat(reader.readings).isEqualTo(2);
        // At most 2 x 1e14 x 32 = 6.4e15 tokens anywhere: below 2^53, and not read again to be sure.
        new Simulation(source, MODEL, CLUSTER, options(1, 1, 0, false, 0, 1e14, StepModel.Routing.EVEN, 8));
        assertThat(reader.readings).isEqualTo(2);
        // At most 2 x 2^47 x 32 = 2^53: no room for rounding, so read; 2^52 in fact, and accepted.
        new Simulation(source, MODEL, CLUSTER, options(1, 1, 0, false, 0, 0x1p47, StepModel.Routing.EVEN, 8));
        assertThat(reader.readings).isEqualTo(3);
    }
}
