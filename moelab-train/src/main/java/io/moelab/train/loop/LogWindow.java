package io.moelab.train.loop;

/**
 * Sums over the steps since the last {@code metrics.jsonl} line; a checkpoint saves them so that a resumed run
 * writes the same lines.
 *
 * @param steps   steps in the window
 * @param loss    summed cross-entropy
 * @param aux     summed load-balancing loss
 * @param z       summed z-loss
 * @param dropped summed share of assignments dropped by capacity
 */
public record LogWindow(int steps, double loss, double aux, double z, double dropped) {
    /**
     * Checks the fields: a checkpoint's window edited to -3 steps made the next metrics line divide by it.
     *
     * @throws IllegalArgumentException if {@code steps} is negative or a sum is not finite
     */
    public LogWindow {
        if (steps < 0) {
            throw new IllegalArgumentException("window steps must be at least 0, got " + steps);
        }
        double[] sums = {loss, aux, z, dropped};
        String[] names = {"loss", "aux", "z", "dropped"};
        for (int i = 0; i < sums.length; i++) {
            if (!Double.isFinite(sums[i])) {
                throw new IllegalArgumentException("window " + names[i] + " must be a finite number, got " + sums[i]);
            }
        }
    }

    /** An empty window. */
    public static final LogWindow EMPTY = new LogWindow(0, 0, 0, 0, 0);

    /** This window with one more step. */
    public LogWindow plus(double stepLoss, double stepAux, double stepZ, double stepDropped) {
        return new LogWindow(steps + 1, loss + stepLoss, aux + stepAux, z + stepZ, dropped + stepDropped);
    }
}
