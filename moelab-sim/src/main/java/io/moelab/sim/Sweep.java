package io.moelab.sim;

import io.moelab.eplb.InvalidInputException;
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
        return redundants.stream().sorted().map(r -> new Variant(Parameter.REDUNDANT, r, base.withRedundant(r))).toList();
    }

    /**
     * Redundant slot counts worth trying: the fewest that fill every GPU evenly, and the next {@code more}
     * counts that add one slot per GPU each.
     */
    public static List<Integer> defaultRedundants(int experts, int gpus, int more) {
        int first = Math.max(gpus, Math.ceilDiv(experts, gpus) * gpus) - experts;
        List<Integer> values = new ArrayList<>();
        for (int j = 0; j <= more; j++) {
            values.add(first + j * gpus);
        }
        return values;
    }

    /**
     * Checks every variant before any runs: the trace against the model, and that every policy can plan there.
     * Each simulation checked its own policies only when it started, so a policy that first plans in a later variant
     * (an interval sweep whose runs never rebalance, before the redundancy sweep that does) failed after the earlier
     * variants had been simulated. Costs one plan per policy and variant.
     *
     * @throws InvalidInputException as {@link Simulation#Simulation} and {@link Simulation#requireCanPlan(List)}
     */
    public static void requireCanRun(ExpertLoadTrace trace, ModelSpec model, ClusterSpec cluster,
                                     List<Policy> policies, List<Variant> variants) {
        for (Variant v : variants) {
            new Simulation(trace, model, cluster, v.options()).requireCanPlan(policies);
        }
    }

    /**
     * Runs every variant with every policy, one after the other.
     *
     * @throws InvalidInputException before any variant runs, as {@link #requireCanRun}
     */
    public static List<Point> run(ExpertLoadTrace trace, ModelSpec model, ClusterSpec cluster, List<Policy> policies,
                                  List<Variant> variants, Simulation.Progress progress) {
        requireCanRun(trace, model, cluster, policies, variants);
        List<Point> points = new ArrayList<>();
        long perRun = (long) trace.steps() * policies.size();
        long total = perRun * variants.size();
        for (int i = 0; i < variants.size(); i++) {
            Variant v = variants.get(i);
            long offset = perRun * i;
            SimulationReport report = new Simulation(trace, model, cluster, v.options())
                    .run(policies, (done, ignored) -> progress.update(offset + done, total));
            points.add(new Point(v.parameter(), v.value(), report));
        }
        return List.copyOf(points);
    }
}
