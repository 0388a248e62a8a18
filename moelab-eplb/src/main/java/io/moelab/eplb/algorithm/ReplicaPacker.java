package io.moelab.eplb.algorithm;

import java.util.Arrays;

/**
 * Packs expert replicas into bins (GPUs) of equal slot count, balancing bin loads, never two replicas of
 * one expert in one bin.
 *
 * <ol>
 *   <li>Experts in descending order of per-replica load. A bucket sort on {@code value / max} (between n and 2n
 *       buckets) replaces a comparison sort: LPT needs the order of the large items, which it keeps to within
 *       one bucket, {@code max / n}.</li>
 *   <li>LPT by expert: each expert's {@code c} replicas go to the {@code c} least loaded bins that still have
 *       room, all distinct, from a 4-ary heap of (load, bin) keys, one level of eight for few bins (one
 *       replica: replace the root and sift; more: pop {@code c - 1}, replace the root, push back). The first
 *       round, while untouched bins are the lightest, fills bins in index order without the heap.</li>
 *   <li>Swaps between the most and the least loaded bin: while swapping one item of each lowers the larger of
 *       the two loads, apply the best such swap; stop at a local optimum or once the maximum is within 0.5% of
 *       the lower bound {@code max(mean, largest item)}.</li>
 * </ol>
 * Instances hold scratch arrays and are not thread-safe.
 */
final class ReplicaPacker {
    /**
     * Swaps stop once the largest bin is within this fraction of the lower bound: far below the forecast error
     * of any next window (10% and more), so further swaps only cost time. Measured: a quarter of the swap
     * time of a 0.1% stop, 0.0014 less GPU balancedness with hindsight on DeepSeek-V3 prefill, none on the next
     * window.
     */
    private static final double SWAP_STOP = 5e-3;

    /** Fewest buckets: few items (groups onto nodes) still get a fine order. */
    private static final int MIN_BUCKETS = 256;

    private int[] order = new int[0];
    private int[] bucketStart = new int[1];
    private int[] bucketOf = new int[0];
    private long[] heap = new long[0];
    private int size;
    private double[] binLoad = new double[0];
    private int[] binFill = new int[0];
    private int[] binExpert = new int[0];
    private int[] taken = new int[0];
    private int slotsPerBin;
    /** Whether the heap is one root over up to eight children (few bins) rather than 4-ary. */
    private boolean wide;
    private final GpuSlots.Swap best = new GpuSlots.Swap();

    /**
     * Packs {@code counts[e]} replicas of each expert {@code e < experts}, each weighing {@code perReplica[e]},
     * into {@code bins} bins of {@code slotsPerBin} slots; {@code Σ counts = bins * slotsPerBin}, every count at
     * most {@code bins} (larger counts force duplicates, which are moved out where possible).
     *
     * @param swapRounds most improving swaps to apply
     * @param out        receives the expert in slot {@code j} of bin {@code b} at {@code b * slotsPerBin + j}
     * @return the largest bin load
     */
    double pack(double[] perReplica, int[] counts, int experts, int bins, int slotsPerBin, int swapRounds,
                int[] out) {
        return pack(perReplica, counts, experts, bins, slotsPerBin, swapRounds, out, 0);
    }

