package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SimulationTest {
    /** A small DeepSeek-like model: 4 MoE layers of 64 experts, top-8. */
    private static final ModelSpec MODEL = new ModelSpec("small", 4, 64, 8, 1024, 512, 1, 2, 1, 512,
            8.0 * 1024 * 1024);
    private static final ClusterSpec CLUSTER = ClusterSpec.preset("2x4-h100");
    private static ExpertLoadTrace skewed;

    @BeforeAll
    static void trace() {
        skewed = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(4, 64, 600, 5));
    }

    /** K = W = 50, 8 redundant slots, 1 ms charged per plan (reproducible), stalls. */
    private static Simulation.Options options(boolean overlap) {
        return new Simulation.Options(50, 50, 8, 16, overlap, 1e-3, 0, StepModel.Options.defaults());
    }

    private static Map<String, PolicyResult> run(ExpertLoadTrace trace, ModelSpec model, ClusterSpec cluster,
                                                 Simulation.Options options, String... policies) {
        SimulationReport report = new Simulation(trace, model, cluster, options)
                .run(Policy.parseAll(List.of(policies)), Simulation.Progress.NONE);
        assertThat(report.policies()).extracting(PolicyResult::policy).containsExactly(policies);
        return report.policies().stream().collect(Collectors.toMap(PolicyResult::policy, Function.identity()));
    }

    @Test
    void onAUniformTraceEveryPolicyTies() {
        // Every expert equally loaded and no redundant slots: any placement gives every GPU the same load.
        List<LoadMatrix> steps = new ArrayList<>();
        double[][] flat = new double[4][64];
        for (double[] row : flat) {
            Arrays.fill(row, 512);
        }
        for (int t = 0; t < 200; t++) {
            steps.add(LoadMatrix.of(flat, "step"));
        }
        ExpertLoadTrace uniform = ExpertLoadTrace.of(steps);
        Simulation.Options options = new Simulation.Options(50, 50, 0, 16, true, 0, 0, StepModel.Options.defaults());
        Map<String, PolicyResult> r = run(uniform, MODEL, CLUSTER, options, "none", "deepseek", "moelab");
        PolicyResult none = r.get("none");
        for (PolicyResult p : r.values()) {
            assertThat(p.throughputTokensPerSecond()).isCloseTo(none.throughputTokensPerSecond(), within(1e-6));
            assertThat(p.stepSeconds()).containsExactly(none.stepSeconds(), within(1e-15));
            assertThat(p.balancedness()).containsOnly(1.0);
        }
        // moelab keeps a placement that is already balanced: nothing to move.
        assertThat(r.get("moelab").migratedBytes()).isZero();
        assertThat(none.tokens()).isEqualTo(200 * 64 * 512 / 8.0);
    }

    @Test
    void aPolicyThatCannotPlanForTheClusterIsRefusedBeforeAnyPolicyRuns() {
        // 4 expert groups cannot be kept on 3 nodes: hierarchical planning is impossible there. It failed at the
        // first rebalance, after `none` had been simulated, as eplb's "num_groups".
        ModelSpec grouped = new ModelSpec("grouped", 4, 64, 8, 1024, 512, 4, 2, 0, 0, 0);
        ClusterSpec threeNodes = ClusterSpec.preset("3x4-h100");
        Simulation simulation = new Simulation(skewed, grouped, threeNodes, options(false));
        List<Long> progress = new ArrayList<>();
        assertThatThrownBy(() -> simulation.run(Policy.parseAll(List.of("none", "deepseek:hierarchical")),
                (done, total) -> progress.add(done)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("policies: 'deepseek:hierarchical' cannot plan for 12 GPUs on 3 nodes with 4 "
                        + "expert groups: ")
                .hasMessageContaining("divide evenly over the N=3 nodes");
        assertThat(progress).isEmpty();
        // One group is counted in the singular ("with 1 expert groups").
        ModelSpec ungrouped = new ModelSpec("ungrouped", 4, 64, 8, 1024, 512, 1, 2, 0, 0, 0);
        assertThatThrownBy(() -> new Simulation(skewed, ungrouped, ClusterSpec.preset("2x1-h100"), options(false))
                .run(Policy.parseAll(List.of("deepseek:hierarchical")), Simulation.Progress.NONE))
                .hasMessageStartingWith("policies: 'deepseek:hierarchical' cannot plan for 2 GPUs on 2 nodes with 1 "
                        + "expert group: ");
        // The same policies on 2 nodes, and the default deepseek (global where groups do not fit) on 3, run.
        assertThat(run(skewed, grouped, CLUSTER, options(false), "none",
                "deepseek:hierarchical").get("deepseek:hierarchical").rebalances()).isEqualTo(11);
        assertThat(run(skewed, grouped, threeNodes, options(false), "none", "deepseek").get("deepseek").rebalances())
                .isEqualTo(11);
    }

    @Test
    void historyBeyondTheTraceIsTheWholeTrace() {
        // 600 steps in windows of 50 hold at most 11 earlier windows: 16 and Integer.MAX_VALUE ask for all of them.
        // The largest value overflowed (j + 1) * W into an IndexOutOfBoundsException and looped two billion times.
        Simulation.Options all = new Simulation.Options(50, 50, 8, 16, false, 1e-3, 0, StepModel.Options.defaults());
        Simulation.Options huge = new Simulation.Options(50, 50, 8, Integer.MAX_VALUE, false, 1e-3, 0,
                StepModel.Options.defaults());
        PolicyResult a = run(skewed, MODEL, CLUSTER, all, "moelab").get("moelab");
        PolicyResult b = run(skewed, MODEL, CLUSTER, huge, "moelab").get("moelab");
        assertThat(b.balancedness()).containsExactly(a.balancedness());
        assertThat(b.migratedBytes()).isEqualTo(a.migratedBytes());
    }

    @Test
    void eachPlanSeesTheLastWindowItsEarlierWindowsOldestFirstAndThePlacementInService() {
        // K = 100, W = 30, up to 16 earlier windows: the plan at step t gets steps [t - 30, t) as its window and
        // the whole windows before it, oldest first: at t = 100, [10, 40) and [40, 70); at t = 500, fifteen of them
        // from [20, 50). Each plan after the first is asked with the one before it in service.
        Simulation.Options o = new Simulation.Options(100, 30, 8, 16, false, 1e-3, 0, StepModel.Options.defaults());
        Simulation simulation = new Simulation(skewed, MODEL, CLUSTER, o);
        BalancerAlgorithm deepseek = Algorithms.byName("deepseek");
        List<BalancingRequest> requests = new ArrayList<>();
        List<Placement> plans = new ArrayList<>();
        BalancerAlgorithm recording = new BalancerAlgorithm() {
            @Override
            public String name() {
                return "recording";
            }

            @Override
            public String description() {
                return "deepseek, recording what it is asked";
            }

            @Override
            public Placement rebalance(BalancingRequest request) {
                requests.add(request);
                Placement plan = deepseek.rebalance(request);
                plans.add(plan);
                return plan;
            }
        };
        simulation.run(new Policy("recording", recording), Simulation.Progress.NONE);
        assertThat(requests).hasSize(5);
        for (int i = 0; i < requests.size(); i++) {
            int t = 100 * (i + 1);
            BalancingRequest r = requests.get(i);
            assertThat(r.weight()).as("window at %d", t).isEqualTo(stepSum(t - 30, t));
            List<LoadMatrix> expected = new ArrayList<>();
            for (int start = (t - 30) % 30; start + 30 <= t - 30; start += 30) {
                expected.add(stepSum(start, start + 30));
            }
            assertThat(r.history()).as("history at %d", t).hasSize(t / 30 - 1).containsExactlyElementsOf(expected);
            assertThat(r.previousPlacement()).get().isSameAs(i == 0 ? simulation.initialPlacement() : plans.get(i - 1));
        }
    }

    /** Steps {@code [from, to)} of the skewed trace, added up one by one. */
    private static LoadMatrix stepSum(int from, int to) {
        return LoadMatrix.sum(skewed.stepList().subList(from, to));
    }

    @Test
    void onASkewedDriftingTraceRebalancingPaysAndMoelabLeads() {
        Map<String, PolicyResult> r = run(skewed, MODEL, CLUSTER, options(false), "none", "deepseek", "moelab");
        PolicyResult none = r.get("none");
        PolicyResult deepseek = r.get("deepseek");
        PolicyResult moelab = r.get("moelab");
        assertThat(deepseek.meanGpuBalancedness()).isGreaterThan(none.meanGpuBalancedness() + 0.1);
        assertThat(deepseek.throughputTokensPerSecond()).isGreaterThan(none.throughputTokensPerSecond() * 1.1);
        assertThat(moelab.throughputTokensPerSecond()).isGreaterThan(none.throughputTokensPerSecond() * 1.1);
        // Where moelab balances better, it is faster; it also moves fewer weights.
        assertThat(moelab.meanGpuBalancedness()).isGreaterThan(deepseek.meanGpuBalancedness());
        assertThat(moelab.throughputTokensPerSecond()).isGreaterThan(deepseek.throughputTokensPerSecond());
        assertThat(moelab.migratedBytes()).isLessThan(deepseek.migratedBytes());
        assertThat(moelab.p50StepMs()).isLessThan(none.p50StepMs());
    }

    @Test
    void stallsChargePlanningAndTransfers() {
        Map<String, PolicyResult> r = run(skewed, MODEL, CLUSTER, options(false), "none", "deepseek");
        PolicyResult none = r.get("none");
        PolicyResult deepseek = r.get("deepseek");
        // Rebalances before steps 50, 100, ..., 550.
        assertThat(deepseek.rebalances()).isEqualTo(11);
        assertThat(none.rebalances()).isZero();
        assertThat(none.stallSeconds()).isZero();
        assertThat(deepseek.planningSeconds()).isCloseTo(11e-3, within(1e-12));
        assertThat(deepseek.stallSeconds()).isCloseTo(deepseek.planningSeconds() + deepseek.migrationSeconds(),
                within(1e-12));
        assertThat(deepseek.migratedBytes()).isEqualTo(deepseek.expertCopies() * MODEL.expertBytes());
        assertThat(Arrays.stream(deepseek.stepSeconds()).sum()).isCloseTo(deepseek.totalSeconds(), within(1e-9));
        assertThat(deepseek.throughputTokensPerSecond()).isEqualTo(deepseek.tokens() / deepseek.totalSeconds());
        // The first 50 steps run the initial placement under every policy.
        assertThat(Arrays.copyOf(deepseek.stepSeconds(), 50)).containsExactly(Arrays.copyOf(none.stepSeconds(), 50));
        // A stall shows in its step: step 50 is slower than its serving time by the first rebalance's cost.
        assertThat(deepseek.p99StepMs()).isGreaterThan(deepseek.p50StepMs());
        assertThat(none.tokens()).isEqualTo(deepseek.tokens());
    }

    @Test
    void overlappedMigrationNeverStallsAndSwitchesLater() {
        Map<String, PolicyResult> stalled = run(skewed, MODEL, CLUSTER, options(false), "deepseek");
        Map<String, PolicyResult> overlapped = run(skewed, MODEL, CLUSTER, options(true), "deepseek");
        PolicyResult s = stalled.get("deepseek");
        PolicyResult o = overlapped.get("deepseek");
        assertThat(o.stallSeconds()).isZero();
        assertThat(o.totalSeconds()).isEqualTo(o.servingSeconds());
        // Step 50 still runs the old placement while the weights move, so it differs from the stalled run's.
        assertThat(o.balancedness()[50]).isNotEqualTo(s.balancedness()[50]);
        assertThat(o.rebalances()).isPositive();
    }

    @Test
    void backgroundWorkLongerThanTheTraceKeepsTheOldPlacement() {
        // An hour of planning per rebalance: the first never finishes, later ones are skipped, and the policy
        // serves exactly like `none`.
        Simulation.Options slow = new Simulation.Options(50, 50, 8, 16, true, 3600, 0, StepModel.Options.defaults());
        Map<String, PolicyResult> r = run(skewed, MODEL, CLUSTER, slow, "none", "deepseek");
        PolicyResult d = r.get("deepseek");
        assertThat(d.rebalances()).isEqualTo(1);
        assertThat(d.skipped()).isEqualTo(10);
        assertThat(d.stepSeconds()).containsExactly(r.get("none").stepSeconds());
        // The transfer still running at the end moved nothing that served: it is reported as unfinished, not in
        // the migration totals (they counted it as done).
        assertThat(d.unfinished()).isEqualTo(1);
        assertThat(d.migratedBytes()).isZero();
        assertThat(d.expertCopies()).isZero();
        assertThat(d.migrationSeconds()).isZero();
        assertThat(d.planningSeconds()).isEqualTo(3600);
    }

    @Test
    void overlappedTransfersCountOnceTheyTakeOver() {
        // Rebalances at steps 50, 100, ..., 550. A trace that ends at step 550 leaves the last transfer in flight
        // (a transfer takes a few steps here); one that goes on to 599 lets it finish. `deepseek` plans from the
        // windows alone, so both runs plan the same placements, and the stalled run over steps 0..549 moves
        // exactly the copies of the first ten.
        ExpertLoadTrace endsAt550 = ExpertLoadTrace.of(skewed.stepList().subList(0, 551));
        ExpertLoadTrace first550 = ExpertLoadTrace.of(skewed.stepList().subList(0, 550));
        PolicyResult cut = run(endsAt550, MODEL, CLUSTER, options(true), "deepseek").get("deepseek");
        PolicyResult whole = run(skewed, MODEL, CLUSTER, options(true), "deepseek").get("deepseek");
        PolicyResult tenStalled = run(first550, MODEL, CLUSTER, options(false), "deepseek").get("deepseek");
        assertThat(cut.rebalances()).isEqualTo(11);
        assertThat(cut.unfinished()).isEqualTo(1);
        assertThat(whole.rebalances()).isEqualTo(11);
        assertThat(whole.unfinished()).isZero();
        assertThat(tenStalled.rebalances()).isEqualTo(10);
        assertThat(cut.expertCopies()).isEqualTo(tenStalled.expertCopies()).isLessThan(whole.expertCopies());
        assertThat(cut.migratedBytes()).isEqualTo(tenStalled.migratedBytes());
        assertThat(cut.migrationSeconds()).isCloseTo(tenStalled.migrationSeconds(), within(1e-12));
    }

    @Test
    void rescalesStepsToTheRequestedTokens() {
        Simulation.Options o = new Simulation.Options(50, 50, 8, 16, false, 0, 1000, StepModel.Options.defaults());
        Map<String, PolicyResult> r = run(skewed, MODEL, CLUSTER, o, "none");
        assertThat(r.get("none").tokens()).isCloseTo(600 * 1000, within(1e-6));
    }

    @Test
    void measuresPlanningWhenNoTimeIsGiven() {
        Simulation.Options o = new Simulation.Options(100, 100, 8, 16, false, Double.NaN, 0,
                StepModel.Options.defaults());
        Map<String, PolicyResult> r = run(skewed, MODEL, CLUSTER, o, "deepseek");
        assertThat(r.get("deepseek").planningSeconds()).isPositive();
    }

    @Test
    void rejectsATraceOfAnotherShape() {
        assertThatThrownBy(() -> new Simulation(skewed, ModelSpec.preset("deepseek-v3"), CLUSTER, options(false)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("trace: has 4 MoE layers x 64 experts, but model deepseek-v3 has 58 x 256");
    }

    /** A trace of zeros had every rate 0 / 0: NaN in the table and summary.json, with exit code 0. */
    @Test
    void rejectsATraceWithoutTokens() {
        List<LoadMatrix> zeros = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            zeros.add(LoadMatrix.ofFlat(skewed.layers(), skewed.experts(),
                    new double[skewed.layers() * skewed.experts()], "step"));
        }
        assertThatThrownBy(() -> new Simulation(ExpertLoadTrace.of(zeros), MODEL, CLUSTER, options(false)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("trace: holds no tokens (every load of every step is 0): nothing to simulate");
    }

    /**
     * Loads a balancer refuses (past 2^53 in some window) failed mid-run, after the policies before it, naming
     * "weight[0][3]"; now the trace is refused before anything runs.
     */
    @Test
    void rejectsLoadsNoWindowCanBePlannedOn() {
        int cells = skewed.layers() * skewed.experts();
        double[] step = new double[cells];
        java.util.Arrays.fill(step, 1);
        double[] big = step.clone();
        big[skewed.experts() + 3] = 0x1p52 + 8; // layer 1, expert 3: alone plannable, two steps of it are not
        List<LoadMatrix> steps = List.of(LoadMatrix.ofFlat(skewed.layers(), skewed.experts(), big, "s"),
                LoadMatrix.ofFlat(skewed.layers(), skewed.experts(), big, "s"),
                LoadMatrix.ofFlat(skewed.layers(), skewed.experts(), step, "s"));
        assertThatThrownBy(() -> new Simulation(ExpertLoadTrace.of(steps), MODEL, CLUSTER, options(false)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("trace: layer 1, expert 3 receives " + (0x1p53 + 17) + " tokens over the 3 steps, above "
                        + "2^53, which planning cannot sum or square reliably");
        // Rescaled to a batch size, the same trace is planned on as it will be served.
        Simulation.Options rescaled = new Simulation.Options(1, 2, 8, 16, false, 1e-3, 4096,
                StepModel.Options.defaults());
        assertThat(new Simulation(ExpertLoadTrace.of(steps), MODEL, CLUSTER, rescaled)
                .run(Policy.parseAll(List.of("deepseek")), Simulation.Progress.NONE).policies()).hasSize(1);
    }

    @Test
    void redundancyMustFillTheGpusEvenly() {
        assertThat(Simulation.replicas(64, 32, -1)).isEqualTo(96);
        assertThat(Simulation.replicas(256, 32, -1)).isEqualTo(288);
        assertThat(Simulation.replicas(8, 32, -1)).isEqualTo(64); // Mixtral on 32 GPUs: 8 experts x 8 copies
        assertThat(Simulation.replicas(64, 32, 32)).isEqualTo(96);
        assertThatThrownBy(() -> Simulation.replicas(64, 32, 10))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("redundant: 64 experts + 10 redundant = 74 slots do not fill 32 GPUs evenly; try 0 or 32");
        assertThatThrownBy(() -> Simulation.replicas(8, 32, 0))
                .hasMessage("redundant: 8 experts + 0 redundant = 8 slots do not fill 32 GPUs evenly; try 24");
        // Past a placement's 65,536 slots: named as redundant (the topology said num_replicas, no option of sim's),
        // and without overflow (2^31 - 1 read "-2147483645 slots ...; try -2").
        assertThatThrownBy(() -> Simulation.replicas(64, 32, 65536))
                .hasMessage("redundant: 64 experts + 65536 redundant = 65600 slots per layer, more than a placement "
                        + "has (at most 65536)");
        assertThatThrownBy(() -> Simulation.replicas(4, 2, Integer.MAX_VALUE))
                .hasMessage("redundant: 4 experts + 2147483647 redundant = 2147483651 slots per layer, more than a "
                        + "placement has (at most 65536)");
        assertThat(Simulation.replicas(65534, 2, -1)).isEqualTo(65536);
        assertThatThrownBy(() -> Simulation.replicas(65536, 2, -1))
                .hasMessage("redundant: the default of one slot per GPU beyond the fewest that hold every expert is "
                        + "65538 slots per layer, more than a placement has (at most 65536); give fewer");
        assertThat(Simulation.replicas(65534, 2, 2)).isEqualTo(65536);
    }

    @Test
    void optionsNameTheBadValue() {
        assertThatThrownBy(() -> Simulation.Options.of(0, 10)).hasMessageStartingWith("rebalance-every:");
        assertThatThrownBy(() -> Simulation.Options.of(10, 0)).hasMessageStartingWith("window:");
        // Seconds in the record, milliseconds in the message, as the option is given.
        assertThatThrownBy(() -> new Simulation.Options(1, 1, -1, 0, false, -0.005, 0, StepModel.Options.defaults()))
                .hasMessage("planning-ms: must be a number from 0 to 10000000 ms, got -5");
        assertThatThrownBy(() -> new Simulation.Options(1, 1, -1, 0, false, 1e297, 0, StepModel.Options.defaults()))
                .hasMessage("planning-ms: must be a number from 0 to 10000000 ms, got 1.0E300");
        assertThatThrownBy(() -> new Simulation.Options(1, 1, -1, 0, false, 0, Double.NaN,
                StepModel.Options.defaults())).hasMessageStartingWith("tokens-per-step:");
        assertThatThrownBy(() -> new Simulation.Options(1, 1, -1, 0, false, 0, -2, StepModel.Options.defaults()))
                .hasMessage("tokens-per-step: must be a finite number >= 0, got -2");
    }
}
