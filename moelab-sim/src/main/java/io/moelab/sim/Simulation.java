package io.moelab.sim;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.StaticBalancer;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.sim.cost.MigrationCost;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays an expert-load trace through an expert-parallel deployment under each policy, step by step.
 * Every policy starts from the load-oblivious placement (slot p holds expert p mod E). A rebalancing policy
 * re-plans before steps K, 2K, ... from the last W steps (with the W-step windows before them as history
 * and the deployed placement as the one to migrate from); the new placement serves from that step on, after a
 * stall for planning and the weight transfer, or, with overlap, from the first step after both finish in the
 * background. See docs/SIM.md for every formula.
 */
public final class Simulation {

    /** The longest planning time a run may charge per rebalance: ten thousand seconds. */
    public static final double MAX_PLANNING_SECONDS = 1e4;

    /**
     * Simulation settings.
     *
     * @param rebalanceEvery   K: steps between rebalances
     * @param window           W: steps of load a rebalance plans from
     * @param redundant        redundant slots per layer (R = E + redundant), or -1 for the default:
     *                         one per GPU beyond the fewest slots that hold every expert
     * @param historyWindows   earlier W-step windows passed to the algorithm as history
     * @param overlapMigration plan and move weights in the background instead of stalling serving
     * @param planningSeconds  the time charged per plan, or NaN to charge the algorithm's measured runtime
     * @param tokensPerStep    rescale every step to this many tokens, or 0 to keep the trace's counts
     * @param step             step model options
     */
    public record Options(int rebalanceEvery, int window, int redundant, int historyWindows,
                          boolean overlapMigration, double planningSeconds, double tokensPerStep,
                          StepModel.Options step) {
        /** Validates ranges, naming the command-line option. */
        public Options {
            if (rebalanceEvery <= 0) {
                throw new InvalidInputException("rebalance-every", "must be at least 1 step, got " + rebalanceEvery);
            }
            if (window <= 0) {
                throw new InvalidInputException("window", "must be at least 1 step, got " + window);
            }
            if (redundant < -1) {
                throw new InvalidInputException("redundant", "must be 0 or more, got " + redundant);
            }
            if (historyWindows < 0) {
                throw new InvalidInputException("history", "must be 0 or more windows, got " + historyWindows);
            }
            if (!Double.isNaN(planningSeconds) && !(planningSeconds >= 0 && planningSeconds <= MAX_PLANNING_SECONDS)) {
                // The field is in seconds; the option it comes from, in milliseconds. Beyond a few hours a plan
                // is no longer a rebalance (and 1e300 ms overran the table's columns).
                throw new InvalidInputException("planning-ms", "must be a number from 0 to "
                        + (long) (MAX_PLANNING_SECONDS * 1e3) + " ms, got " + Numbers.plain(planningSeconds * 1e3));
            }
            if (!(tokensPerStep >= 0) || Double.isInfinite(tokensPerStep)) {
                throw new InvalidInputException("tokens-per-step", "must be a finite number >= 0, got "
                        + Numbers.plain(tokensPerStep));
            }
        }

        /**
         * Defaults for K and W: default redundancy, 16 history windows, stalls, measured planning, the
         * trace's token counts, even routing with bf16 activations.
         */
        public static Options of(int rebalanceEvery, int window) {
            return new Options(rebalanceEvery, window, -1, 16, false, Double.NaN, 0, StepModel.Options.defaults());
        }

        /** The same options with another rebalance interval and window. */
        public Options withRebalanceEvery(int k, int w) {
            return new Options(k, w, redundant, historyWindows, overlapMigration, planningSeconds, tokensPerStep,
                    step);
        }

        /** The same options with another redundancy. */
        public Options withRedundant(int r) {
            return new Options(rebalanceEvery, window, r, historyWindows, overlapMigration, planningSeconds,
                    tokensPerStep, step);
        }
    }

