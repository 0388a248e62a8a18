package io.moelab.runtime.tensor;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed team of threads that share the rows of a few matrix products at a time: the caller plus
 * {@code threads - 1} workers that spin briefly between jobs, then park.
 *
 * <p>Why not the common {@link java.util.concurrent.ForkJoinPool}: one decoded token of a small MoE makes about ten
 * products per layer of a few hundred thousand weights each, 0.1-1 ms of streaming apiece, and waking a parked pool
 * worker and joining it costs tens of microseconds per product. Here a worker that finished the previous job is
 * still spinning when the next one is posted, so it joins within about a microsecond; and the products a layer can
 * run together (q, k and v; the chosen experts' gate and up projections) form one job, so the team synchronizes a
 * few times per layer rather than once per product.
 *
 * <p>A job's rows (its items' rows end to end) are cut into one contiguous share per thread of about equal weight,
 * ending at whole blocks (rows in multiples of 32 or eight, which the multi-row kernels and {@link Int4BlockMatrix}'s
 * row blocks stream together, where rows are that light), and each share into chunks of about
 * {@value #CHUNK_WEIGHTS} weights. A thread runs its own share's chunks in order, so it streams its rows as one run
 * and two equal products on two threads are one each; then it takes chunks from the back of the others' shares, so
 * a thread that the host preempts delays the job by at most a chunk. Each share's last chunk is cut in up to
 * {@value #TAIL_PIECES} pieces (whole blocks still), so that what is left to take at the end is small. Which thread
 * computes a row never changes its bits: every row is one {@link WeightMatrix#dotRows} call of the same kernel.
 * Callers that find the team busy (another thread's job in flight, or their own work posting a job from inside a
 * job) run their job alone.
 */
public final class ProductTeam {
    /**
     * Weights per chunk. Larger chunks stream faster (each chunk restarts the row streams and the prefetchers'
     * ramp), smaller ones even out better when the host stalls a thread. Measured on m100 decode (2 threads, tok/s
     * F32 / BF16): 2^13 219 / 286, 2^14 223-254 / 389-452, 2^15 251-253 / 407-424, 2^16 281-329 / 459-541, 2^17
     * 266-341 / 442-567.
     */
    public static final int CHUNK_WEIGHTS = 1 << 16;
    /** Jobs with fewer weights run on the caller: the hand-off would cost more than it saves. */
    public static final int MIN_PARALLEL_WEIGHTS = 1 << 15;
    /** Pieces each share's last chunk is cut into. */
    static final int TAIL_PIECES = 4;
    /** How long an idle worker spins before it parks: longer than the gaps between a decode step's products. */
    private static final long SPIN_NANOS = 500_000;

    /** The process-wide team, started on first use. */
    private static volatile ProductTeam shared;

    /** The rows of the items of one job; called for disjoint row ranges, possibly from several threads at once. */
    @FunctionalInterface
    public interface RowWork {
        /**
         * Computes rows {@code from} to {@code to - 1} of item {@code item}.
         *
         * @param thread the calling thread's index in this job, 0 for its caller (and for every row of a job run
         *               alone): for scratch that the job allocates per thread
         */
        void rows(int item, int from, int to, int thread);
    }

    private final int threads;
    private final Thread[] workers;
    private final AtomicIntegerArray sleeping;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Job posted;
    private volatile boolean closed;

    /**
     * A team of {@code threads} threads: the caller and {@code threads - 1} daemon workers, started now.
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public ProductTeam(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a team needs at least one thread, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.sleeping = new AtomicIntegerArray(Math.max(1, threads - 1));
        for (int w = 0; w < workers.length; w++) {
            int index = w + 1;
            workers[w] = Thread.ofPlatform().daemon().name("moelab-products-" + index).unstarted(() -> work(index));
            workers[w].start();
        }
    }

    /**
     * The process-wide team: as many threads as available processors, or the system property
     * {@code moelab.threads} where set to an integer from 1 to {@link #MAX_THREADS_PER_PROCESSOR} per processor
     * (otherwise a warning and the default).
     */
    public static ProductTeam shared() {
        ProductTeam t = shared;
        if (t != null) {
            return t;
        }
        synchronized (ProductTeam.class) {
            if (shared == null) {
                shared = new ProductTeam(defaultThreads());
            }
            return shared;
        }
    }

    /**
     * Makes the process-wide team {@code threads} threads strong (a command's {@code --threads}): starts it so, or
     * replaces a team of another size once its job in flight, if any, is done.
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public static synchronized void useShared(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a team needs at least one thread, got " + threads);
        }
        if (shared != null && shared.threads == threads) {
            return;
        }
        if (shared != null) {
            shared.close();
        }
        shared = new ProductTeam(threads);
    }

    /**
     * Stops the workers once the job in flight, if any, is done; later jobs run on their callers alone. Teams are
     * cheap to keep (idle workers park), so only {@link #useShared} closes the shared one.
     */
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Most threads a team should have per available processor: each is a platform thread spinning or parked
     * between jobs, and beyond a few per core they only wait for one.
     */
    public static final int MAX_THREADS_PER_PROCESSOR = 8;

    static int defaultThreads() {
        int cores = Runtime.getRuntime().availableProcessors();
        String p = System.getProperty("moelab.threads");
        if (p == null) {
            return cores;
        }
        try {
            int n = Integer.parseInt(p.trim());
            if (n >= 1 && n <= MAX_THREADS_PER_PROCESSOR * cores) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        // Read while a class initializes, where an exception would surface as an initializer error: warn instead.
        System.err.println("warning: moelab.threads must be an integer from 1 to " + MAX_THREADS_PER_PROCESSOR * cores
                + ", got '" + p + "'; using " + cores);
        return cores;
    }

    /** Threads of the team, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code work} once for each of {@code items} whole items of {@code weight} weights each: every item is one
     * row, so a thread takes an item whole ({@code from = 0, to = 1}). For jobs whose items need nothing from one
     * another, such as a KV head's group of attention heads or an expert's SwiGLU block.
     */
    public void runWhole(int items, int weight, RowWork work) {
        int[] rows = new int[items];
        int[] cols = new int[items];
        Arrays.fill(rows, 1);
        Arrays.fill(cols, weight);
        run(rows, cols, work);
    }

    /**
     * Runs {@code work} over every row of every item: item {@code i} has {@code rows[i]} rows of {@code cols[i]}
     * weights each (what a chunk's size is measured in; {@link MatVec} counts a row's bytes in F32 weights, so that
     * compressed formats get chunks of as many bytes). Returns when all rows are done.
     *
     * @throws RuntimeException an exception thrown by {@code work}: at once when the job runs on the caller alone,
     *                          else after every chunk has finished (one of them, if several threw)
     */
    public void run(int[] rows, int[] cols, RowWork work) {
        Objects.requireNonNull(work, "work");
        if (rows.length != cols.length) {
            throw new IllegalArgumentException(rows.length + " row counts but " + cols.length + " column counts");
        }
        long weights = 0;
        for (int i = 0; i < rows.length; i++) {
            weights += (long) rows[i] * cols[i];
        }
        // A job posted from inside another job's work (the lock is reentrant) would replace the one in flight.
        if (threads == 1 || weights < MIN_PARALLEL_WEIGHTS || closed || lock.isHeldByCurrentThread()
                || !lock.tryLock()) {
            for (int i = 0; i < rows.length; i++) {
                if (rows[i] > 0) {
                    work.rows(i, 0, rows[i], 0);
                }
            }
            return;
        }
        try {
            Job job = new Job(rows, cols, work, threads);
            posted = job;
            for (int w = 0; w < workers.length; w++) {
                if (sleeping.get(w) != 0) {
                    LockSupport.unpark(workers[w]);
                }
            }
            job.runChunks(0);
            job.awaitDone();
            posted = null;
        } finally {
            lock.unlock();
        }
    }

    private void work(int index) {
        Job seen = null;
        while (!closed) {
            Job job = posted;
            long idleSince = System.nanoTime();
            int spins = 0;
            while (job == null || job == seen) {
                if (closed) {
                    return;
                }
                // The clock is read every 64th spin only: between a decode step's products the caller runs alone,
                // possibly on the other hardware thread of this worker's core. Measured with the silu change (m100
                // INT4_I8): the caller's time outside the products per token 85-109 -> 46-61 µs.
                if ((++spins & 63) != 0 || System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    // Announce the nap, then look once more: the poster writes the job before it reads the flag,
                    // so either it sees the flag and unparks, or this read sees its job.
                    sleeping.set(index - 1, 1);
                    if ((posted == null || posted == seen) && !closed) {
                        LockSupport.park(this);
                    }
                    sleeping.set(index - 1, 0);
                    idleSince = System.nanoTime();
                }
                job = posted;
            }
            seen = job;
            job.runChunks(index);
        }
    }

    /**
     * A job's chunks in the order of the items' rows laid end to end, cut into one contiguous share per thread of
     * about equal weight: thread {@code t} owns chunks {@code start[t]} to {@code start[t + 1] - 1}.
     */
    static final class Layout {
        final int[] item;
        final int[] from;
        final int[] to;
        final int[] start;

        private Layout(int[] item, int[] from, int[] to, int[] start) {
            this.item = item;
            this.from = from;
            this.to = to;
            this.start = start;
        }

        int chunks() {
            return start[start.length - 1];
        }
    }

    /**
     * Lays out a job for {@code threads} threads. The shares end at whole blocks (rows in multiples of 32 or eight,
     * as the chunks do) nearest to equal weight, so two equal products on two threads are one each. Within a share,
     * chunks of about {@value #CHUNK_WEIGHTS} weights; its last chunk is cut in up to {@value #TAIL_PIECES} pieces
     * (whole blocks still), what a thread done with its own share takes from the back of another's.
     */
    static Layout layout(int[] rows, int[] cols, int threads) {
        int n = rows.length;
        if (n == 0) {
            return new Layout(new int[0], new int[0], new int[0], new int[threads + 1]);
        }
        int[] width = new int[n];
        int[] chunkRows = new int[n];
        int[] align = new int[n];
        long[] firstRow = new long[n + 1];
        long total = 0;
        for (int i = 0; i < n; i++) {
            width[i] = Math.max(1, cols[i]);
            int byWeights = Math.max(1, CHUNK_WEIGHTS / width[i]);
            // Whole blocks of Int4BlockMatrix (up to 32 rows) and whole passes of the eight-row kernels where rows
            // are light; heavy rows (attention heads) one by one.
            align[i] = byWeights >= 32 ? 32 : byWeights >= 8 ? 8 : 1;
            chunkRows[i] = (byWeights + align[i] - 1) / align[i] * align[i];
            firstRow[i + 1] = firstRow[i] + rows[i];
            total += (long) rows[i] * width[i];
        }
        // Share boundaries as row indices into the items laid end to end, at the whole block nearest each
        // thread's equal part of the weight.
        long[] bound = new long[threads + 1];
        bound[threads] = firstRow[n];
        int i = 0;
        long before = 0;
        for (int t = 1; t < threads; t++) {
            double target = (double) total * t / threads;
            while (i < n - 1 && before + (long) rows[i] * width[i] <= target) {
                before += (long) rows[i] * width[i];
                i++;
            }
            long r = Math.round((target - before) / width[i] / align[i]) * align[i];
            bound[t] = Math.max(bound[t - 1], firstRow[i] + Math.clamp(r, 0, rows[i]));
        }
        int[] item = new int[16];
        int[] from = new int[16];
        int[] to = new int[16];
        int[] start = new int[threads + 1];
        int c = 0;
        for (int t = 0; t < threads; t++) {
            start[t] = c;
            for (int k = 0; k < n; k++) {
                int a = (int) Math.max(0, bound[t] - firstRow[k]);
                int b = (int) Math.min(rows[k], bound[t + 1] - firstRow[k]);
                for (int r = a; r < b; r += chunkRows[k]) {
                    int end = Math.min(b, r + chunkRows[k]);
                    boolean last = end == b && bound[t + 1] <= firstRow[k + 1];
                    int piece = last ? (Math.ceilDiv(end - r, TAIL_PIECES) + align[k] - 1) / align[k] * align[k]
                            : end - r;
                    for (int p = r; p < end; p += piece, c++) {
                        if (c == item.length) {
                            item = Arrays.copyOf(item, 2 * c);
                            from = Arrays.copyOf(from, 2 * c);
                            to = Arrays.copyOf(to, 2 * c);
                        }
                        item[c] = k;
                        from[c] = p;
                        to[c] = Math.min(end, p + piece);
                    }
                }
            }
        }
        start[threads] = c;
        return new Layout(item, from, to, start);
    }

    /**
     * One posted job: its layout and the counters its threads share. Each share's unclaimed chunks are a range,
     * front and back in one long: its owner claims from the front, so it streams its rows in order; a thread done
     * with its own share claims from the back of the others'. Measured on INT4 products streamed from memory
     * (a throwaway harness, two threads against one, same JVM): whole products to each thread 1.4-1.9x, each
     * product cut in four pieces claimed from one shared counter 0.9-1.5x; the previous team, which did the latter,
     * 1.07-1.19x.
     */
    private static final class Job {
        /** Longs between two shares' ranges: a cache line and its neighbour, which the prefetcher pairs. */
        private static final int PAD = 16;
        private final Layout layout;
        private final int threads;
        private final RowWork work;
        private final AtomicLongArray ranges;
        private final AtomicInteger done = new AtomicInteger();
        private volatile Throwable failure;

        Job(int[] rows, int[] cols, RowWork work, int threads) {
            this.work = work;
            this.threads = threads;
            this.layout = layout(rows, cols, threads);
            this.ranges = new AtomicLongArray(threads * PAD);
            for (int t = 0; t < threads; t++) {
                ranges.set(t * PAD, (long) layout.start[t] << 32 | layout.start[t + 1]);
            }
        }

        void runChunks(int thread) {
            int finished = 0;
            for (int k = 0; k < threads; k++) {
                int share = (thread + k) % threads;
                for (int c = claim(share, k == 0); c >= 0; c = claim(share, k == 0)) {
                    try {
                        work.rows(layout.item[c], layout.from[c], layout.to[c], thread);
                    } catch (Throwable t) {
                        failure = t;
                    }
                    finished++;
                }
            }
            if (finished > 0) {
                done.addAndGet(finished);
            }
        }

        /** The next chunk of {@code share}: from its front for its owner, from its back for others; -1 if none. */
        private int claim(int share, boolean front) {
            int at = share * PAD;
            while (true) {
                long range = ranges.get(at);
                int first = (int) (range >>> 32);
                int end = (int) range;
                if (first >= end) {
                    return -1;
                }
                long next = front ? (long) (first + 1) << 32 | end : (long) first << 32 | (end - 1);
                if (ranges.compareAndSet(at, range, next)) {
                    return front ? first : end - 1;
                }
            }
        }

        void awaitDone() {
            for (int spins = 0; done.get() < layout.chunks(); spins++) {
                // A worker the host has descheduled mid-chunk: give the core away rather than spin against it.
                if ((spins & 0xfff) == 0xfff) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
            Throwable t = failure;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }
}
