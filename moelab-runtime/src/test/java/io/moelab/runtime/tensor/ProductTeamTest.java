package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.time.Duration;
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
    void wholeItemsRunOnceEachAsOneRow() {
        for (int items : new int[] {1, 2, 3, 7}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(items);
            // Heavy enough items (2^20 weights each) that several threads take part.
            TEAM.runWhole(items, 1 << 20, (item, from, to, thread) -> {
                assertThat(from).isZero();
                assertThat(to).isEqualTo(1);
                seen.incrementAndGet(item);
            });
            for (int i = 0; i < items; i++) {
                assertThat(seen.get(i)).as("item %d of %d", i, items).isEqualTo(1);
            }
        }
    }

    /** The layout's chunks as {item, from, to} triples, share by share. */
    private static List<List<List<Integer>>> shares(int[] rows, int[] cols, int threads) {
        ProductTeam.Layout layout = ProductTeam.layout(rows, cols, threads);
        List<List<List<Integer>>> shares = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<List<Integer>> chunks = new java.util.ArrayList<>();
            for (int c = layout.start[t]; c < layout.start[t + 1]; c++) {
                chunks.add(List.of(layout.item[c], layout.from[c], layout.to[c]));
            }
            shares.add(chunks);
        }
        return shares;
    }

    @Test
    void sharesEndAtTheWholeBlockNearestAnEqualPartAndTheirLastChunksAreCutFiner() {
        // 1000 rows of 512 columns on three threads: a third is 333.3 rows, two thirds 666.7, so the shares end at
        // blocks 10 and 21 (rows 320 and 672). Chunks of 128 rows (2^16 weights); each share's last one in pieces of
        // ceil(rows / 4) rounded up to whole 32-row blocks.
        assertThat(shares(new int[] {1000}, new int[] {512}, 3)).containsExactly(
                List.of(List.of(0, 0, 128), List.of(0, 128, 256), List.of(0, 256, 288), List.of(0, 288, 320)),
                List.of(List.of(0, 320, 448), List.of(0, 448, 576), List.of(0, 576, 608), List.of(0, 608, 640),
                        List.of(0, 640, 672)),
                List.of(List.of(0, 672, 800), List.of(0, 800, 928), List.of(0, 928, 960), List.of(0, 960, 992),
                        List.of(0, 992, 1000)));
    }

    @Test
    void equalProductsGoWholeToEachThreadAndAnUnevenJobSplitsWhereTheWeightHalves() {
        // Two experts' down projections on two threads: one each, the last (only) chunk in pieces of 128 rows.
        List<List<Integer>> pieces = List.of(List.of(0, 0, 128), List.of(0, 128, 256), List.of(0, 256, 384),
                List.of(0, 384, 448));
        assertThat(shares(new int[] {448, 448}, new int[] {68, 68}, 2)).containsExactly(pieces,
                pieces.stream().map(c -> List.of(1, c.get(1), c.get(2))).toList());
        // q, k and v (512, 256 and 256 rows of one width): q alone, then k and v.
        List<List<List<Integer>>> qkv = shares(new int[] {512, 256, 256}, new int[] {128, 128, 128}, 2);
        assertThat(qkv.get(0)).allMatch(c -> c.get(0) == 0).hasSize(4);
        assertThat(qkv.get(1)).extracting(c -> c.get(0)).containsExactly(1, 2, 2, 2, 2);
    }

    @Test
    void theLastShareMayStartAtTheEndOfAShortHeavyItem() {
        // Found by the property below (QuickTheories draws new examples every run): 6 rows of 2501 weights and one
        // of 1 on three threads. The equal parts end at rows 2 and 4 of the first item; its blocks are 8 rows,
        // so the boundaries round to rows 0 and 8, clamped to the item's end.
        ProductTeam.Layout layout = ProductTeam.layout(new int[] {6, 1}, new int[] {2501, 1}, 3);
        assertThat(layout.start).containsExactly(0, 0, 1, 2);
        assertThat(List.of(layout.item[0], layout.from[0], layout.to[0])).isEqualTo(List.of(0, 0, 6));
        assertThat(List.of(layout.item[1], layout.from[1], layout.to[1])).isEqualTo(List.of(1, 0, 1));
        // The last share holds one weight against an equal part of 5002, within half a block of item 0 (4 x 2501).
        assertLaidOut(new int[] {6, 1}, new int[] {2501, 1}, 3);
    }

    @Test
    void everyRowIsInExactlyOneChunkInRowOrderAndTheSharesAreNearlyEqual() {
        qt().withExamples(300).forAll(lists().of(integers().between(0, 3000)).ofSizeBetween(1, 6),
                integers().between(1, 5000), integers().between(1, 5)).checkAssert((rowList, colsSeed, threads) -> {
                    int n = rowList.size();
                    int[] cols = new int[n];
                    for (int i = 0; i < n; i++) {
                        cols[i] = 1 + (colsSeed * (i + 1)) % 5000;
                    }
                    assertLaidOut(rowList.stream().mapToInt(Integer::intValue).toArray(), cols, threads);
                });
    }

    /** Every row in exactly one chunk, in row order; each share's weight near an equal part. */
    private static void assertLaidOut(int[] rows, int[] cols, int threads) {
        int n = rows.length;
        long total = 0;
        for (int i = 0; i < n; i++) {
            total += (long) rows[i] * cols[i];
        }
        ProductTeam.Layout layout = ProductTeam.layout(rows, cols, threads);
        assertThat(layout.start[0]).isZero();
        int item = 0;
        int row = 0;
        // The item of the last chunk laid out so far: the share after it starts at a block boundary of that item
        // (rows [6, 1] on three threads start the last share at the end of item 0).
        int lastItem = -1;
        for (int t = 0; t < threads; t++) {
            long weight = 0;
            // A share ends within half a block (at most 32 rows) of its equal part, each end: the start in the item
            // before it or in its own first one, the end in one of its own.
            long slack = lastItem < 0 ? 0 : 32L * cols[lastItem];
            for (int c = layout.start[t]; c < layout.start[t + 1]; c++) {
                while (item < n && row == rows[item]) {
                    item++;
                    row = 0;
                }
                assertThat(List.of(layout.item[c], layout.from[c])).isEqualTo(List.of(item, row));
                assertThat(layout.to[c]).isGreaterThan(row).isLessThanOrEqualTo(rows[item]);
                weight += (long) (layout.to[c] - row) * cols[item];
                slack = Math.max(slack, 32L * cols[item]);
                row = layout.to[c];
                lastItem = item;
            }
            if (weight > 0) {
                assertThat((double) weight).isCloseTo((double) total / threads,
                        org.assertj.core.data.Offset.offset(2.0 * slack + 1));
            }
        }
        while (item < n && row == rows[item]) {
            item++;
            row = 0;
        }
        assertThat(item).as("every row laid out").isEqualTo(n);
    }

    @Test
    void aThreadDoneWithItsShareTakesChunksFromTheBackOfAnothers() {
        ProductTeam pair = new ProductTeam(2);
        try {
            // 1024 rows of 512 columns: the caller's share is rows 0-511, the worker's 512-1023. The worker's first
            // chunk waits until a chunk of its share has run on the caller, which only taking from the back allows;
            // a worker that never wakes leaves the caller all of its share anyway.
            AtomicBoolean stolen = new AtomicBoolean();
            AtomicReference<Integer> firstStolen = new AtomicReference<>();
            long deadline = System.nanoTime() + 10_000_000_000L;
            pair.run(new int[] {1024}, new int[] {512}, (item, from, to, thread) -> {
                if (thread == 0 && from >= 512) {
                    firstStolen.compareAndSet(null, from);
                    stolen.set(true);
                }
                if (thread == 1 && from == 512) {
                    while (!stolen.get() && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                }
            });
            // The worker's share's last chunk, [896, 1024), is cut in pieces of 32 rows: the back one goes first.
            assertThat(firstStolen.get()).isEqualTo(992);
        } finally {
            pair.close();
        }
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

    /**
     * A chunk that throws on a worker, not on the caller: the caller gets that exception (an error as it was thrown,
     * anything else unchecked as it was), not a hang waiting for the worker's other chunks, and the team's workers
     * go on taking jobs.
     */
    @Test
    void aChunkFailingOnAWorkerFailsTheJobAndTheWorkersGoOn() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int round = 0; round < 10; round++) {
                Throwable failure = round % 2 == 0 ? new ArithmeticException("worker " + round)
                        : new StackOverflowError("worker " + round);
                AtomicBoolean thrown = new AtomicBoolean();
                long deadline = System.nanoTime() + 10_000_000_000L;
                Throwable caught = catchThrowable(() -> TEAM.run(new int[] {4096}, new int[] {1024},
                        (item, from, to, thread) -> {
                            if (thread > 0 && thrown.compareAndSet(false, true)) {
                                if (failure instanceof Error e) {
                                    throw e;
                                }
                                throw (RuntimeException) failure;
                            }
                            // The caller's chunks wait for a worker's failure, so that the job is not all theirs.
                            while (!thrown.get() && System.nanoTime() < deadline) {
                                Thread.onSpinWait();
                            }
                        }));
                assertThat(thrown).as("round %d: a worker took a chunk", round).isTrue();
                assertThat(caught).as("round %d", round).isSameAs(failure);
            }
            AtomicBoolean byWorker = new AtomicBoolean();
            AtomicIntegerArray rows = new AtomicIntegerArray(1);
            long deadline = System.nanoTime() + 10_000_000_000L;
            TEAM.run(new int[] {4096}, new int[] {1024}, (item, from, to, thread) -> {
                byWorker.compareAndSet(false, thread > 0);
                while (!byWorker.get() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                rows.addAndGet(0, to - from);
            });
            assertThat(byWorker).isTrue();
            assertThat(rows.get(0)).isEqualTo(4096);
        });
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
            System.setProperty("moelab.threads", "1");
            assertThat(ProductTeam.defaultThreads()).isEqualTo(1);
            System.setProperty("moelab.threads", "0");
            assertThat(ProductTeam.defaultThreads()).isEqualTo(cores);
            System.setProperty("moelab.threads", "many");
            assertThat(ProductTeam.defaultThreads()).isEqualTo(cores);
            // At most eight a processor: a hundred thousand platform threads ran the JVM out of memory.
            System.setProperty("moelab.threads", Integer.toString(8 * cores));
            assertThat(ProductTeam.defaultThreads()).isEqualTo(8 * cores);
            System.setProperty("moelab.threads", Integer.toString(8 * cores + 1));
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
