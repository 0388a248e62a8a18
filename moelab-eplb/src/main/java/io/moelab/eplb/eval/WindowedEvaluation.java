package io.moelab.eplb.eval;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.WindowSums;
import java.util.ArrayList;
import java.util.List;

/**
 * The field's protocol for scoring load balancers on a trace (as in vLLM and the ADRS benchmark): sum
 * consecutive steps into windows, plan on window i (with earlier windows as history), score the plan on
 * window i+1. Planning on the window that is scored would be hindsight; this measures what a deployed
 * balancer achieves when traffic drifts.
 */
public final class WindowedEvaluation {

    /**
     * Protocol settings.
     *
     * @param window         trace steps per window
     * @param historyWindows earlier windows passed to the algorithm (0 for none)
     * @param warmupMillis   wall-clock spent calling each algorithm before timing it, so that the JIT has
     *                       compiled it
     * @param minTimedCalls  timed calls per algorithm at least; short traces are cycled to reach it
     * @param hindsight      plan on the window that is scored, without history or previous placement: the
     *                       reference for what perfect forecasting would reach
     */
    public record Options(int window, int historyWindows, long warmupMillis, int minTimedCalls, boolean hindsight) {
        /** Validates the settings. */
        public Options {
            if (window <= 0) {
                throw new InvalidInputException("window", "must be at least 1 step, got " + window);
            }
            if (historyWindows < 0) {
                throw new InvalidInputException("history", "must be 0 or more windows, got " + historyWindows);
            }
            // The same bounds as bench's warm-up: a deadline in nanoseconds must not overflow.
            RebalanceTimer.requireMillis("warmup-ms", warmupMillis, 0);
            if (minTimedCalls < 1) {
                throw new InvalidInputException("timed calls", "must be at least 1, got " + minTimedCalls);
            }
        }

        /** Defaults: 16 windows of history, 300 ms warm-up, at least 10 timed calls, no hindsight. */
        public static Options window(int window) {
            return new Options(window, 16, 300, 10, false);
        }

        /** The same options, planning with hindsight or not. */
        public Options withHindsight(boolean on) {
            return new Options(window, historyWindows, warmupMillis, minTimedCalls, on);
        }
    }

    /** Receives progress: plans done out of plans in total. */
    @FunctionalInterface
    public interface Progress {
        /** No reporting. */
        Progress NONE = (done, total) -> { };

        /**
         * Called after each plan.
         *
         * @param done  plans made so far, over all algorithms
         * @param total plans to make, over all algorithms
         */
        void update(int done, int total);
    }

    private WindowedEvaluation() {
    }

    /**
     * Runs the protocol on a trace; see {@link #run(List, int, Topology, List, Options, Progress)}.
     *
     * @param progress told of the work done; {@link Progress#NONE} for no reporting, not null
     */
    public static EvaluationReport run(ExpertLoadTrace trace, Topology topology, List<BalancerAlgorithm> algorithms,
                                       Options options, Progress progress) {
        List<LoadMatrix> windows = trace.windows(options.window());
        requireTwoWindows(windows.size(), trace.steps(), options.window());
        return run(windows, options.window(), topology, algorithms, options, progress);
    }

    /**
     * Runs the protocol on windows summed as a trace was read (see {@link WindowSums}), with the same checks and
     * results as {@link #run(ExpertLoadTrace, Topology, List, Options, Progress)} on that trace.
     *
     * @param progress told of the work done; {@link Progress#NONE} for no reporting, not null
     * @throws IllegalArgumentException if the windows are not of {@code options.window()} steps
     */
    public static EvaluationReport run(WindowSums sums, Topology topology, List<BalancerAlgorithm> algorithms,
                                       Options options, Progress progress) {
        if (sums.window() != options.window()) {
            throw new IllegalArgumentException("windows of " + sums.window() + " steps, options say "
                    + options.window());
        }
        List<LoadMatrix> windows = sums.windows();
        requireTwoWindows(windows.size(), sums.steps(), options.window());
        return run(windows, options.window(), topology, algorithms, options, progress);
    }

    private static void requireTwoWindows(int windows, long steps, int window) {
        if (windows < 2) {
            throw new InvalidInputException("window", "the trace has " + Nouns.count(steps, "step")
                    + ", so windows of " + window + " give " + Nouns.count(windows, "complete window")
                    + "; at least 2 are needed (plan on one, score on the next)");
        }
    }

