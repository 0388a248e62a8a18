package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LayerWorkersTest {

    /** A scratch that knows whether an index is using it. */
    private static final class Lent {
        final AtomicBoolean inUse = new AtomicBoolean();
        final Thread maker = Thread.currentThread();
    }

    @Test
    void inTurnRunsEveryIndexInOrderWithOneScratchKeptForTheCaller() {
        AtomicInteger made = new AtomicInteger();
        LayerWorkers<List<Integer>> workers = new LayerWorkers<>(false, () -> {
            made.incrementAndGet();
            return new ArrayList<>();
        });
        assertThat(workers.kept()).isNull();
        workers.forEach(0, (s, i) -> s.add(i));
        assertThat(made).hasValue(0);
        assertThat(workers.kept()).isNull();
        workers.forEach(5, (s, i) -> s.add(i));
        workers.forEach(3, (s, i) -> s.add(10 + i));
        assertThat(made).hasValue(1);
        assertThat(workers.kept()).containsExactly(0, 1, 2, 3, 4, 10, 11, 12);

        List<Integer> seen = new ArrayList<>();
        LayerWorkers.forEach(false, 4, seen::add);
        assertThat(seen).containsExactly(0, 1, 2, 3);
    }

    @Test
    void aSingleIndexRunsOnTheCallerEvenWhenParallel() {
        Thread caller = Thread.currentThread();
        List<Thread> ran = new ArrayList<>();
        LayerWorkers<Lent> workers = new LayerWorkers<>(true, Lent::new);
        workers.forEach(1, (s, i) -> ran.add(Thread.currentThread()));
        LayerWorkers.forEach(true, 1, i -> ran.add(Thread.currentThread()));
        assertThat(ran).containsExactly(caller, caller);
        assertThat(workers.kept().maker).isSameAs(caller);
    }

    @Test
    void parallelRunsEveryIndexOnceEachScratchLentToOneIndexAtATimeAndKeptAcrossRuns() {
        int count = 2_000;
        AtomicInteger made = new AtomicInteger();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        LayerWorkers<Lent> workers = new LayerWorkers<>(true, () -> {
            made.incrementAndGet();
            return new Lent();
        });
        for (int run = 0; run < 5; run++) {
            AtomicIntegerArray visits = new AtomicIntegerArray(count);
            workers.forEach(count, (s, i) -> {
                // A scratch lent to two indices at once would be written by both.
                assertThat(s.inUse.getAndSet(true)).isFalse();
                threads.add(Thread.currentThread());
                visits.incrementAndGet(i);
                s.inUse.set(false);
            });
            for (int i = 0; i < count; i++) {
                assertThat(visits.get(i)).as("index %d, run %d", i, run).isEqualTo(1);
            }
        }
        // At most one scratch per drain (the pool's threads and the caller), for all runs together: not one per run
        // (thread locals on the common pool made two a run) or per index.
        assertThat(made.get()).isBetween(1, ForkJoinPool.getCommonPoolParallelism() + 1);
        assertThat(workers.kept()).isNotNull();

        AtomicIntegerArray visits = new AtomicIntegerArray(count);
        LayerWorkers.forEach(true, count, visits::incrementAndGet);
        for (int i = 0; i < count; i++) {
            assertThat(visits.get(i)).isEqualTo(1);
        }
    }

    @Test
    void aFailureInParallelStopsTheRunAndIsRethrownAfterEveryDrainEnded() {
        LayerWorkers<Lent> workers = new LayerWorkers<>(true, Lent::new);
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger running = new AtomicInteger();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> workers.forEach(10_000, (s, i) -> {
            running.incrementAndGet();
            ran.incrementAndGet();
            try {
                if (i == 5) {
                    throw new IllegalStateException("boom at 5");
                }
            } finally {
                running.decrementAndGet();
            }
        })).hasMessageContaining("boom at 5");
        // No index still running once the failure is rethrown, and the rest of the indices were not all run.
        assertThat(running).hasValue(0);
        assertThat(ran.get()).isLessThan(10_000);
        // Every scratch was given back, so none is still marked in use by the failed run.
        workers.forEach(4, (s, i) -> {
            assertThat(s.inUse.getAndSet(true)).isFalse();
            s.inUse.set(false);
        });
        assertThat(workers.kept()).isNotNull();
    }

    /**
     * With more than two drains, a failure is rethrown only once every other drain has ended, and the drains follow
     * the pool the caller runs in. In a pool of four, the first pool drain to start waits until another is inside a
     * slow index, then throws; joined in fork order with {@code join}, whose throw skipped the rest, the thrower
     * (forked first, so stolen first) rethrew while the slow drains still ran, and as a copy of its exception.
     */
    @Test
    void aFailureIsRethrownOnlyAfterEveryOneOfManyDrainsEnded() throws Exception {
        ForkJoinPool pool = new ForkJoinPool(4);
        try {
            for (int round = 0; round < 5; round++) {
                AtomicBoolean thrown = new AtomicBoolean();
                AtomicInteger slow = new AtomicInteger();
                AtomicInteger slowAtRethrow = new AtomicInteger(-1);
                AtomicReference<String> message = new AtomicReference<>();
                Set<Thread> drains = ConcurrentHashMap.newKeySet();
                pool.submit(() -> {
                    Thread caller = Thread.currentThread();
                    try {
                        new LayerWorkers<>(true, Lent::new).forEach(1_000, (s, i) -> {
                            drains.add(Thread.currentThread());
                            if (Thread.currentThread() == caller) {
                                pause(1);
                            } else if (thrown.compareAndSet(false, true)) {
                                for (long end = System.nanoTime() + 1_000_000_000L; slow.get() == 0
                                        && System.nanoTime() < end; ) {
                                    Thread.onSpinWait();
                                }
                                throw new IllegalStateException("boom");
                            } else {
                                slow.incrementAndGet();
                                pause(200);
                                slow.decrementAndGet();
                            }
                        });
                    } catch (IllegalStateException e) {
                        slowAtRethrow.set(slow.get());
                        message.set(e.getMessage());
                    }
                }).get();
                assertThat(slowAtRethrow).as("round %d", round).hasValue(0);
                // The exception the work threw, not the copy that joining a forked task makes ("java.lang....: boom").
                assertThat(message).as("round %d", round).hasValue("boom");
                assertThat(drains.size()).isLessThanOrEqualTo(5);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Rebalances run from the common pool's own tasks (a parallel evaluation) fork their drains inside it: every index
     * still runs once, and each run ends.
     */
    @Test
    void runsNestedInThePoolsOwnTasksVisitEveryIndexOnce() {
        int outer = 8;
        int count = 500;
        AtomicIntegerArray visits = new AtomicIntegerArray(outer * count);
        java.util.stream.IntStream.range(0, outer).parallel().forEach(o -> {
            LayerWorkers<Lent> workers = new LayerWorkers<>(true, Lent::new);
            workers.forEach(count, (s, i) -> {
                assertThat(s.inUse.getAndSet(true)).isFalse();
                visits.incrementAndGet(o * count + i);
                s.inUse.set(false);
            });
        });
        for (int i = 0; i < outer * count; i++) {
            assertThat(visits.get(i)).as("index %d", i).isEqualTo(1);
        }
    }

    @Test
    void aScratchIsGivenBackWhenWorkThrows() {
        AtomicInteger made = new AtomicInteger();
        LayerWorkers<Lent> workers = new LayerWorkers<>(false, () -> {
            made.incrementAndGet();
            return new Lent();
        });
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> workers.forEach(3, (s, i) -> {
            throw new IllegalStateException("boom");
        })).hasMessage("boom");
        workers.forEach(3, (s, i) -> { });
        assertThat(made).hasValue(1);
    }

    /**
     * With {@code parallel} and more than one index, the work runs on two threads at once, the caller one of them:
     * each of two indices waits until the other has started, which only two drains running together get past. (A
     * run on the caller alone, or on the pool without the caller, waits out the minute and fails.)
     */
    @Test
    void parallelWorkRunsOnThePoolAndTheCallerAtOnce() {
        assumeTrue(ForkJoinPool.getCommonPoolParallelism() >= 1);
        Thread caller = Thread.currentThread();
        CountDownLatch started = new CountDownLatch(2);
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        AtomicInteger met = new AtomicInteger();
        new LayerWorkers<>(true, Lent::new).forEach(2, (s, i) -> {
            threads.add(Thread.currentThread());
            started.countDown();
            try {
                met.addAndGet(started.await(1, TimeUnit.MINUTES) ? 1 : 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(met).hasValue(2);
        assertThat(threads).hasSize(2).contains(caller);
    }
}
