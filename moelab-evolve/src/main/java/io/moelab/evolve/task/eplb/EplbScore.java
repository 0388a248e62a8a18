package io.moelab.evolve.task.eplb;

/**
 * The fitness of a balancer, in the style of the ADRS leaderboard: {@code 90 × balancedness} plus a speed bonus
 * capped at 10 points, minus a penalty for slow rebalancing.
 *
 * <pre>
 *   speed_score    = min(10, 10 × 1 ms / max(t, 0.001 ms))      (full bonus at 1 ms or faster)
 *   combined_score = 90 × B + speed_score − max(0, t − 10 ms) × 1 point/ms
 * </pre>
 * where B is the mean next-window GPU balancedness (0..1) and t the median wall time of one rebalance (the
 * lowest of five timing rounds' medians, so that a shared machine's bursts do not count) in
 * milliseconds. All constants of the formula live here.
 */
public final class EplbScore {
    /** Points for perfect balance (B = 1). */
    public static final double BALANCE_WEIGHT = 90.0;
    /** Largest speed bonus, in points. */
    public static final double SPEED_BONUS_CAP = 10.0;
    /** Rebalance time (ms) at or below which the full speed bonus is earned; the bonus falls as 1/t above. */
    public static final double FULL_BONUS_MS = 1.0;
    /** Rebalance time (ms) above which every extra millisecond costs {@link #PENALTY_PER_MS}. */
    public static final double PENALTY_FREE_MS = 10.0;
    /** Points lost per millisecond above {@link #PENALTY_FREE_MS}. */
    public static final double PENALTY_PER_MS = 1.0;
    /** Smallest time the bonus divides by, so that a zero measurement stays finite. */
    public static final double MIN_MS = 1e-3;

    private EplbScore() {
    }

    /** The speed bonus for a rebalance time in milliseconds: {@code min(10, 10 × 1 / max(t, 0.001))}. */
    public static double speedScore(double rebalanceMs) {
        return Math.min(SPEED_BONUS_CAP, SPEED_BONUS_CAP * FULL_BONUS_MS / Math.max(rebalanceMs, MIN_MS));
    }

    /** The penalty for a rebalance time in milliseconds: {@code max(0, t − 10) × 1}. */
    public static double timePenalty(double rebalanceMs) {
        return Math.max(0, rebalanceMs - PENALTY_FREE_MS) * PENALTY_PER_MS;
    }

    /** The combined score: {@code 90 × balancedness + speedScore(t) − timePenalty(t)}. */
    public static double combined(double balancedness, double rebalanceMs) {
        return BALANCE_WEIGHT * balancedness + speedScore(rebalanceMs) - timePenalty(rebalanceMs);
    }

    /** The cheap stage-1 score: {@code 90 × balancedness}, no timing. */
    public static double stageOne(double balancedness) {
        return BALANCE_WEIGHT * balancedness;
    }
}
