package io.moelab.eplb.eval;

import java.util.Arrays;

/** Summary statistics over samples. */
public final class Stats {
    private Stats() {
    }

    /** Arithmetic mean; NaN for no samples. */
    public static double mean(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /** Smallest value; NaN for no samples. */
    public static double min(double[] values) {
        return values.length == 0 ? Double.NaN : Arrays.stream(values).min().orElseThrow();
    }

    /**
     * The {@code q}-quantile (0..1) with linear interpolation between closest ranks (NumPy's default); NaN for
     * no samples.
     */
    public static double quantile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** The median. */
    public static double median(double[] values) {
        return quantile(values, 0.5);
    }
}
