package io.moelab.train.loop;

/**
 * Per-layer expert-load statistics over a span of steps: assignments per expert, and from them the coefficient of
 * variation (population standard deviation over mean) and the max/mean ratio — 0 and 1 when perfectly even.
 */
public final class LoadStatistics {
    private final long[][] counts;

    /** Zero counts for {@code layers} layers of {@code experts} experts. */
    public LoadStatistics(int layers, int experts) {
        this.counts = new long[layers][experts];
    }

    /** Adds one step's assignments, per layer and expert. */
    public void add(int[][] stepCounts) {
        for (int l = 0; l < counts.length; l++) {
            for (int e = 0; e < counts[l].length; e++) {
                counts[l][e] += stepCounts[l][e];
            }
        }
    }

    /** Clears the counts. */
    public void reset() {
        for (long[] row : counts) {
            java.util.Arrays.fill(row, 0);
        }
    }

    /** The counts, per layer and expert (live). */
    public long[][] counts() {
        return counts;
    }

    /** The coefficient of variation of each layer's counts (0 for a layer without assignments). */
    public double[] coefficientOfVariation() {
        double[] cv = new double[counts.length];
        for (int l = 0; l < counts.length; l++) {
            double mean = mean(counts[l]);
            if (mean == 0) {
                continue;
            }
            double var = 0;
            for (long c : counts[l]) {
                var += (c - mean) * (c - mean);
            }
            cv[l] = Math.sqrt(var / counts[l].length) / mean;
        }
        return cv;
    }

    /** Each layer's largest count over its mean (1 for a layer without assignments). */
    public double[] maxOverMean() {
        double[] r = new double[counts.length];
        for (int l = 0; l < counts.length; l++) {
            double mean = mean(counts[l]);
            long max = 0;
            for (long c : counts[l]) {
                max = Math.max(max, c);
            }
            r[l] = mean == 0 ? 1 : max / mean;
        }
        return r;
    }

    private static double mean(long[] row) {
        double s = 0;
        for (long c : row) {
            s += c;
        }
        return s / row.length;
    }

    /** The mean of {@code values}. */
    public static double average(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v;
        }
        return values.length == 0 ? 0 : s / values.length;
    }
}
