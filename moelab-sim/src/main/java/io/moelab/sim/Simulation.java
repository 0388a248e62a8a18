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
import io.moelab.sim.cost.Transfer;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.List;

/**
 * Replays an expert-load trace through an expert-parallel deployment under each policy, step by step.
 * Every policy starts from the load-oblivious placement (slot p holds expert p mod E). A rebalancing policy
 * re-plans before steps K, 2K, ... from the last W steps (with the W-step windows before them as history
 * and the deployed placement as the one to migrate from); the new placement serves from that step on, after a
 * stall for planning and the weight transfer, or, with overlap, from the first step after both finish in the
 * background, the transfer sharing the links with the steps' all-to-all (slowing both). See docs/SIM.md for every
 * formula.
 *
 * <p>The trace is read step by step (see {@link TraceSource}), every policy serving each step in turn, so a run holds
 * the windows rebalances plan from and each policy's per-step results, not the trace's steps.
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
         *
         * @param rebalanceEvery K: steps between rebalances
         * @param window         W: steps of load a rebalance plans from
         */
        public static Options of(int rebalanceEvery, int window) {
            return new Options(rebalanceEvery, window, -1, 16, false, Double.NaN, 0, StepModel.Options.defaults());
        }

        /**
         * The same options with another rebalance interval and window.
         *
         * @param k K: steps between rebalances
         * @param w W: steps of load a rebalance plans from
         */
        public Options withRebalanceEvery(int k, int w) {
            return new Options(k, w, redundant, historyWindows, overlapMigration, planningSeconds, tokensPerStep,
                    step);
        }

        /**
         * The same options with another redundancy.
         *
         * @param r redundant slots per layer, or -1 for the default
         */
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

        /**
         * Called every few steps.
         *
         * @param done  steps simulated so far, over all policies
         * @param total steps to simulate, over all policies
         */
        void update(long done, long total);
    }

    private static final long WARMUP_NANOS = 300_000_000L;

    private final TraceSource trace;
    private final ModelSpec model;
    private final ClusterSpec cluster;
    private final Options options;
    private final Topology topology;
    private final Placement initial;
    /** What the first rebalance plans from (its latest window, then its history), once read for a check. */
    private List<LoadMatrix> firstPlan;

    /**
     * A simulation of {@code trace} on {@code model} served by {@code cluster}.
     *
     * @throws InvalidInputException if the trace's shape is not the model's, it holds no tokens, or the redundancy
     *                               does not fit the cluster
     */
    public Simulation(ExpertLoadTrace trace, ModelSpec model, ClusterSpec cluster, Options options) {
        this(TraceSource.of(trace), model, cluster, options);
    }

    /**
     * A simulation of a trace read step by step, as often as it needs, instead of held: the first K steps once for
     * {@link #requireCanPlan(List)}, the whole trace once per run, and once more here only if rescaled steps might
     * add up past what planning can sum (T x top-k x layers x steps above 2^53).
     *
     * @throws InvalidInputException as {@link #Simulation(ExpertLoadTrace, ModelSpec, ClusterSpec, Options)}
     */
    public Simulation(TraceSource trace, ModelSpec model, ClusterSpec cluster, Options options) {
        if (trace.layers() != model.moeLayers() || trace.experts() != model.experts()) {
            throw new InvalidInputException("trace", "has " + Nouns.count(trace.layers(), "MoE layer") + " x "
                    + Nouns.count(trace.experts(), "expert") + ", but model " + model.name() + " has "
                    + model.moeLayers() + " x " + model.experts());
        }
        if (!trace.hasLoad()) {
            // Every rate and share would be 0 / 0: NaN in the table and in summary.json.
            throw new InvalidInputException("trace", "holds no tokens (every load of every step is 0): nothing to "
                    + "simulate");
        }
        this.trace = trace;
        this.model = model;
        this.cluster = cluster;
        this.options = options;
        requirePlannable();
        this.topology = new Topology(replicas(model.experts(), cluster.gpus(), options.redundant()), model.groups(),
                cluster.nodes(), cluster.gpus());
        this.initial = new StaticBalancer().rebalance(BalancingRequest.of(trace.first(), topology));
    }

    /**
     * Checks that every window a rebalance can plan on (a sum of some of the steps, as served: rescaled if they are)
     * holds loads a balancer accepts. A load past 2^53 failed mid-run, after other policies had been simulated, as
     * "weight[0][3]: ...", a name of {@code eplb rebalance}'s input file.
     */
    private void requirePlannable() {
        LoadMatrix total;
        double tokens = options.tokensPerStep();
        if (tokens == 0) {
            total = trace.total();
        } else {
            // A rescaled step's loads add up to T x top-k x layers: no expert gets more in a step, nor more than
            // the steps times that over the trace. Below 2^53 (with room for rounding), no window can fail and the
            // trace need not be read again to add the rescaled steps up.
            double bound = trace.steps() * tokens * model.topK() * trace.layers();
            if (bound * (1 + 1e-6) <= LoadMatrix.MAX_PLANNED_LOAD) {
                return;
            }
            LoadMatrix.Sum sum = new LoadMatrix.Sum(trace.layers(), trace.experts());
            double[] cells = new double[trace.layers() * trace.experts()];
            int[] t = {0};
            trace.read(step -> sum.add(rescale(step, t[0]++, cells)));
            total = sum.take();
        }
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

    /**
     * Slots per layer for {@code redundant} extra slots (or the default for -1).
     *
     * @throws InvalidInputException naming {@code redundant} when E + redundant slots do not divide over the GPUs
     */
    public static int replicas(int experts, int gpus, int redundant) {
        if (redundant < 0) {
            long slots = (Math.ceilDiv((long) experts, gpus) + 1) * gpus;
            if (slots > Topology.MAX_REPLICAS) {
                throw new InvalidInputException("redundant", "the default of one slot per GPU beyond the fewest that "
                        + "hold every expert is " + slots + " slots per layer, more than a placement has (at most "
                        + Topology.MAX_REPLICAS + "); give fewer");
            }
            return (int) slots;
        }
        // In long: a count near 2^31 overflowed into a negative number of slots. Checked here, before the topology,
        // which names its own field (num_replicas), no option of the simulation's.
        long slots = (long) experts + redundant;
        if (slots > Topology.MAX_REPLICAS) {
            throw new InvalidInputException("redundant", experts + " experts + " + redundant + " redundant = " + slots
                    + " slots per layer, more than a placement has (at most " + Topology.MAX_REPLICAS + ")");
        }
        if (slots % gpus != 0 || slots < gpus) {
            // The nearest counts that fill the GPUs: the multiple of the GPUs below the slots only when it holds every
            // expert (10 experts on 4 GPUs: 8 slots do not, and "try 0 or 2" offered a count refused in turn).
            long below = slots / gpus * gpus - experts;
            long above = Math.ceilDiv(slots, gpus) * gpus - experts;
            throw new InvalidInputException("redundant", experts + " experts + " + redundant + " redundant = " + slots
                    + " slots do not fill " + gpus + " GPUs evenly; try " + (below >= 0 ? below + " or " + above
                    : String.valueOf(above)));
        }
        return (int) slots;
    }

    /**
     * Step {@code t} rescaled to the options' tokens per step, keeping its expert mix: as served when they are given.
     * Done as each step is read (a rescaled copy of the whole trace doubled what a run held).
     */
    private LoadMatrix rescale(LoadMatrix m, int t, double[] cells) {
        m.copyTo(cells);
        double routed = 0;
        for (double v : cells) {
            routed += v;
        }
        double tokens = routed / model.topK() / m.layers();
        double factor = tokens > 0 ? options.tokensPerStep() / tokens : 0;
        for (int i = 0; i < cells.length; i++) {
            cells[i] *= factor;
        }
        return LoadMatrix.ofFlat(m.layers(), m.experts(), cells, "step " + t);
    }

    /**
     * Simulates every policy over one reading of the trace, each step served by every policy in turn (planning time
     * is measured alone, one plan at a time).
     *
     * @param progress told of the steps simulated; {@link Progress#NONE} for no reporting, not null
     * @throws InvalidInputException naming {@code policies}, before any policy runs, if one cannot plan for this
     *                               deployment (hierarchical where the expert groups do not divide over the nodes)
     */
    public SimulationReport run(List<Policy> policies, Progress progress) {
        requireCanPlan(policies);
        return together(List.of(this), policies, progress).getFirst();
    }

    /**
     * Simulates one policy over the whole trace.
     *
     * @param progress told of the steps simulated; {@link Progress#NONE} for no reporting, not null
     */
    public PolicyResult run(Policy policy, Progress progress) {
        return together(List.of(this), List.of(policy), progress).getFirst().policies().getFirst();
    }

    /**
     * Simulates every policy under each simulation, all over one reading of their common trace, without the checks
     * of {@link #requireCanPlan(List)}. Progress counts a step once per policy and simulation.
     */
    static List<SimulationReport> together(List<Simulation> simulations, List<Policy> policies, Progress progress) {
        TraceSource trace = simulations.getFirst().trace;
        for (Simulation s : simulations) {
            if (s.trace != trace) {
                throw new IllegalArgumentException("simulations of different traces");
            }
        }
        List<Pass> passes = simulations.stream().map(s -> s.new Pass(policies)).toList();
        int n = trace.steps();
        long perStep = (long) policies.size() * simulations.size();
        long total = n * perStep;
        int[] done = {0};
        trace.read(step -> {
            for (Pass pass : passes) {
                pass.accept(step);
            }
            int t = ++done[0];
            if ((t & 63) == 0 || t == n) {
                progress.update(t * perStep, total);
            }
        });
        return passes.stream().map(Pass::report).toList();
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
            policy.balancer().rebalance(request(firstPlan(), initial));
        } catch (InvalidInputException e) {
            throw new InvalidInputException("policies", "'" + policy.name() + "' cannot plan for "
                    + Nouns.count(topology.gpus(), "GPU") + " on " + Nouns.count(topology.nodes(), "node") + " with "
                    + Nouns.count(model.groups(), "expert group") + ": " + e.problem(), e);
        }
    }

    /** The windows the first rebalance (before step K) plans from, read from the first K steps once. */
    private List<LoadMatrix> firstPlan() {
        if (firstPlan == null) {
            int k = options.rebalanceEvery();
            PlanWindows windows = new PlanWindows(k, options.window(), options.historyWindows(), k + 1,
                    trace.layers(), trace.experts());
            double[] cells = options.tokensPerStep() > 0 ? new double[trace.layers() * trace.experts()] : null;
            int[] t = {0};
            trace.read(k, step -> {
                windows.add(t[0], cells != null ? rescale(step, t[0], cells) : step);
                t[0]++;
            });
            firstPlan = windows.at(k);
        }
        return firstPlan;
    }

    /** A request to plan from {@code windows} (the latest, then the history oldest first) away from {@code from}. */
    private BalancingRequest request(List<LoadMatrix> windows, Placement from) {
        return new BalancingRequest(windows.getFirst(), windows.subList(1, windows.size()), topology, from);
    }

    /** Runs the algorithm until the JIT has compiled it, so the measured planning time is the steady state. */
    private static void warmUp(BalancerAlgorithm algorithm, BalancingRequest request) {
        long deadline = System.nanoTime() + WARMUP_NANOS;
        do {
            algorithm.rebalance(request);
        } while (System.nanoTime() < deadline);
    }

    /** One reading of the trace: the windows rebalances plan from, and every policy served step by step. */
    private final class Pass {
        private final List<PolicyRun> runs;
        private final PlanWindows windows;
        private final double[] cells;
        private int t;

        Pass(List<Policy> policies) {
            this.runs = policies.stream().map(PolicyRun::new).toList();
            boolean plans = policies.stream().anyMatch(p -> p.balancer() != null);
            int k = options.rebalanceEvery();
            // None when nothing plans: `none` alone sums no windows.
            this.windows = plans && k < trace.steps() ? new PlanWindows(k, options.window(),
                    options.historyWindows(), trace.steps(), trace.layers(), trace.experts()) : null;
            this.cells = options.tokensPerStep() > 0 ? new double[trace.layers() * trace.experts()] : null;
        }

        void accept(LoadMatrix step) {
            LoadMatrix load = cells != null ? rescale(step, t, cells) : step;
            List<LoadMatrix> plan = null;
            if (windows != null && t > 0 && t % options.rebalanceEvery() == 0) {
                plan = windows.at(t);
            }
            for (PolicyRun run : runs) {
                run.step(t, load, plan);
            }
            if (plan != null) {
                windows.done(t);
            }
            if (windows != null) {
                windows.add(t, load);
            }
            t++;
        }

        SimulationReport report() {
            return new SimulationReport(model, cluster, topology, options, trace.steps(),
                    runs.stream().map(PolicyRun::result).toList());
        }
    }

    /** One policy's state and per-step record over a pass. */
    private final class PolicyRun {
        private final Policy policy;
        private final BalancerAlgorithm algorithm;
        private final boolean measure = Double.isNaN(options.planningSeconds());
        private final StepModel steps = new StepModel(model, cluster, options.step());
        private final double[] stepSeconds = new double[trace.steps()];
        private final double[] balancedness = new double[trace.steps()];
        private final double[] dispatch = new double[trace.steps()];
        private final double[] expert = new double[trace.steps()];
        private final double[] combine = new double[trace.steps()];
        private double tokens;
        private double serving;
        private double stalls;
        private double compute;
        private double planningTotal;
        private double migrationTotal;
        private double bytes;
        private long copies;
        private int rebalances;
        private int skipped;
        private boolean warmedUp;
        private Placement current = initial;
        private Placement pending;
        private Transfer transfer; // planning and weight copies before `pending` takes over
        private MigrationCost pendingMigration;

        PolicyRun(Policy policy) {
            this.policy = policy;
            this.algorithm = policy.balancer();
        }

        /** Step {@code t}: the rebalance before it when {@code plan} (its windows) is given, then serving it. */
        void step(int t, LoadMatrix load, List<LoadMatrix> plan) {
            double stall = 0;
            if (algorithm != null && plan != null) {
                if (pending != null) {
                    skipped++;
                } else {
                    BalancingRequest request = request(plan, current);
                    if (measure && !warmedUp) {
                        // The first plan, from the initial placement: what the run warmed up on before it started.
                        warmUp(algorithm, request);
                        warmedUp = true;
                    }
                    long start = System.nanoTime();
                    Placement next = algorithm.rebalance(request);
                    double planning = measure ? (System.nanoTime() - start) * 1e-9 : options.planningSeconds();
                    MigrationCost migration = MigrationCost.between(current, next, model, cluster);
                    rebalances++;
                    planningTotal += planning;
                    if (options.overlapMigration()) {
                        // Counted once it takes over: a transfer still running when the trace ends moved nothing
                        // that served.
                        pending = next;
                        transfer = new Transfer(migration, planning, cluster);
                        pendingMigration = migration;
                    } else {
                        double seconds = migration.seconds(cluster);
                        stall = planning + seconds;
                        current = next;
                        migrationTotal += seconds;
                        bytes += migration.bytes();
                        copies += migration.copies();
                    }
                }
            }
            StepModel.StepCost cost = steps.step(current, load, pending != null ? transfer : null);
            stepSeconds[t] = cost.seconds() + stall;
            balancedness[t] = cost.balancedness();
            dispatch[t] = cost.dispatch();
            expert[t] = cost.compute();
            combine[t] = cost.combine();
            tokens += cost.tokens();
            serving += cost.seconds();
            stalls += stall;
            compute += cost.computeBusy();
            if (pending != null && transfer.done()) {
                current = pending;
                pending = null;
                // As long as it took with the links shared.
                migrationTotal += transfer.seconds();
                bytes += pendingMigration.bytes();
                copies += pendingMigration.copies();
            }
        }

        PolicyResult result() {
            return new PolicyResult(policy.name(), tokens, serving, stalls, compute, rebalances, skipped,
                    pending != null ? 1 : 0, planningTotal,
                    migrationTotal, bytes, copies, stepSeconds, balancedness, dispatch, expert, combine);
        }
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