    /**
     * Runs the protocol on pre-summed windows.
     *
     * @param windows    at least two windows of equal shape, oldest first
     * @param windowSize steps per window, for the report
     * @param progress   told of the work done; {@link Progress#NONE} for no reporting, not null
     */
    public static EvaluationReport run(List<LoadMatrix> windows, int windowSize, Topology topology,
                                       List<BalancerAlgorithm> algorithms, Options options, Progress progress) {
        if (windows.size() < 2) {
            throw new InvalidInputException("windows", "need at least 2 windows, got " + windows.size());
        }
        LoadMatrix first = windows.getFirst();
        topology.requireFits(first.experts());
        // Every window is planned on or scored on (or both): the last one, only scored, once passed unchecked and
        // its loads near 1e308 made every balancedness NaN. Windows are named as traces count them.
        for (int w = 0; w < windows.size(); w++) {
            windows.get(w).requirePlannable("window " + w + " (steps " + (long) w * windowSize + "-"
                    + ((long) (w + 1) * windowSize - 1) + "), layer and expert ");
        }
        int plans = windows.size() - 1;
        int total = plans * algorithms.size();
        List<AlgorithmReport> reports = new ArrayList<>();
        int done = 0;
        for (BalancerAlgorithm algorithm : algorithms) {
            warmUp(algorithm, windows, topology, options);
            double[] gpu = new double[plans];
            double[] slot = new double[plans];
            double[] node = new double[plans];
            double[] nanos = new double[Math.max(plans, options.minTimedCalls())];
            double moved = 0;
            double colocatedPairs = 0;
            Placement previous = null;
            for (int i = 0; i < plans; i++) {
                BalancingRequest request = request(windows, i, topology, options, previous);
                long start = System.nanoTime();
                Placement plan = algorithm.rebalance(request);
                nanos[i] = System.nanoTime() - start;
                PlacementScore score = PlacementEvaluator.score(plan, windows.get(i + 1));
                gpu[i] = score.gpuBalancedness();
                slot[i] = score.slotBalancedness();
                node[i] = score.nodeBalancedness();
                colocatedPairs += score.colocatedPairs();
                if (previous != null) {
                    moved += PlacementEvaluator.migration(previous, plan).expertsMoved();
                }
                previous = plan;
                progress.update(++done, total);
            }
            // More calls than plans where the timing needs them: the same requests again, each with the placement
            // before it (as the plans had; without one, moelab skipped its migration step and timed fast).
            for (int k = plans; k < nanos.length; k++) {
                BalancingRequest request = request(windows, k % plans, topology, options, previous);
                long start = System.nanoTime();
                previous = algorithm.rebalance(request);
                nanos[k] = System.nanoTime() - start;
            }
            reports.add(new AlgorithmReport(options.hindsight() ? algorithm.name() + " (hindsight)" : algorithm.name(),
                    Stats.mean(gpu), Stats.min(gpu), Stats.mean(slot), Stats.mean(node), gpu,
                    plans > 1 ? moved / (plans - 1) : 0, colocatedPairs / plans, Timing.ofNanos(nanos)));
        }
        double[] bounds = new double[plans];
        for (int i = 0; i < plans; i++) {
            bounds[i] = BalanceBound.of(windows.get(i + 1), topology);
        }
        return new EvaluationReport(topology, windowSize, windows.size(), first.layers(), first.experts(), bounds,
                List.copyOf(reports));
    }

    /**
     * Plan {@code i}'s request: window {@code i} with its history and the placement in service, or, with hindsight,
     * window {@code i + 1} alone.
     */
    private static BalancingRequest request(List<LoadMatrix> windows, int i, Topology topology, Options options,
                                            Placement previous) {
        if (options.hindsight()) {
            return BalancingRequest.of(windows.get(i + 1), topology);
        }
        List<LoadMatrix> history = windows.subList(Math.max(0, i - options.historyWindows()), i);
        return new BalancingRequest(windows.get(i), history, topology, previous);
    }

    /**
     * Calls the algorithm untimed on the plans' requests in turn, each after the first with the placement the call
     * before made, as the timed plans are made (with hindsight, the next window alone): warmed up on other requests,
     * moelab's migration step and its hindsight plans (no history) were first compiled in the timed calls.
     */
    private static void warmUp(BalancerAlgorithm algorithm, List<LoadMatrix> windows, Topology topology,
                               Options options) {
        long deadline = System.nanoTime() + options.warmupMillis() * 1_000_000L;
        int calls = 0;
        Placement previous = null;
        do {
            int i = calls % (windows.size() - 1);
            previous = algorithm.rebalance(request(windows, i, topology, options, i == 0 ? null : previous));
            calls++;
        } while (System.nanoTime() < deadline);
    }
}
