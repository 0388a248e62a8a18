package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ProductTeamTest {
    private static final ProductTeam TEAM = new ProductTeam(3);

    @Test
    void everyRowOfEveryItemRunsExactlyOnce() {
        qt().withExamples(200).forAll(lists().of(integers().between(0, 700)).ofSizeBetween(1, 6),
                integers().between(1, 3000)).checkAssert((rowList, colsSeed) -> {
                    int n = rowList.size();
                    int[] rows = rowList.stream().mapToInt(Integer::intValue).toArray();
                    int[] cols = new int[n];
                    int offset = 0;
                    int[] first = new int[n];
                    for (int i = 0; i < n; i++) {
                        cols[i] = 1 + (colsSeed * (i + 1)) % 3000;
                        first[i] = offset;
                        offset += rows[i];
                    }
                    AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, offset));
                    TEAM.run(rows, cols, (item, from, to, thread) -> {
                        assertThat(thread).isBetween(0, 2);
                        assertThat(from).isLessThan(to);
                        assertThat(to).isLessThanOrEqualTo(rows[item]);
                        for (int r = from; r < to; r++) {
                            seen.incrementAndGet(first[item] + r);
                        }
                    });
                    for (int k = 0; k < offset; k++) {
                        assertThat(seen.get(k)).as("row %d of %s", k, rowList).isEqualTo(1);
                    }
                });
    }

    @Test
    void chunksKeepWholeBlocksAndTheLastOnesAreCutFiner() {
        // 512 columns: 128-row chunks (2^16 weights), whole 32-row blocks; the last three (one per thread) in pieces
        // of 32. 1000 rows: seven chunks of 128 and one of 104 rows.
        java.util.List<int[]> ranges = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        TEAM.run(new int[] {1000}, new int[] {512}, (item, from, to, thread) -> ranges.add(new int[] {from, to}));
        ranges.sort(java.util.Comparator.comparingInt(r -> r[0]));
        int expectedFrom = 0;
        for (int[] r : ranges) {
            assertThat(r[0]).isEqualTo(expectedFrom);
            assertThat(r[0] % 32).isZero();
            assertThat(r[1] - r[0]).isEqualTo(r[0] < 5 * 128 ? 128 : Math.min(32, 1000 - r[0]));
            expectedFrom = r[1];
        }
        assertThat(expectedFrom).isEqualTo(1000);
        assertThat(ranges).hasSize(5 + 3 * 4);
    }

    @Test
    void largeJobsUseTheWorkersAndSmallOnesStayOnTheCaller() {
        AtomicBoolean byWorker = new AtomicBoolean();
        // The caller's chunks wait (up to a generous bound) until a worker has taken one, so that a parked worker
        // on a loaded machine has all the time it needs to wake.
        long deadline = System.nanoTime() + 10_000_000_000L;
        TEAM.run(new int[] {4096}, new int[] {1024}, (item, from, to, thread) -> {
            if (thread > 0) {
                byWorker.set(true);
            }
            while (!byWorker.get() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        });
        assertThat(byWorker.get()).isTrue();
        TEAM.run(new int[] {4}, new int[] {1024}, (item, from, to, thread) -> {
            assertThat(thread).isZero();
            assertThat(from).isZero();
            assertThat(to).isEqualTo(4);
        });
    }

    @Test
    void aFailingChunkFailsTheJobAfterTheOthersFinish() {
        AtomicIntegerArray done = new AtomicIntegerArray(1);
        assertThatThrownBy(() -> TEAM.run(new int[] {2048}, new int[] {512}, (item, from, to, thread) -> {
            if (from == 0) {
                throw new IllegalStateException("chunk 0 failed");
            }
            done.addAndGet(0, to - from);
        })).isInstanceOf(IllegalStateException.class).hasMessage("chunk 0 failed");
        assertThat(done.get(0)).isEqualTo(2048 - ProductTeam.CHUNK_WEIGHTS / 512);
        // The team still works afterwards.
        int[] sum = new int[1];
        TEAM.run(new int[] {8}, new int[] {8}, (item, from, to, thread) -> sum[0] += to - from);
        assertThat(sum[0]).isEqualTo(8);
    }

    @Test
    void concurrentCallersEachGetTheirOwnProducts() throws Exception {
        Random rnd = new Random(9);
        WeightMatrix w = WeightMatrix.ofFloats(TestData.gaussian(rnd, 256 * 512, 1.0), 256, 512);
        List<float[]> inputs = List.of(TestData.gaussian(rnd, 512, 1.0), TestData.gaussian(rnd, 512, 1.0));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        Thread[] callers = new Thread[2];
        for (int c = 0; c < 2; c++) {
            float[] x = inputs.get(c);
            callers[c] = new Thread(() -> {
                try {
                    start.await();
                    for (int round = 0; round < 200; round++) {
                        float[] out = new float[256];
                        MatVec.multiply(w, x, out);
                        for (int r = 0; r < 256; r += 37) {
                            assertThat(out[r]).isEqualTo(w.dot(r, x));
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            callers[c].start();
        }
        start.countDown();
        for (Thread t : callers) {
            t.join();
        }
        assertThat(failure.get()).isNull();
    }

    @Test
    void threadCountComesFromThePropertyOrTheProcessors() {
        String before = System.getProperty("moelab.threads");
        int cores = Runtime.getRuntime().availableProcessors();
        try {
            System.setProperty("moelab.threads", " 3 ");
            assertThat(ProductTeam.defaultThreads()).isEqualTo(3);
            System.setProperty("moelab.threads", "0");
            assertThat(ProductTeam.defaultThreads()).isEqualTo(cores);
            System.setProperty("moelab.threads", "many");
            assertThat(ProductTeam.defaultThreads()).isEqualTo(cores);
            System.clearProperty("moelab.threads");
            assertThat(ProductTeam.defaultThreads()).isEqualTo(cores);
        } finally {
            if (before == null) {
                System.clearProperty("moelab.threads");
            } else {
                System.setProperty("moelab.threads", before);
            }
        }
    }

    @Test
    void aJobPostedFromInsideAJobRunsOnItsCaller() {
        AtomicIntegerArray rows = new AtomicIntegerArray(1);
        TEAM.run(new int[] {1024}, new int[] {1024}, (item, from, to, thread) -> {
            int[] inner = new int[1];
            Thread outer = Thread.currentThread();
            TEAM.run(new int[] {512}, new int[] {1024}, (i2, f2, t2, th2) -> {
                // Alone on the thread that posted it: index 0 of its own job.
                assertThat(Thread.currentThread()).isSameAs(outer);
                assertThat(th2).isZero();
                inner[0] += t2 - f2;
            });
            assertThat(inner[0]).isEqualTo(512);
            rows.addAndGet(0, to - from);
        });
        assertThat(rows.get(0)).isEqualTo(1024);
    }

    @Test
    void aClosedTeamRunsJobsOnTheCallerAndTheSharedTeamCanBeResized() throws Exception {
        ProductTeam team = new ProductTeam(2);
        team.close();
        boolean[] byWorker = new boolean[1];
        team.run(new int[] {4096}, new int[] {1024}, (item, from, to, thread) -> byWorker[0] |= thread != 0);
        assertThat(byWorker[0]).isFalse();
        int before = ProductTeam.shared().threads();
        try {
            ProductTeam.useShared(1);
            assertThat(ProductTeam.shared().threads()).isEqualTo(1);
            ProductTeam one = ProductTeam.shared();
            ProductTeam.useShared(1);
            assertThat(ProductTeam.shared()).as("same size: kept").isSameAs(one);
            ProductTeam.useShared(3);
            assertThat(ProductTeam.shared().threads()).isEqualTo(3);
            float[] x = TestData.gaussian(new Random(3), 512, 1.0);
            WeightMatrix w = WeightMatrix.ofFloats(TestData.gaussian(new Random(4), 512 * 512, 1.0), 512, 512);
            float[] out = new float[512];
            MatVec.multiply(w, x, out);
            assertThat(out[511]).isEqualTo(w.dot(511, x));
        } finally {
            ProductTeam.useShared(before);
        }
        assertThatThrownBy(() -> ProductTeam.useShared(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new ProductTeam(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TEAM.run(new int[] {1}, new int[0], (item, from, to, thread) -> { }))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