    /** As {@link #pack(double[], int[], int, int, int, int, int[])}, writing {@code out[offset..]}. */
    double pack(double[] perReplica, int[] counts, int experts, int bins, int slotsPerBin, int swapRounds,
                int[] out, int offset) {
        ensure(experts, bins, slotsPerBin);
        this.slotsPerBin = slotsPerBin;
        this.wide = bins <= WIDE_BINS;
        double largestItem = orderDescending(perReplica, experts);
        Arrays.fill(binLoad, 0, bins, 0);
        Arrays.fill(binFill, 0, bins, 0);
        boolean duplicates = false;
        double total = 0;
        int[] binExpert = this.binExpert;
        int[] binFill = this.binFill;
        double[] binLoad = this.binLoad;
        // First round: while every bin touched so far weighs more than zero (as a float), the untouched bins
        // (key = index) are the lightest, so items take them in index order; no heap needed until then.
        int next = 0;
        int k = 0;
        for (; k < experts; k++) {
            int e = order[k];
            int c = counts[e];
            double v = perReplica[e];
            if (c > bins - next || !((float) v > 0)) {
                break;
            }
            for (int b = next; b < next + c; b++) {
                binExpert[b * slotsPerBin] = e;
                binFill[b] = 1;
                binLoad[b] = v;
            }
            next += c;
            total += c * v;
        }
        size = 0;
        for (int b = next; b < bins; b++) {
            heap[size++] = b; // ascending: a valid heap, lighter than any key pushed below
        }
        Arrays.fill(heap, size, heap.length, NONE);
        if (slotsPerBin > 1) {
            for (int b = 0; b < next; b++) {
                push(key(b));
            }
        }
        for (; k < experts; k++) {
            int e = order[k];
            int c = counts[e];
            double v = perReplica[e];
            if (c == 1) {
                // One replica: into the lightest bin, then re-sift that bin from the root.
                int b = (int) heap[0];
                binExpert[b * slotsPerBin + binFill[b]] = e;
                double load = binLoad[b] + v;
                binLoad[b] = load;
                if (++binFill[b] == slotsPerBin) {
                    pop();
                } else {
                    siftDown(LongMinHeap.key((float) load, b));
                }
                total += v;
                continue;
            }
            total += c * v;
            if (c <= size) {
                // c distinct bins: pop the c - 1 lightest, add to the c-th lightest in place (now the root), then
                // push back the popped ones with room.
                for (int i = 0; i < c - 1; i++) {
                    taken[i] = (int) heap[0];
                    pop();
                }
                int last = (int) heap[0];
                place(last, e, v);
                if (binFill[last] == slotsPerBin) {
                    pop();
                } else {
                    siftDown(key(last));
                }
                for (int i = 0; i < c - 1; i++) {
                    int b = taken[i];
                    place(b, e, v);
                    if (binFill[b] < slotsPerBin) {
                        push(key(b));
                    }
                }
                continue;
            }
            // c distinct bins: pop the c lightest, then push back the ones with room.
            int t = Math.min(c, size);
            for (int i = 0; i < t; i++) {
                taken[i] = (int) heap[0];
                pop();
            }
            for (int i = 0; i < t; i++) {
                int b = taken[i];
                place(b, e, v);
                if (binFill[b] < slotsPerBin) {
                    push(key(b));
                }
            }
            // Fewer bins with room than replicas: the rest go where there is room, duplicating the expert.
            for (; t < c; t++) {
                int b = (int) heap[0];
                place(b, e, v);
                if (binFill[b] == slotsPerBin) {
                    pop();
                } else {
                    siftDown(key(b));
                }
                duplicates = true;
            }
        }
        if (duplicates) {
            repairDuplicates(perReplica, bins, slotsPerBin);
        }
        double bound = Math.max(total / bins, largestItem);
        for (int round = 0; round < swapRounds && swapMaxWithMin(perReplica, bins, slotsPerBin, bound); round++) {
            // each round applied one improving swap
        }
        System.arraycopy(binExpert, 0, out, offset, bins * slotsPerBin);
        double max = 0;
        for (int b = 0; b < bins; b++) {
            max = Math.max(max, binLoad[b]);
        }
        return max;
    }

    private void ensure(int experts, int bins, int slotsPerBin) {
        if (heap.length < bins + 8) {
            heap = new long[bins + 8];
        }
        if (order.length < experts) {
            order = new int[experts];
            bucketOf = new int[experts];
            taken = new int[Math.max(experts, bins)];
        }
        if (taken.length < bins) {
            taken = new int[bins];
        }
        int buckets = Math.max(MIN_BUCKETS, 2 * Integer.highestOneBit(Math.max(1, experts)));
        if (bucketStart.length < buckets + 1) {
            bucketStart = new int[buckets + 1];
        }
        if (binLoad.length < bins) {
            binLoad = new double[bins];
            binFill = new int[bins];
        }
        if (binExpert.length < bins * slotsPerBin) {
            binExpert = new int[bins * slotsPerBin];
        }
    }

    /**
     * Experts by descending per-replica load, experts in the same bucket by ascending index.
     *
     * @return the largest value
     */
    private double orderDescending(double[] value, int n) {
        double max = 0;
        for (int e = 0; e < n; e++) {
            max = Math.max(max, value[e]);
        }
        int buckets = Math.max(MIN_BUCKETS, 2 * Integer.highestOneBit(Math.max(1, n)));
        Arrays.fill(bucketStart, 0, buckets, 0);
        double scale = max > 0 ? (buckets - 1) / max : 0;
        for (int e = 0; e < n; e++) {
            // Bucket 0 holds the largest values.
            int bucket = buckets - 1 - (int) (value[e] * scale);
            bucketOf[e] = bucket;
            bucketStart[bucket]++;
        }
        // Counts to starts with the running sum in a register: a scan through memory would wait on the
        // previous iteration's store every step.
        for (int b = 0, sum = 0; b < buckets; b++) {
            int count = bucketStart[b];
            bucketStart[b] = sum;
            sum += count;
        }
        for (int e = 0; e < n; e++) {
            order[bucketStart[bucketOf[e]]++] = e;
        }
        return max;
    }

    private void place(int bin, int expert, double load) {
        binExpert[bin * slotsPerBin + binFill[bin]++] = expert;
        binLoad[bin] += load;
    }

    // Min-heap of (load, bin) keys of the bins with room, in heap[0..size), padded with NONE so that a node's
    // children can be read without bound checks: 4-ary (children of i: 4i+1..4i+4), or for at most WIDE_BINS bins
    // one root over eight children, a single level (the GPUs of one node in hierarchical mode). Picking the least
    // child with branch-free minimums matters here: apportioned items are nearly equal, so compares are
    // unpredictable. Measured side by side (EplbSideBySide, docs/BENCHMARKS.md): the single wide level made
    // hierarchical DeepSeek-V3 prefill 12% faster; an 8-ary heap for 32 bins made global mode 24% slower.

