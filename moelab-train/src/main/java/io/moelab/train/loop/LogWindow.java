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
    /** An empty window. */
    public static final LogWindow EMPTY = new LogWindow(0, 0, 0, 0, 0);

    /** This window with one more step. */
    public LogWindow plus(double stepLoss, double stepAux, double stepZ, double stepDropped) {
        return new LogWindow(steps + 1, loss + stepLoss, aux + stepAux, z + stepZ, dropped + stepDropped);
    }
}
