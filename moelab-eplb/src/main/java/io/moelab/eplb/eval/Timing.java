package io.moelab.eplb.eval;

/**
 * Wall-clock time of one rebalance, measured after warm-up.
 *
 * @param medianMillis median over the timed calls
 * @param p90Millis    90th percentile
 * @param samples      timed calls
 */
public record Timing(double medianMillis, double p90Millis, int samples) {

    /** Summarizes call durations in nanoseconds. */
    public static Timing ofNanos(double[] nanos) {
        double[] millis = new double[nanos.length];
        for (int i = 0; i < nanos.length; i++) {
            millis[i] = nanos[i] / 1e6;
        }
        return new Timing(Stats.median(millis), Stats.quantile(millis, 0.9), millis.length);
    }
}