    /** Bins up to which the heap is one wide level. */
    private static final int WIDE_BINS = 9;

    private static final long NONE = Long.MAX_VALUE;

    /** Removes the smallest key. */
    private void pop() {
        size--;
        long last = heap[size];
        heap[size] = NONE;
        if (size > 0) {
            siftDown(last);
        }
    }

    private void push(long key) {
        int i = size++;
        int shift = wide ? 3 : 2;
        while (i > 0) {
            int parent = (i - 1) >>> shift;
            if (heap[parent] <= key) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    /** Puts {@code key} in place of the root and restores the heap order. */
    private void siftDown(long key) {
        if (wide) {
            siftDownWide(key);
            return;
        }
        int i = 0;
        while (true) {
            int c = 4 * i + 1;
            if (c >= size) {
                break;
            }
            long a = heap[c];
            long b = heap[c + 1];
            long d = heap[c + 2];
            long f = heap[c + 3];
            int left = b < a ? c + 1 : c;
            long minLeft = Math.min(a, b);
            int right = f < d ? c + 3 : c + 2;
            long minRight = Math.min(d, f);
            int child = minRight < minLeft ? right : left;
            long least = Math.min(minLeft, minRight);
            if (key <= least) {
                break;
            }
            heap[i] = least;
            i = child;
        }
        heap[i] = key;
    }

    /** {@link #siftDown} of the one-level heap: the root swaps with the least of its (up to) eight children. */
    private void siftDownWide(long key) {
        long h0 = heap[1];
        long h1 = heap[2];
        long h2 = heap[3];
        long h3 = heap[4];
        long h4 = heap[5];
        long h5 = heap[6];
        long h6 = heap[7];
        long h7 = heap[8];
        int i01 = h1 < h0 ? 2 : 1;
        long m01 = Math.min(h0, h1);
        int i23 = h3 < h2 ? 4 : 3;
        long m23 = Math.min(h2, h3);
        int i45 = h5 < h4 ? 6 : 5;
        long m45 = Math.min(h4, h5);
        int i67 = h7 < h6 ? 8 : 7;
        long m67 = Math.min(h6, h7);
        int left = m23 < m01 ? i23 : i01;
        long minLeft = Math.min(m01, m23);
        int right = m67 < m45 ? i67 : i45;
        long minRight = Math.min(m45, m67);
        long least = Math.min(minLeft, minRight);
        if (key <= least) {
            heap[0] = key;
            return;
        }
        heap[0] = least;
        heap[minRight < minLeft ? right : left] = key;
    }

    private long key(int bin) {
        return LongMinHeap.key((float) binLoad[bin], bin);
    }

    /**
     * Moves every duplicate replica out of its bin by swapping it with an item of another bin where neither
     * expert is present yet, choosing the swap that changes the loads least.
     */
    private void repairDuplicates(double[] perReplica, int bins, int perBin) {
        for (int b = 0; b < bins; b++) {
            for (int j = b * perBin; j < (b + 1) * perBin; j++) {
                int e = binExpert[j];
                if (GpuSlots.copies(binExpert, perBin, b, e) < 2) {
                    continue;
                }
                int bestSlot = -1;
                double bestDelta = Double.POSITIVE_INFINITY;
                for (int b2 = 0; b2 < bins; b2++) {
                    if (b2 == b || GpuSlots.holds(binExpert, perBin, b2, e)) {
                        continue;
                    }
                    for (int j2 = b2 * perBin; j2 < (b2 + 1) * perBin; j2++) {
                        int x = binExpert[j2];
                        double delta = Math.abs(perReplica[e] - perReplica[x]);
                        if (x != e && !GpuSlots.holds(binExpert, perBin, b, x) && delta < bestDelta) {
                            bestDelta = delta;
                            bestSlot = j2;
                        }
                    }
                }
                if (bestSlot >= 0) {
                    GpuSlots.swap(binExpert, perBin, perReplica, binLoad, j, bestSlot);
                }
            }
        }
    }

    /**
     * Applies the best swap of one item of the most loaded bin with one item of the least loaded bin that
     * lowers the larger of the two loads, keeping bins free of duplicate experts.
     *
     * @return whether a swap was applied (false at a local optimum or when the maximum meets the bound)
     */
    private boolean swapMaxWithMin(double[] perReplica, int bins, int perBin, double bound) {
        int top = 0;
        int low = 0;
        for (int b = 1; b < bins; b++) {
            if (binLoad[b] > binLoad[top]) {
                top = b;
            }
            if (binLoad[b] < binLoad[low]) {
                low = b;
            }
        }
        double topLoad = binLoad[top];
        double gap = topLoad - binLoad[low];
        if (topLoad <= bound * (1 + SWAP_STOP) || gap <= 1e-12 * topLoad) {
            return false;
        }
        GpuSlots.bestSwap(binExpert, perBin, perReplica, top, low, gap, best.reset(1e-12 * topLoad));
        if (!best.found()) {
            return false;
        }
        GpuSlots.swap(binExpert, perBin, perReplica, binLoad, best.from, best.to);
        return true;
    }
}
