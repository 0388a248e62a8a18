package io.moelab.sim;

import io.moelab.eplb.eval.Stats;

/**
 * What one policy achieved over a simulated trace. The per-step arrays are the result's own, not copied;
 * {@code equals} compares them by identity, as for any record.
 *
 * @param policy           policy name
 * @param tokens           tokens served
 * @param servingSeconds   time spent in serving steps
 * @param stallSeconds     time serving stood still for rebalances (planning and weight transfer when not
 *                         overlapped)
 * @param computeSeconds   compute time of the average GPU (expert and non-expert work)
 * @param rebalances       placements planned
 * @param skipped          rebalances skipped because the previous one was still being applied (overlap only)
 * @param unfinished       rebalances planned whose placement had not taken over when the trace ended (overlap
 *                         only: 0 or 1); their transfers are not in the migration totals
 * @param planningSeconds  time the algorithm took to plan, summed over every rebalance planned
 * @param migrationSeconds time the weight transfers took, summed over the placements that took over
 * @param migratedBytes    expert weight bytes transferred for the placements that took over
 * @param expertCopies     expert copies transferred for the placements that took over
 * @param stepSeconds      per step: serving time plus any stall in that step
 * @param balancedness     per step: GPU balancedness of routed tokens
 * @param dispatchSeconds  per step: dispatch all-to-all, summed over layers
 * @param expertSeconds    per step: slowest GPU's expert compute, summed over layers
 * @param combineSeconds   per step: combine all-to-all, summed over layers
 */
public record PolicyResult(String policy, double tokens, double servingSeconds, double stallSeconds,
                           double computeSeconds, int rebalances, int skipped, int unfinished,
                           double planningSeconds,
                           double migrationSeconds, double migratedBytes, long expertCopies, double[] stepSeconds,
                           double[] balancedness, double[] dispatchSeconds, double[] expertSeconds,
                           double[] combineSeconds) {

    /** Wall-clock time: serving plus stalls. */
    public double totalSeconds() {
        return servingSeconds + stallSeconds;
    }

    /** Tokens per second of wall-clock time. */
    public double throughputTokensPerSecond() {
        return tokens / totalSeconds();
    }

    /** Median step time, ms (a step's stall included). */
    public double p50StepMs() {
        return Stats.quantile(stepSeconds, 0.5) * 1e3;
    }

    /** 99th percentile step time, ms. */
    public double p99StepMs() {
        return Stats.quantile(stepSeconds, 0.99) * 1e3;
    }

    /** Mean step time, ms. */
    public double meanStepMs() {
        return totalSeconds() / stepSeconds.length * 1e3;
    }

    /** Mean over steps of GPU balancedness. */
    public double meanGpuBalancedness() {
        return Stats.mean(balancedness);
    }

    /** Fraction of wall-clock time the average GPU computes. */
    public double gpuUtilization() {
        return computeSeconds / totalSeconds();
    }

    /** Mean per step of the dispatch all-to-all, ms. */
    public double meanDispatchMs() {
        return Stats.mean(dispatchSeconds) * 1e3;
    }

    /** Mean per step of the slowest GPU's expert compute, ms. */
    public double meanExpertMs() {
        return Stats.mean(expertSeconds) * 1e3;
    }

    /** Mean per step of the combine all-to-all, ms. */
    public double meanCombineMs() {
        return Stats.mean(combineSeconds) * 1e3;
    }
}
