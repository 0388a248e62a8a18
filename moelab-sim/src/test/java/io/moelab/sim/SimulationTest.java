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
            assertThat(p.balancedness()).containsOnly(1.0);
        }
        // moelab keeps a placement that is already balanced: nothing to move, every step as none's.
        PolicyResult moelab = r.get("moelab");
        assertThat(moelab.migratedBytes()).isZero();
        assertThat(moelab.throughputTokensPerSecond()).isCloseTo(none.throughputTokensPerSecond(), within(1e-6));
        assertThat(moelab.stepSeconds()).containsExactly(none.stepSeconds(), within(1e-15));
        // deepseek reshuffles it: as balanced, but its transfers share the links with the all-to-all, so the steps
        // they overlap are slower and the others the same.
        PolicyResult deepseek = r.get("deepseek");
        assertThat(deepseek.migratedBytes()).isPositive();
        assertThat(deepseek.throughputTokensPerSecond()).isLessThan(none.throughputTokensPerSecond());
        for (int t = 0; t < steps.size(); t++) {
            assertThat(deepseek.stepSeconds()[t]).isGreaterThanOrEqualTo(none.stepSeconds()[t] * (1 - 1e-15));
        }
        assertThat(Arrays.copyOf(deepseek.stepSeconds(), 50)).containsExactly(Arrays.copyOf(none.stepSeconds(), 50));
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
        RecordingBalancer recording = new RecordingBalancer(Algorithms.byName("deepseek"));
        List<BalancingRequest> requests = recording.requests;
        List<Placement> plans = recording.plans;
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
        // Sharing the links with the all-to-all, the ten transfers take longer than with the links to themselves.
        assertThat(cut.migrationSeconds()).isGreaterThan(tenStalled.migrationSeconds());
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

    /**
     * The redundancies a refusal suggests are ones it accepts: where the GPUs' multiple below the slots holds fewer
     * than every expert, there is no smaller count to offer (10 experts on 4 GPUs: 0 and 1 redundant slots were
     * answered "try 0 or 2", and 0 gives 10 slots, refused in turn).
     */
    @Test
    void theRedundanciesARefusalSuggestsAreAccepted() {
        assertThatThrownBy(() -> Simulation.replicas(10, 4, 1))
                .hasMessage("redundant: 10 experts + 1 redundant = 11 slots do not fill 4 GPUs evenly; try 2");
        assertThatThrownBy(() -> Simulation.replicas(10, 4, 0))
                .hasMessage("redundant: 10 experts + 0 redundant = 10 slots do not fill 4 GPUs evenly; try 2");
        assertThatThrownBy(() -> Simulation.replicas(10, 4, 3))
                .hasMessage("redundant: 10 experts + 3 redundant = 13 slots do not fill 4 GPUs evenly; try 2 or 6");
        assertThatThrownBy(() -> Simulation.replicas(3, 2, 0))
                .hasMessage("redundant: 3 experts + 0 redundant = 3 slots do not fill 2 GPUs evenly; try 1");
        // Every refusal over a range of shapes: each number it suggests is accepted.
        for (int experts = 1; experts <= 20; experts++) {
            for (int gpus = 1; gpus <= 12; gpus++) {
                for (int redundant = 0; redundant <= 30; redundant++) {
                    try {
                        Simulation.replicas(experts, gpus, redundant);
                    } catch (InvalidInputException e) {
                        String tail = e.getMessage().substring(e.getMessage().indexOf("; try ") + 6);
                        for (String suggested : tail.split(" or ")) {
                            int r = Integer.parseInt(suggested);
                            assertThat(Simulation.replicas(experts, gpus, r)).as("%s (%d experts, %d GPUs)",
                                    e.getMessage(), experts, gpus).isEqualTo(experts + r);
                        }
                    }
                }
            }
        }
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

    /** Always plans the two experts' swap: [1, 0] on two GPUs. */
    private static final BalancerAlgorithm SWAP = new BalancerAlgorithm() {
        @Override
        public String name() {
            return "swap";
        }

        @Override
        public String description() {
            return "swaps two experts";
        }

        @Override
        public Placement rebalance(BalancingRequest request) {
            return Placement.of(request.topology(), 2, new int[][] {{1, 0}});
        }
    };

    /**
     * One MoE layer of two experts with H = 100, F = 1000 (600,000 bytes of weights) on one node of two GPUs at
     * 1 TFLOP/s, 1 TB/s HBM, 1 GB/s NVLink with 2 us latency; experts 0 and 1 get 30 and 10 tokens each step.
     * Alone a step is a 5 us dispatch (3000 bytes per GPU + 2 us), 18 us of compute (30 tokens x 6HF FLOPs) and a
     * 5 us combine: 28 us. The plan before step 2 swaps the experts: each GPU sends and receives 600,000 bytes,
     * 602 us with the link to itself (the old model: 22 steps of 28 us, done in step 23).
     *
     * <p>Shared, by hand: the bytes start 2 us into step 2, when the dispatch has 1000 bytes left; both run at half
     * the link, so the dispatch takes 3 + 1 + 2 = 6 us and the transfer moves 4 us x 1 GB/s - 1000 = 3000 bytes,
     * 18,000 in the compute and 8000 - 3000 = 5000 in the combine (3 + 3 + 2 = 8 us): a 32 us step, 574,000 bytes
     * left. Each next step: 8 + 18 + 8 = 34 us moving 28,000 bytes, so after step 22, 14,000 are left. Step 23: 5000
     * in the dispatch (8 us), the last 9000 9 us into the compute, a combine alone (5 us): 31 us, the transfer done at
     * 32 + 20 x 34 + 8 + 9 = 729 us. The swapped placement serves from step 24 (as fast: the same load mirrored);
     * the plan before step 24 is the placement itself, nothing to move.
     */
    @Test
    void anOverlappedTransferSharesTheLinksWorkedByHand() {
        PolicyResult r = swapRun(26, true);
        double[] expected = new double[26];
        Arrays.fill(expected, 34e-6);
        expected[0] = expected[1] = expected[24] = expected[25] = 28e-6;
        expected[2] = 32e-6;
        expected[23] = 31e-6;
        assertThat(r.stepSeconds()).usingElementComparator((a, b) -> Math.abs(a - b) < 1e-14 ? 0 : 1)
                .containsExactly(Arrays.stream(expected).boxed().toArray(Double[]::new));
        assertThat(r.migrationSeconds()).isCloseTo(729e-6, within(1e-13));
        assertThat(r.expertCopies()).isEqualTo(2);
        assertThat(r.migratedBytes()).isEqualTo(1_200_000);
        // Rebalances before steps 2 and 24; the ten due before steps 4 to 22 found the transfer in flight.
        assertThat(r.rebalances()).isEqualTo(2);
        assertThat(r.skipped()).isEqualTo(10);
        assertThat(r.unfinished()).isZero();
        assertThat(r.stallSeconds()).isZero();
        // A trace that ends at step 23 ends with the transfer done; one that ends at step 22 does not.
        PolicyResult at23 = swapRun(24, true);
        PolicyResult at22 = swapRun(23, true);
        assertThat(at23.unfinished()).isZero();
        assertThat(at22.unfinished()).isEqualTo(1);
    }

    /**
     * Stalled, the same plan is unchanged by the shared-link model: step 2 pays the 602 us transfer on top of its
     * 28 us and every step serves alone.
     */
    @Test
    void aStalledTransferHasTheLinksToItself() {
        PolicyResult r = swapRun(4, false);
        assertThat(r.stepSeconds()).usingElementComparator((a, b) -> Math.abs(a - b) < 1e-14 ? 0 : 1)
                .containsExactly(28e-6, 28e-6, 630e-6, 28e-6);
        assertThat(r.migrationSeconds()).isCloseTo(602e-6, within(1e-14));
    }

    /**
     * The swap policy on the hand-worked case above: {@code steps} steps of loads 30 and 10 on two GPUs, replanned
     * every two steps from one-step windows, the transfer overlapped or stalled.
     */
    private static PolicyResult swapRun(int steps, boolean overlapMigration) {
        ModelSpec model = new ModelSpec("tiny", 1, 2, 1, 100, 1000, 1, 2, 0, 0, 0);
        ClusterSpec cluster = new ClusterSpec("test", 1, 2, 1, 1.0, 1, 1, 0.5, 2, 10, 80);
        List<LoadMatrix> loads = new ArrayList<>();
        for (int t = 0; t < steps; t++) {
            loads.add(LoadMatrix.of(new double[][] {{30, 10}}, "step"));
        }
        Simulation.Options options = new Simulation.Options(2, 1, 0, 0, overlapMigration, 0, 0,
                StepModel.Options.defaults());
        return new Simulation(ExpertLoadTrace.of(loads), model, cluster, options)
                .run(new Policy("swap", SWAP), Simulation.Progress.NONE);
    }

    /**
     * On the skewed trace, under several settings, an overlapped transfer that shares the links (the simulation)
     * never yields more throughput than one that uses no link time (the model before, in HeldTraceReference), and
     * slows some steps; stalled runs are the same either way.
     */
    @Test
    void sharingTheLinksNeverRaisesThroughput() {
        ExpertLoadTrace trace = ExpertLoadTrace.of(skewed.stepList().subList(0, 300));
        List<Simulation.Options> settings = List.of(
                new Simulation.Options(50, 50, 8, 16, true, 1e-3, 0, StepModel.Options.defaults()),
                new Simulation.Options(10, 20, 8, 4, true, 0, 4096, StepModel.Options.defaults()),
                new Simulation.Options(25, 25, 0, 16, true, 2e-4, 0,
                        new StepModel.Options(StepModel.Routing.NODE_LOCAL, 1, 2)));
        for (Simulation.Options o : settings) {
            for (String name : List.of("deepseek", "moelab")) {
                Policy policy = Policy.parse(name);
                PolicyResult shared = new Simulation(trace, MODEL, CLUSTER, o).run(policy, Simulation.Progress.NONE);
                PolicyResult alone = HeldTraceReference.run(trace, MODEL, CLUSTER, o, policy, false);
                assertThat(shared.throughputTokensPerSecond()).as(o + " " + name)
                        .isLessThan(alone.throughputTokensPerSecond());
                assertThat(shared.migrationSeconds()).as(o + " " + name).isGreaterThan(0);
                Simulation.Options stalled = new Simulation.Options(o.rebalanceEvery(), o.window(), o.redundant(),
                        o.historyWindows(), false, o.planningSeconds(), o.tokensPerStep(), o.step());
                assertThat(new Simulation(trace, MODEL, CLUSTER, stalled).run(policy, Simulation.Progress.NONE)
                        .stepSeconds()).isEqualTo(HeldTraceReference.run(trace, MODEL, CLUSTER, stalled, policy, false)
                        .stepSeconds());
            }
        }
    }
}
