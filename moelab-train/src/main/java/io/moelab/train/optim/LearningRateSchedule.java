package io.moelab.train.optim;

/**
 * Linear warm-up to the peak rate, then cosine decay to {@code minRatio * peak} at the last step ({@code steps - 1}).
 *
 * @param peak     the rate after warm-up
 * @param warmup   warm-up steps
 * @param steps    total steps
 * @param minRatio the final rate as a share of the peak
 */
public record LearningRateSchedule(double peak, int warmup, int steps, double minRatio) {
    /** The rate of step {@code step} (0-based). */
    public double at(long step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        // Steps warmup to steps - 1: the last one runs at the floor.
        long decay = Math.max(1, steps - 1L - warmup);
        double progress = Math.min(1.0, (double) (step - warmup) / decay);
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (minRatio + (1 - minRatio) * cosine);
    }
}
