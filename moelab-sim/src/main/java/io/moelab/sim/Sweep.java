package io.moelab.sim;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Topology;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Simulations that vary one setting at a time around a base: the rebalance interval K (redundancy fixed), and
 * the redundant slots per layer (K fixed). Answers "how often should I rebalance" and "how many redundant
 * experts are worth their memory".
 */
public final class Sweep {
    private Sweep() {
    }

    /** The swept settings. */
    public enum Parameter {
        /** Steps between rebalances. */
        REBALANCE_EVERY("rebalance_every"),
        /** Redundant slots per layer. */
        REDUNDANT("redundant");

        private final String key;

        Parameter(String key) {
            this.key = key;
        }

        /** The name in JSON and on plots. */
        public String key() {
            return key;
        }
    }

    /**
     * One simulation to run: the base options with one setting changed.
     *
     * @param parameter the setting varied
     * @param value     its value
     * @param options   the options to simulate with
     */
    public record Variant(Parameter parameter, int value, Simulation.Options options) {
    }

    /**
     * One simulation of the sweep.
     *
     * @param parameter the setting varied
     * @param value     its value
     * @param report    the simulation's report (every policy)
     */
    public record Point(Parameter parameter, int value, SimulationReport report) {
    }

    /**
     * Variants over rebalance intervals, in ascending order of the interval (a sweep's plot joins its points in
     * order: intervals given as 100,10,50 drew a line back and forth).
     *
     * @param windowFollows plan from the last K steps (W = K) rather than the base window
     * @throws InvalidInputException naming {@code intervals} for an interval below one step or listed twice
     */
    public static List<Variant> intervals(Simulation.Options base, List<Integer> intervals, boolean windowFollows) {
        for (int k : intervals) {
            if (k < 1) {
                throw new InvalidInputException("intervals", "must be at least 1 step, got " + k);
            }
        }
        InvalidInputException.requireDistinct("intervals", "a value", intervals);
        return intervals.stream().sorted().map(k -> new Variant(Parameter.REBALANCE_EVERY, k,
                base.withRebalanceEvery(k, windowFollows ? k : base.window()))).toList();
    }

    /**
     * Variants over redundant slot counts, in ascending order of the count (as {@link #intervals}).
     *
     * @throws InvalidInputException naming {@code redundants} for a negative count or one listed twice,
     *                               {@code redundant} for one that does not fill the cluster's GPUs evenly
     */
    public static List<Variant> redundants(Simulation.Options base, List<Integer> redundants, ModelSpec model,
                                           ClusterSpec cluster) {
        for (int r : redundants) {
            // -1 is Simulation.Options' sentinel for the default count; here every count is one the user asked for.
            if (r < 0) {
                throw new InvalidInputException("redundants", "must be 0 or more, got " + r);
            }
            Simulation.replicas(model.experts(), cluster.gpus(), r);
        }
        InvalidInputException.requireDistinct("redundants", "a value", redundants);
        return redundants.stream().sorted().map(r -> new Variant(Parameter.REDUNDANT, r, base.withRedundant(r)))
                .toList();
    }

    /**
     * Redundant slot counts worth trying: the fewest that fill every GPU evenly, and the next {@code more}
     * counts that add one slot per GPU each, less those past a placement's {@link Topology#MAX_REPLICAS} slots
     * (none, where even the fewest is: no count can be simulated there).
     */
    public static List<Integer> defaultRedundants(int experts, int gpus, int more) {
        // In long: near the limit the slots pass it, and a count past it failed the sweep as if the user had asked.
        long first = Math.max(gpus, Math.ceilDiv((long) experts, gpus) * gpus) - experts;
        List<Integer> values = new ArrayList<>();
        for (int j = 0; j <= more && experts + first + (long) j * gpus <= Topology.MAX_REPLICAS; j++) {
            values.add((int) (first + (long) j * gpus));
        }
        return values;
    }

    /**
     * Checks every variant before any runs: the trace against the model, and that every policy can plan there.
     * Each simulation checked its own policies only when it started, so a policy that first plans in a later variant
     * (an interval sweep whose runs never rebalance, before the redundancy sweep that does) failed after the earlier
     * variants had been simulated. Costs one plan per policy and variant.
     *
     * @return the simulation of each variant, in order, for {@link #run(List, List, List, Simulation.Progress)}
     * @throws InvalidInputException as {@link Simulation#Simulation} and {@link Simulation#requireCanPlan(List)}
     */
    public static List<Simulation> requireCanRun(TraceSource trace, ModelSpec model, ClusterSpec cluster,
                                                 List<Policy> policies, List<Variant> variants) {
        List<Simulation> simulations = new ArrayList<>();
        for (Variant v : variants) {
            Simulation simulation = new Simulation(trace, model, cluster, v.options());
            simulation.requireCanPlan(policies);
            simulations.add(simulation);
        }
        return List.copyOf(simulations);
    }

    /** {@link #requireCanRun(TraceSource, ModelSpec, ClusterSpec, List, List)} of a trace in memory. */
    public static List<Simulation> requireCanRun(ExpertLoadTrace trace, ModelSpec model, ClusterSpec cluster,
                                                 List<Policy> policies, List<Variant> variants) {
        return requireCanRun(TraceSource.of(trace), model, cluster, policies, variants);
    }

    /**
     * Runs every variant with every policy.
     *
     * @param progress told of the steps simulated; {@link Simulation.Progress#NONE} for no reporting, not null
     * @throws InvalidInputException before any variant runs, as {@link #requireCanRun}
     */
    public static List<Point> run(TraceSource trace, ModelSpec model, ClusterSpec cluster, List<Policy> policies,
                                  List<Variant> variants, Simulation.Progress progress) {
        return run(variants, requireCanRun(trace, model, cluster, policies, variants), policies, progress);
    }

    /**
     * {@link #run(TraceSource, ModelSpec, ClusterSpec, List, List, Simulation.Progress)} of a trace in memory.
     *
     * @param progress told of the steps simulated; {@link Simulation.Progress#NONE} for no reporting, not null
     */
    public static List<Point> run(ExpertLoadTrace trace, ModelSpec model, ClusterSpec cluster, List<Policy> policies,
                                  List<Variant> variants, Simulation.Progress progress) {
        return run(TraceSource.of(trace), model, cluster, policies, variants, progress);
    }

    /**
     * Runs every variant with every policy on the simulations {@link #requireCanRun} made for them, all over one
     * reading of the trace: a variant costs its policies' steps, not another reading.
     *
     * @param simulations one per variant, in order, of one trace
     * @param progress    told of the steps simulated; {@link Simulation.Progress#NONE} for no reporting, not null
     * @throws InvalidInputException    before any variant runs, naming {@code policies} if one cannot plan
     * @throws IllegalArgumentException if there is not one simulation per variant, or they are of different traces
     */
    public static List<Point> run(List<Variant> variants, List<Simulation> simulations, List<Policy> policies,
                                  Simulation.Progress progress) {
        if (simulations.size() != variants.size()) {
            throw new IllegalArgumentException(simulations.size() + " simulations for " + variants.size()
                    + " variants");
        }
        if (variants.isEmpty()) {
            return List.of();
        }
        for (Simulation simulation : simulations) {
            simulation.requireCanPlan(policies);
        }
        List<SimulationReport> reports = Simulation.together(simulations, policies, progress);
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < variants.size(); i++) {
            Variant v = variants.get(i);
            points.add(new Point(v.parameter(), v.value(), reports.get(i)));
        }
        return List.copyOf(points);
    }
}
