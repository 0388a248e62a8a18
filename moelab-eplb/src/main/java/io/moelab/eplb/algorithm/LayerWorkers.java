package io.moelab.eplb.algorithm;

import java.util.ArrayDeque;
import java.util.function.IntConsumer;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Runs work over indices (layers, pairs of layers, candidate models) in turn on the caller's thread, or with
 * {@code parallel} on the common pool, each index with a scratch that no other index uses meanwhile. The one way
 * {@code parallel=on} spreads a rebalance over cores: the forecast, the planner and the migration step all go
 * through it, so all three make the same choice (a single index always runs on the caller) and keep their scratch
 * the same way.
 *
 * <p>Work may run in any order and must write only its own index's results; a caller that needs an order (sums,
 * choices among options) makes it afterwards, serially, which is what keeps parallel results the serial bits.
 *
 * @param <S> scratch: arrays the work overwrites
 */
final class LayerWorkers<S> {
    private final boolean parallel;
    private final Supplier<S> scratch;
    /**
     * Scratch not in use, lent to one index at a time and kept across runs (the migration step makes three passes).
     * Not thread locals: the common pool's threads drop theirs after each task they run, so a pass made its scratch
     * anew (five made for three passes on two threads, measured).
     */
    private final ArrayDeque<S> free = new ArrayDeque<>();

    /**
     * @param parallel run on the common pool where there is more than one index
     * @param scratch  makes a scratch where none is free
     */
    LayerWorkers(boolean parallel, Supplier<S> scratch) {
        this.parallel = parallel;
        this.scratch = scratch;
    }

    /** Runs {@code work} for every index in {@code 0..count-1}, each with a scratch no other index uses meanwhile. */
    void forEach(int count, ObjIntConsumer<S> work) {
        if (parallel && count > 1) {
            IntStream.range(0, count).parallel().forEach(i -> {
                S s = borrow();
                try {
                    work.accept(s, i);
                } finally {
                    giveBack(s);
                }
            });
            return;
        }
        if (count > 0) {
            S s = borrow();
            try {
                for (int i = 0; i < count; i++) {
                    work.accept(s, i);
                }
            } finally {
                giveBack(s);
            }
        }
    }

    /** A scratch that earlier runs made, or {@code null} if none ran (so a caller can keep it for later). */
    synchronized S kept() {
        return free.peekFirst();
    }

    private S borrow() {
        synchronized (this) {
            S s = free.pollFirst();
            if (s != null) {
                return s;
            }
        }
        return scratch.get();
    }

    private synchronized void giveBack(S s) {
        free.addFirst(s);
    }

    /** {@link #forEach} for work that needs no scratch. */
    static void forEach(boolean parallel, int count, IntConsumer work) {
        if (parallel && count > 1) {
            IntStream.range(0, count).parallel().forEach(work);
            return;
        }
        for (int i = 0; i < count; i++) {
            work.accept(i);
        }
    }
}