    /** Receives progress: steps simulated out of steps in total (over all policies). */
    @FunctionalInterface
    public interface Progress {
        /** No reporting. */
        Progress NONE = (done, total) -> { };

        /** Called every few steps. */
        void update(long done, long total);
    }

    private static final long WARMUP_NANOS = 300_000_000L;
    private static final int CACHED_WINDOWS = 256;

    private final ExpertLoadTrace trace;
    private final ModelSpec model;
    private final ClusterSpec cluster;
    private final Options options;
    private final Topology topology;
    private final Placement initial;
    private final Map<Long, LoadMatrix> windowSums = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, LoadMatrix> eldest) {
            return size() > CACHED_WINDOWS;
        }
    };

    /**
     * A simulation of {@code trace} on {@code model} served by {@code cluster}.
     *
     * @throws InvalidInputException if the trace's shape is not the model's, it holds no tokens, or the redundancy
     *                               does not fit the cluster
     */
    public Simulation(ExpertLoadTrace trace, ModelSpec model, ClusterSpec cluster, Options options) {
        if (trace.layers() != model.moeLayers() || trace.experts() != model.experts()) {
            throw new InvalidInputException("trace", "has " + Nouns.count(trace.layers(), "MoE layer") + " x "
                    + Nouns.count(trace.experts(), "expert") + ", but model " + model.name() + " has "
                    + model.moeLayers() + " x " + model.experts());
        }
        if (!hasLoad(trace)) {
            // Every rate and share would be 0 / 0: NaN in the table and in summary.json.
            throw new InvalidInputException("trace", "holds no tokens (every load of every step is 0): nothing to "
                    + "simulate");
        }
        this.model = model;
        this.cluster = cluster;
        this.options = options;
        this.trace = options.tokensPerStep() > 0 ? rescale(trace, options.tokensPerStep(), model.topK()) : trace;
        requirePlannable(this.trace);
        this.topology = new Topology(replicas(model.experts(), cluster.gpus(), options.redundant()), model.groups(),
                cluster.nodes(), cluster.gpus());
        this.initial = new StaticBalancer().rebalance(BalancingRequest.of(trace.step(0), topology));
    }

    /**
     * Checks that every window a rebalance can plan on (a sum of some of the steps) holds loads a balancer accepts.
     * A load past 2^53 failed mid-run, after other policies had been simulated, as "weight[0][3]: ...", a name of
     * {@code eplb rebalance}'s input file.
     */
    private static void requirePlannable(ExpertLoadTrace trace) {
        LoadMatrix total = trace.sum(0, trace.steps());
        for (int l = 0; l < total.layers(); l++) {
            for (int e = 0; e < total.experts(); e++) {
                if (total.load(l, e) > LoadMatrix.MAX_PLANNED_LOAD) {
                    throw new InvalidInputException("trace", "layer " + l + ", expert " + e + " receives "
                            + Numbers.plain(total.load(l, e)) + " tokens over the " + trace.steps()
                            + " steps, above 2^53, which planning cannot sum or square reliably");
                }
            }
        }
    }

    private static boolean hasLoad(ExpertLoadTrace trace) {
        for (LoadMatrix step : trace.stepList()) {
            for (int l = 0; l < step.layers(); l++) {
                if (step.layerTotal(l) > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Slots per layer for {@code redundant} extra slots (or the default for -1).
     *
     * @throws InvalidInputException naming {@code redundant} when E + redundant slots do not divide over the GPUs
     */
    public static int replicas(int experts, int gpus, int redundant) {
        if (redundant < 0) {
            return (Math.ceilDiv(experts, gpus) + 1) * gpus;
        }
        int slots = experts + redundant;
        if (slots % gpus != 0 || slots < gpus) {
            int below = Math.max(0, Math.max(gpus, slots / gpus * gpus) - experts);
            int above = Math.max(gpus, Math.ceilDiv(slots, gpus) * gpus) - experts;
            throw new InvalidInputException("redundant", experts + " experts + " + redundant + " redundant = " + slots
                    + " slots do not fill " + gpus + " GPUs evenly; try " + (below == above || slots < gpus
                    ? String.valueOf(above) : below + " or " + above));
        }
        return slots;
    }

    private static ExpertLoadTrace rescale(ExpertLoadTrace trace, double tokensPerStep, int topK) {
        List<LoadMatrix> steps = new ArrayList<>(trace.steps());
        double[] cells = new double[trace.layers() * trace.experts()];
        for (int t = 0; t < trace.steps(); t++) {
            LoadMatrix m = trace.step(t);
            m.copyTo(cells);
            double routed = 0;
            for (double v : cells) {
                routed += v;
            }
            double tokens = routed / topK / m.layers();
            double factor = tokens > 0 ? tokensPerStep / tokens : 0;
            for (int i = 0; i < cells.length; i++) {
                cells[i] *= factor;
            }
            steps.add(LoadMatrix.ofFlat(m.layers(), m.experts(), cells, "step " + t));
        }
        return ExpertLoadTrace.of(steps);
    }

    /**
     * Simulates every policy, one after the other (planning time is measured alone).
     *
     * @throws InvalidInputException naming {@code policies}, before any policy runs, if one cannot plan for this
     *                               deployment (hierarchical where the expert groups do not divide over the nodes)
     */
    public SimulationReport run(List<Policy> policies, Progress progress) {
        requireCanPlan(policies);
        List<PolicyResult> results = new ArrayList<>();
        long total = (long) trace.steps() * policies.size();
        for (int i = 0; i < policies.size(); i++) {
            long offset = (long) i * trace.steps();
            results.add(run(policies.get(i), (done, ignored) -> progress.update(offset + done, total)));
        }
        return new SimulationReport(model, cluster, topology, options, trace.steps(), List.copyOf(results));
    }

    /** Simulates one policy over the whole trace. */
    public PolicyResult run(Policy policy, Progress progress) {
        BalancerAlgorithm algorithm = policy.balancer();
        boolean measure = Double.isNaN(options.planningSeconds());
        int k = options.rebalanceEvery();
        if (algorithm != null && measure && k < trace.steps()) {
            warmUp(algorithm, k);
        }
        StepModel steps = new StepModel(model, cluster, options.step());
        int n = trace.steps();
        double[] stepSeconds = new double[n];
        double[] balancedness = new double[n];
        double[] dispatch = new double[n];
        double[] expert = new double[n];
        double[] combine = new double[n];
        double tokens = 0;
        double serving = 0;
        double stalls = 0;
        double compute = 0;
        double planningTotal = 0;
        double migrationTotal = 0;
        double bytes = 0;
        long copies = 0;
        int rebalances = 0;
        int skipped = 0;
        Placement current = initial;
        Placement pending = null;
        double pendingSeconds = 0; // background work left before `pending` takes over
        MigrationCost pendingMigration = null;
        for (int t = 0; t < n; t++) {
            double stall = 0;
            if (algorithm != null && t > 0 && t % k == 0) {
                if (pending != null) {
                    skipped++;
                } else {
                    BalancingRequest request = request(t, current);
                    long start = System.nanoTime();
                    Placement plan = algorithm.rebalance(request);
                    double planning = measure ? (System.nanoTime() - start) * 1e-9 : options.planningSeconds();
                    MigrationCost migration = MigrationCost.between(current, plan, model, cluster);
                    rebalances++;
                    planningTotal += planning;
                    if (options.overlapMigration()) {
                        // Counted once it takes over: a transfer still running when the trace ends moved nothing
                        // that served.
                        pending = plan;
                        pendingSeconds = planning + migration.seconds();
                        pendingMigration = migration;
                    } else {
                        stall = planning + migration.seconds();
                        current = plan;
                        migrationTotal += migration.seconds();
                        bytes += migration.bytes();
                        copies += migration.copies();
                    }
                }
            }
            StepModel.StepCost cost = steps.step(current, trace.step(t));
            stepSeconds[t] = cost.seconds() + stall;
            balancedness[t] = cost.balancedness();
            dispatch[t] = cost.dispatch();
            expert[t] = cost.compute();
            combine[t] = cost.combine();
            tokens += cost.tokens();
            serving += cost.seconds();
            stalls += stall;
            compute += cost.computeBusy();
            if (pending != null) {
                pendingSeconds -= cost.seconds();
                if (pendingSeconds <= 0) {
                    current = pending;
                    pending = null;
                    migrationTotal += pendingMigration.seconds();
                    bytes += pendingMigration.bytes();
                    copies += pendingMigration.copies();
                }
            }
            if ((t & 63) == 63 || t == n - 1) {
                progress.update(t + 1, n);
            }
        }
        return new PolicyResult(policy.name(), tokens, serving, stalls, compute, rebalances, skipped,
                pending != null ? 1 : 0, planningTotal,
                migrationTotal, bytes, copies, stepSeconds, balancedness, dispatch, expert, combine);
    }

    /**
     * Checks that every policy can plan for this deployment, planning once as its first rebalance will; what
     * {@link #run(List, Progress)} checks before any policy runs.
     *
     * @throws InvalidInputException naming {@code policies} for the first policy that cannot plan
     */
    public void requireCanPlan(List<Policy> policies) {
        for (Policy policy : policies) {
            requireCanPlan(policy);
        }
    }

    /**
     * Plans once as the first rebalance will. A policy that cannot plan here failed at its first rebalance, after
     * the policies before it had been simulated, as eplb's "num_groups".
     */
    private void requireCanPlan(Policy policy) {
        int k = options.rebalanceEvery();
        if (policy.balancer() == null || k >= trace.steps()) {
            return; // never plans
        }
        try {
            policy.balancer().rebalance(request(k, initial));
        } catch (InvalidInputException e) {
            throw new InvalidInputException("policies", "'" + policy.name() + "' cannot plan for "
                    + Nouns.count(topology.gpus(), "GPU") + " on " + Nouns.count(topology.nodes(), "node") + " with "
                    + Nouns.count(model.groups(), "expert group") + ": " + e.problem(), e);
        }
    }

    /** What a rebalance before step {@code t} plans from: the last W steps, earlier W-step windows as history. */
    private BalancingRequest request(int t, Placement deployed) {
        int w = options.window();
        LoadMatrix latest = windowSum(Math.max(0, t - w), t);
        List<LoadMatrix> history = new ArrayList<>();
        // Only the windows that start at step 0 or later: (j + 1) * w <= t. Counting down from the option's value
        // instead overflowed (j + 1) * w for a large --history and looped that many times.
        for (int j = Math.min(options.historyWindows(), t / w - 1); j >= 1; j--) {
            int start = t - (j + 1) * w;
            history.add(windowSum(start, start + w));
        }
        return new BalancingRequest(latest, history, topology, deployed);
    }

    private LoadMatrix windowSum(int from, int to) {
        return windowSums.computeIfAbsent(((long) from << 32) | to, key -> trace.sum(from, to));
    }

    /** Runs the algorithm until the JIT has compiled it, so the measured planning time is the steady state. */
    private void warmUp(BalancerAlgorithm algorithm, int firstRebalance) {
        BalancingRequest request = request(firstRebalance, initial);
        long deadline = System.nanoTime() + WARMUP_NANOS;
        do {
            algorithm.rebalance(request);
        } while (System.nanoTime() < deadline);
    }

    /** The slots per layer, groups, nodes and GPUs placements are planned for. */
    public Topology topology() {
        return topology;
    }

    /** The placement every policy starts from. */
    public Placement initialPlacement() {
        return initial;
    }
}
