package io.moelab.runtime.tensor;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a load-time conversion of a matrix (quantizing, packing) row by row over the {@linkplain ProductTeam#shared
 * shared team}'s threads. Each row writes only its own bytes of the destination, so the result does not depend on
 * which thread converted which row.
 *
 * <p>Why: one thread quantized about 0.4 GB of BF16 a second, so a 28.6 GB checkpoint spent over a minute in it at
 * load. A failure is still deterministic: each chunk stops at its first failing row, and the failure of the lowest
 * such row is thrown, which is the one a single thread would have met first. Memory confined to the calling thread
 * (a caller's {@code Arena.ofConfined()}) cannot be reached from the team's other threads: a conversion that meets
 * it there runs again on the caller alone, which rewrites every row.
 */
final class RowConversion {
    /** The conversion of one row. */
    @FunctionalInterface
    interface Row {
        /**
         * Converts row {@code row}.
         *
         * @param scratch {@code cols} floats owned by the calling thread for the duration of the call
         */
        void convert(int row, float[] scratch);
    }

    private record Failure(int row, RuntimeException exception) {
    }

    /** A team of the caller alone: it starts no thread. */
    private static final ProductTeam SOLO = new ProductTeam(1);

    private RowConversion() {
    }

    /**
     * Converts rows {@code 0} to {@code rows - 1}, each of {@code cols} weights.
     *
     * @throws RuntimeException the exception of the lowest row whose conversion threw
     */
    static void run(int rows, int cols, Row row) {
        try {
            run(rows, cols, row, ProductTeam.shared());
        } catch (WrongThreadException e) {
            run(rows, cols, row, SOLO);
        }
    }

    private static void run(int rows, int cols, Row row, ProductTeam team) {
        float[][] scratch = new float[team.threads()][];
        AtomicReference<Failure> first = new AtomicReference<>();
        team.run(new int[] {rows}, new int[] {cols}, (item, from, to, thread) -> {
            float[] w = scratch[thread];
            if (w == null) {
                w = new float[cols];
                scratch[thread] = w;
            }
            for (int r = from; r < to; r++) {
                Failure seen = first.get();
                if (seen != null && seen.row() < r) {
                    return;
                }
                try {
                    row.convert(r, w);
                } catch (RuntimeException e) {
                    Failure mine = new Failure(r, e);
                    first.accumulateAndGet(mine, (a, b) -> a == null || b.row() < a.row() ? b : a);
                    return;
                }
            }
        });
        Failure failure = first.get();
        if (failure != null) {
            throw failure.exception();
        }
    }
}
