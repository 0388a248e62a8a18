package io.moelab.eplb.algorithm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Packs expert replicas into bins (GPUs) of equal slot count, balancing bin loads, never two replicas of
 * one expert in one bin.
 *
 * <ol>
 *   <li>Experts in descending order of per-replica load. A bucket sort on {@code value / max} (at least 256
 *       buckets, and more than n) replaces a comparison sort: LPT needs the order of the large items, which it
 *       keeps to within one bucket, at most {@code max / n}.</li>
 *   <li>LPT by expert: each expert's {@code c} replicas go to the {@code c} least loaded bins that still have
 *       room, all distinct, chosen by (float load, bin) keys: from a {@link WinnerTree} over the bins when most
 *       experts have one replica, from the front of a sorted array (merged back after) when most have several.
 *       The first round, while untouched bins are the lightest, fills bins in index order without either.</li>
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

    /** Up to this many items are ordered by insertion ({@link #insertionOrder}). */
    private static final int FEW_ITEMS = 16;

    private int[] order = new int[0];
    private int[] bucketStart = new int[1];
    /** Bucket counts, then starts, of fewer than 256 items ({@link #orderByByteCounts}). */
    private byte[] byteCounts = new byte[0];
    /** Eight bytes of {@link #byteCounts} as one {@code long}, little-endian (byte j = bucket w + j). */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private int[] bucketOf = new int[0];
    private final WinnerTree tree = new WinnerTree();
    /** Keys of the bins with room, ascending ({@link #lptSorted}). */
    private long[] sorted = new long[0];
    /** The re-keyed bins of one expert, ascending ({@link #lptSorted}). */
    private long[] fresh = new long[0];
    private double[] binLoad = new double[0];
    private int[] binFill = new int[0];
    private int[] binExpert = new int[0];
    private int[] taken = new int[0];
    /** The packing in progress, from {@link #begin} to {@link #finish}: its arguments. */
    private double[] perReplica;
    private int[] counts;
    private int experts;
    private int bins;
    private int slotsPerBin;
    /** Next position in {@link #order} to place. */
    private int k;
    /** Σ c·v of the experts packed so far, in packing order. */
    private double total;
    private double largestItem;
    /** Whether some expert got two replicas in one bin. */
    private boolean duplicates;
    private boolean sortedLpt;
    /** Tree LPT: bins with room. */
    private int open;
    /** Bins {@code [0, next)} took the first round. */
    private int next;
    private final GpuSlots.Swap best = new GpuSlots.Swap();
    private final Lpt lpt;

    /** Which LPT runs: chosen per call by the replicas per expert, or one of the two for tests. */
    enum Lpt { AUTO, TREE, SORTED }

    /** A packer choosing its LPT per call. */
    ReplicaPacker() {
        this(Lpt.AUTO);
    }

    /** A packer that always runs {@code lpt} (tests: both LPTs must give the same slots). */
    ReplicaPacker(Lpt lpt) {
        this.lpt = lpt;
    }

    /**
     * Packs {@code counts[e]} replicas of each expert {@code e < experts}, each weighing {@code perReplica[e]},
     * into {@code bins} bins of {@code slotsPerBin} slots; {@code Σ counts = bins * slotsPerBin}, every count at
     * most {@code bins} (larger counts force duplicates, which are moved out where possible), or, with more slots per
     * bin than experts, every count a multiple of {@code bins} (each bin then holds {@code counts[e] / bins} of each).
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
        begin(perReplica, counts, experts, bins, slotsPerBin);
        lpt();
        return finish(swapRounds, out, offset);
    }

    /**
     * Runs the LPTs of two packings begun with {@link #begin} to the end. Each LPT is a serial chain (an expert's
     * bin is the lightest after the previous expert's), so one tree LPT leaves the core waiting on that chain's
     * latency; where both packings use the tree LPT, their experts are placed in turn so that the two independent
     * chains fill that time (DeepSeek-V3 prefill: global and hierarchical rebalances 15-17% faster). The packings
     * are exactly those of two separate {@link #pack} calls. Each step is a method call of its own: one loop body
     * with both steps inlined measured no faster than a single LPT.
     *
     * @param b the second packing, or null to run {@code a} alone
     */
    static void lptTogether(ReplicaPacker a, ReplicaPacker b) {
        if (b != null && a.interleaves() && b.interleaves()) {
            while (a.k < a.experts && b.k < b.experts) {
                a.treeStep();
                b.treeStep();
            }
        }
        a.lpt();
        if (b != null) {
            b.lpt();
        }
    }

    /**
     * Whether this packing gains from interleaving: the tree LPT, whose steps are short. (The sorted LPT's steps
     * move runs of keys and branch on the data; interleaved, they measured no faster.)
     */
    private boolean interleaves() {
        return !sortedLpt;
    }

    /**
     * Starts a packing with the arguments of {@link #pack}: orders the experts, fills the first round and sets up
     * the LPT; {@link #lptTogether} then places the rest and {@link #finish} improves and writes out. The arrays are
     * read until {@link #finish}.
     */
    void begin(double[] perReplica, int[] counts, int experts, int bins, int slotsPerBin) {
        ensure(experts, bins, slotsPerBin);
        this.perReplica = perReplica;
        this.counts = counts;
        this.experts = experts;
        this.bins = bins;
        this.slotsPerBin = slotsPerBin;
        largestItem = orderDescending(perReplica, experts);
        int[] binExpert = this.binExpert;
        int[] binFill = this.binFill;
        double[] binLoad = this.binLoad;
        // A loop, not two Arrays.fill calls: a node's or a layer's few bins cost less than the calls into the fill
        // stubs.
        for (int b = 0; b < bins; b++) {
            binLoad[b] = 0;
            binFill[b] = 0;
        }
        duplicates = false;
        if (slotsPerBin > experts && evenOverBins(counts, experts, bins)) {
            layOutEvenly();
            return;
        }
        // First round: while every bin touched so far weighs more than zero (as a float), the untouched bins
        // (key = index) are the lightest, so items take them in index order; no search needed until then.
        int next = 0;
        int k = 0;
        // Σ c·v, summed along the way (a pass of its own is a serial chain of adds): both LPTs add theirs to the
        // field in the same order, so the bound, and where swaps stop, do not depend on which one ran.
        double total = 0;
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
        this.total = total;
        this.k = k;
        // Most experts with several replicas (few experts per slot): take the lightest bins as a prefix of a
        // sorted array and merge them back; mostly single replicas: a winner tree. Both pick the same bins (the
        // smallest (load, bin) keys), so the choice only changes speed.
        sortedLpt = lpt == Lpt.AUTO ? 2 * experts <= bins * slotsPerBin : lpt == Lpt.SORTED;
        this.next = next;
        if (!sortedLpt) {
            startTree(next);
        }
    }

    /**
     * Whether every count is a positive multiple of {@code bins}: each bin can then hold the same replicas, which
     * balances the bins exactly.
     */
    private static boolean evenOverBins(int[] counts, int experts, int bins) {
        for (int e = 0; e < experts; e++) {
            if (counts[e] == 0 || counts[e] % bins != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Lays {@code counts[e] / bins} replicas of every expert on every bin, in descending order of per-replica load:
     * for more slots per bin than experts (some bin must hold an expert twice), where the LPT's duplicates would
     * land by float ties and the repair could move none out.
     */
    private void layOutEvenly() {
        double total = 0;
        for (int b = 0; b < bins; b++) {
            int s = b * slotsPerBin;
            double load = 0;
            for (int i = 0; i < experts; i++) {
                int e = order[i];
                for (int c = counts[e] / bins; c > 0; c--) {
                    binExpert[s++] = e;
                    load += perReplica[e];
                }
            }
            binFill[b] = slotsPerBin;
            binLoad[b] = load;
        }
        for (int e = 0; e < experts; e++) {
            total += counts[e] * perReplica[e];
        }
        this.total = total;
        k = experts;
        next = bins;
        // Nothing left for either LPT; the sorted one does not interleave.
        sortedLpt = true;
    }

    /** Places the experts left, alone: the LPT, tree or sorted, from {@link #k} on. */
    private void lpt() {
        if (k >= experts) {
            return;
        }
        if (sortedLpt) {
            lptSorted();
        } else {
            lptTree();
        }
    }

    /** The tree LPT's next expert. */
    private void treeStep() {
        int e = order[k++];
        int c = counts[e];
        double v = perReplica[e];
        total += c * v;
        if (c == 1) {
            treeOne(e, v);
        } else {
            treeSeveral(e, c, v);
        }
    }

    /**
     * The tree LPT over the experts left: {@link #treeStep}'s body with the position and sum in locals (a loop of
     * {@code treeStep} calls measured 15-20% slower rebalances on DeepSeek-V3 prefill).
     */
    private void lptTree() {
        int[] order = this.order;
        int[] counts = this.counts;
        double[] perReplica = this.perReplica;
        int experts = this.experts;
        double total = this.total;
        for (int k = this.k; k < experts; k++) {
            int e = order[k];
            int c = counts[e];
            double v = perReplica[e];
            total += c * v;
            if (c == 1) {
                treeOne(e, v);
            } else {
                treeSeveral(e, c, v);
            }
        }
        this.k = experts;
        this.total = total;
    }

    /**
     * Ends a packing whose experts are all placed: moves duplicates out, applies up to {@code swapRounds}
     * improving swaps and writes the slots to {@code out[offset..]} as {@link #pack} does.
     *
     * @return the largest bin load
     */
    double finish(int swapRounds, int[] out, int offset) {
        return finish(swapRounds, out, offset, null);
    }

    /**
     * As {@link #finish(int, int[], int)}, writing {@code ids[e]} for item {@code e} when {@code ids} is not null (a
     * node's experts: the mapping folds into the copy out instead of a pass of its own).
     */
    double finish(int swapRounds, int[] out, int offset, int[] ids) {
        int bins = this.bins;
        int slotsPerBin = this.slotsPerBin;
        double[] perReplica = this.perReplica;
        if (duplicates) {
            repairDuplicates(perReplica, bins, slotsPerBin);
        }
        double bound = Math.max(total / bins, largestItem);
        for (int round = 0; round < swapRounds && swapMaxWithMin(perReplica, bins, slotsPerBin, bound); round++) {
            // each round applied one improving swap
        }
        if (ids == null) {
            System.arraycopy(binExpert, 0, out, offset, bins * slotsPerBin);
        } else {
            int[] binExpert = this.binExpert;
            for (int s = 0, n = bins * slotsPerBin; s < n; s++) {
                out[offset + s] = ids[binExpert[s]];
            }
        }
        double max = 0;
        for (int b = 0; b < bins; b++) {
            max = Math.max(max, binLoad[b]);
        }
        this.perReplica = null;
        this.counts = null;
        return max;
    }

    private void ensure(int experts, int bins, int slotsPerBin) {
        if (sorted.length < bins) {
            sorted = new long[bins];
            fresh = new long[bins];
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
        if (experts < 256 && byteCounts.length < buckets) {
            byteCounts = new byte[buckets];
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
            // Not Math.max: values are never NaN, and a predictable branch keeps the maximum off a serial chain
            // of NaN-aware selects (ordering 64 items measured 12% faster).
            if (value[e] > max) {
                max = value[e];
            }
        }
        int buckets = Math.max(MIN_BUCKETS, 2 * Integer.highestOneBit(Math.max(1, n)));
        double scale = max > 0 ? (buckets - 1) / max : 0;
        if (n <= FEW_ITEMS) {
            insertionOrder(value, n, buckets, scale);
            return max;
        }
        int[] bucketOf = this.bucketOf;
        // Bucket 0 holds the largest values. A loop of its own, which C2 vectorizes; the counting below cannot be.
        for (int e = 0; e < n; e++) {
            bucketOf[e] = buckets - 1 - (int) (value[e] * scale);
        }
        if (n < 256) {
            orderByByteCounts(n, buckets);
            return max;
        }
        Arrays.fill(bucketStart, 0, buckets, 0);
        for (int e = 0; e < n; e++) {
            bucketStart[bucketOf[e]]++;
        }
        // Counts to starts with the running sum in a register (a scan through memory would wait on the previous
        // iteration's store every step), four buckets a step (a multiple of four: a power of two, at least 256)
        // with one add on the running sum's chain per step instead of four.
        for (int b = 0, sum = 0; b < buckets; b += 4) {
            int c0 = bucketStart[b];
            int c1 = bucketStart[b + 1];
            int c2 = bucketStart[b + 2];
            int c3 = bucketStart[b + 3];
            int s2 = sum + (c0 + c1);
            bucketStart[b] = sum;
            bucketStart[b + 1] = sum + c0;
            bucketStart[b + 2] = s2;
            bucketStart[b + 3] = s2 + c2;
            sum = s2 + (c2 + c3);
        }
        for (int e = 0; e < n; e++) {
            order[bucketStart[bucketOf[e]]++] = e;
        }
        return max;
    }

    /**
     * {@link #orderDescending}'s counting sort for fewer than 256 items (a node's experts in hierarchical mode): every
     * count and start fits a byte, so the running sum over the buckets takes eight at a time from one {@code long}
     * (a multiply by 0x0101...01 sums each byte with those below it, no carry crossing a byte below 256): an eighth of
     * the loads and stores of the int scan over 256 buckets, and a quarter of the bytes to clear.
     */
    private void orderByByteCounts(int n, int buckets) {
        byte[] counts = byteCounts;
        Arrays.fill(counts, 0, buckets, (byte) 0);
        int[] bucketOf = this.bucketOf;
        for (int e = 0; e < n; e++) {
            counts[bucketOf[e]]++;
        }
        long running = 0;
        for (int w = 0; w < buckets; w += 8) {
            long c = (long) LONGS.get(counts, w);
            long inclusive = c * 0x0101010101010101L;
            LONGS.set(counts, w, inclusive - c + running * 0x0101010101010101L);
            running += inclusive >>> 56;
        }
        int[] order = this.order;
        for (int e = 0; e < n; e++) {
            int b = bucketOf[e];
            int at = counts[b] & 0xFF;
            order[at] = e;
            counts[b] = (byte) (at + 1);
        }
    }

    /**
     * {@link #orderDescending}'s order for a few items: the same (bucket, index) keys, insertion-sorted, instead of
     * clearing and scanning every bucket (groups onto nodes: 8 items, 256 buckets; 3-6x faster, same order).
     */
    private void insertionOrder(double[] value, int n, int buckets, double scale) {
        int[] keys = bucketOf;
        for (int e = 0; e < n; e++) {
            int key = (buckets - 1 - (int) (value[e] * scale)) << 16 | e;
            int j = e;
            while (j > 0 && keys[j - 1] > key) {
                keys[j] = keys[j - 1];
                j--;
            }
            keys[j] = key;
        }
        for (int i = 0; i < n; i++) {
            order[i] = keys[i] & 0xFFFF;
        }
    }

    private void place(int bin, int expert, double load) {
        binExpert[bin * slotsPerBin + binFill[bin]++] = expert;
        binLoad[bin] += load;
    }

    /**
     * Sets up the LPT over a {@link WinnerTree} of the bins' (load, bin) keys (full bins hold
     * {@link WinnerTree#NONE}); bins {@code [0, next)} took the first round.
     */
    private void startTree(int next) {
        int bins = this.bins;
        WinnerTree tree = this.tree;
        tree.reset(bins);
        int open = bins;
        for (int b = 0; b < bins; b++) {
            if (b >= next) {
                tree.put(b, b); // untouched: key = index, lighter than any touched bin
            } else if (slotsPerBin > 1) {
                tree.put(b, key(b));
            } else {
                open--;
            }
        }
        tree.rebuild();
        this.open = open;
    }

    /** The tree LPT's step for an expert with one replica: the lightest bin with room takes it. */
    private void treeOne(int e, double v) {
        int slotsPerBin = this.slotsPerBin;
        int[] binFill = this.binFill;
        double[] binLoad = this.binLoad;
        WinnerTree tree = this.tree;
        int b = (int) tree.min();
        binExpert[b * slotsPerBin + binFill[b]] = e;
        double load = binLoad[b] + v;
        binLoad[b] = load;
        boolean full = ++binFill[b] == slotsPerBin;
        open -= full ? 1 : 0;
        // One call site: with two (full bin, bin with room), C2 inlined replaceMin into both or only into the
        // frequent one, depending on the profile it happened to see, and global DeepSeek-V3 prefill ran at one of two
        // speeds from launch to launch (LPT 156 or 272 µs, whole rebalances 300 or 430).
        tree.replaceMin(full ? WinnerTree.NONE : LongMinHeap.key((float) load, b));
    }

    /** The tree LPT's step for an expert with {@code c > 1} replicas: the c lightest bins with room, distinct. */
    private void treeSeveral(int e, int c, double v) {
        WinnerTree tree = this.tree;
        // c distinct bins: take the lightest one at a time, then put back the ones with room.
        int t = Math.min(c, open);
        for (int i = 0; i < t; i++) {
            int b = (int) tree.min();
            taken[i] = b;
            tree.set(b, WinnerTree.NONE);
        }
        for (int i = 0; i < t; i++) {
            int b = taken[i];
            place(b, e, v);
            if (binFill[b] < slotsPerBin) {
                tree.set(b, key(b));
            } else {
                open--;
            }
        }
        // Fewer bins with room than replicas: the rest go where there is room, duplicating the expert.
        for (; t < c; t++) {
            int b = (int) tree.min();
            place(b, e, v);
            duplicates = true;
            if (binFill[b] == slotsPerBin) {
                tree.set(b, WinnerTree.NONE);
                open--;
            } else {
                tree.set(b, key(b));
            }
        }
    }

    /**
     * LPT from {@code order[k]} on with the bins that have room as (load, bin) keys in ascending order in
     * {@code sorted[head..end)}: an expert's {@code c} replicas take the first {@code c} (no search), which are
     * re-keyed, sorted (adding one load keeps them nearly in order) and merged back in one pass. Measured 15-20%
     * faster than a heap when most experts have several replicas; slower for single replicas, whose one key
     * lands anywhere in the array and moves half of it. Bins {@code [0, next)} took the first round.
     */
    private void lptSorted() {
        int[] order = this.order;
        int[] counts = this.counts;
        double[] perReplica = this.perReplica;
        int experts = this.experts;
        int bins = this.bins;
        int next = this.next;
        long[] sorted = this.sorted;
        long[] fresh = this.fresh;
        int slotsPerBin = this.slotsPerBin;
        int end = 0;
        for (int b = next; b < bins; b++) {
            sorted[end++] = b; // untouched: key = index, lighter than any touched bin
        }
        if (slotsPerBin > 1) {
            // The first round's bins hold items in (nearly) descending order: insert from the lighter end.
            for (int b = next - 1; b >= 0; b--) {
                end = insertSorted(sorted, end, key(b));
            }
        }
        int head = 0;
        boolean duplicates = false;
        double total = this.total;
        for (int k = this.k; k < experts; k++) {
            int e = order[k];
            int c = counts[e];
            double v = perReplica[e];
            total += c * v;
            int t = Math.min(c, end - head);
            int kept = 0;
            // The taken bins' new keys come out ascending but for float ties between bins out of index order (the
            // loads were ascending, and adding v keeps their order): appended as they come, sorted below only then.
            // No loop inside this one, so C2 compiles it as a counted loop without a safepoint poll per placement.
            int disorder = 0;
            long previous = Long.MIN_VALUE;
            for (int i = 0; i < t; i++) {
                int b = (int) sorted[head + i];
                // place(b, e, v) with the fill and load kept in registers: after the store to binExpert, C2 reloaded
                // binFill (another int[] that it cannot tell apart). 26 x 64 global 1-2% faster. (The three arrays
                // in locals as well: 2-3% faster in global mode, 4-7% slower in hierarchical.)
                int fill = binFill[b];
                binExpert[b * slotsPerBin + fill] = e;
                binFill[b] = ++fill;
                double load = binLoad[b] + v;
                binLoad[b] = load;
                long key = LongMinHeap.key((float) load, b);
                fresh[kept] = key;
                int room = fill < slotsPerBin ? 1 : 0;
                disorder |= room & (key < previous ? 1 : 0);
                previous = room == 1 ? key : previous;
                kept += room;
            }
            if (disorder != 0) {
                for (int i = 1; i < kept; i++) {
                    insertSorted(fresh, i, fresh[i]);
                }
            }
            head += t;
            // Merge back; the writes start kept places early and never overtake the reads. The keys below the
            // lightest re-keyed one (usually most: the bins just filled are now among the heaviest) move as one
            // block; a binary search finds where it ends. Not for a node's few bins, where it measured slower.
            int o = head - kept;
            int r = head;
            if (kept > 0 && end - head > 16) {
                int lo = head;
                int hi = end;
                long first = fresh[0];
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (sorted[mid] < first) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                System.arraycopy(sorted, head, sorted, o, lo - head);
                o += lo - head;
                r = lo;
            }
            for (int j = 0; j < kept; ) {
                if (r < end && sorted[r] < fresh[j]) {
                    sorted[o++] = sorted[r++];
                } else {
                    sorted[o++] = fresh[j++];
                }
            }
            head -= kept;
            // Fewer bins with room than replicas: the rest go where there is room, duplicating the expert.
            for (; t < c; t++) {
                int b = (int) sorted[head];
                place(b, e, v);
                duplicates = true;
                head++;
                if (binFill[b] < slotsPerBin) {
                    // Back in order: shift the lighter keys one place towards the head.
                    long key = key(b);
                    int j = head;
                    while (j < end && sorted[j] < key) {
                        sorted[j - 1] = sorted[j];
                        j++;
                    }
                    sorted[j - 1] = key;
                    head--;
                }
            }
        }
        this.k = experts;
        this.total = total;
        this.duplicates = duplicates;
    }

    /** Inserts {@code key} into ascending {@code a[0..size)}; returns the new size. */
    private static int insertSorted(long[] a, int size, long key) {
        int j = size;
        while (j > 0 && a[j - 1] > key) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = key;
        return size + 1;
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
        double[] binLoad = this.binLoad;
        int top = 0;
        int low = 0;
        double topLoad = binLoad[0];
        double lowLoad = topLoad;
        for (int b = 1; b < bins; b++) {
            double load = binLoad[b];
            if (load > topLoad) {
                topLoad = load;
                top = b;
            }
            if (load < lowLoad) {
                lowLoad = load;
                low = b;
            }
        }
        double gap = topLoad - lowLoad;
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
