package io.moelab.eplb.algorithm;

import java.util.Arrays;

/**
 * The smallest of {@code n} {@code long} keys, kept current under updates: an eight-way winner (tournament)
 * tree whose every level holds the minimum of each aligned group of eight entries of the level below, and
 * whose top level is a single entry. Updating a leaf recomputes one group per level, with branch-free
 * minimums of eight independent loads: for 32 leaves that is two short dependency chains, where a heap's
 * sift-down is a chain of data-dependent compares. Keys are unique (they embed an index), so the minimum
 * names its leaf: the low 32 bits of a key are its leaf's index. Unused leaves hold {@link #NONE}. Not
 * thread-safe.
 */
final class WinnerTree {
    /** The key of an empty leaf: larger than any real key. */
    static final long NONE = Long.MAX_VALUE;

    private long[][] levels = new long[0][];
    /** Entries in use per level; the rest of each level, up to a multiple of eight, is {@link #NONE}. */
    private int[] sizes = new int[0];
    private int depth;
    private long[] leaves;
    /** Level 1, when there is one. */
    private long[] mid;
    private long min = NONE;
    /**
     * Two levels of at most four groups (17-32 leaves: a 32-GPU cluster): the top's minimum reads four entries,
     * not eight of which four are padding (global rebalances of DeepSeek-V3 prefill 4-10% faster side by side).
     */
    private boolean top4;
    /** With at most eight leaves: the leaf holding {@link #min} (kept out of the array), or -1. */
    private int root = -1;

    /** Makes {@code n} empty leaves (all {@link #NONE}), reusing storage. */
    void reset(int n) {
        int size = Math.max(1, n);
        if (size <= 8 && levels.length > 0 && levels[0].length >= 8) {
            // One level (a node's GPUs, a layer's nodes), reset on every packing: its eight leaves by a loop that C2
            // unrolls; the general path below also fills a top level that one level never reads.
            long[] leaves = levels[0];
            for (int i = 0; i < 8; i++) {
                leaves[i] = NONE;
            }
            depth = size > 1 ? 1 : 0;
            sizes[0] = size;
            this.leaves = leaves;
            mid = null;
            top4 = false;
            min = NONE;
            root = -1;
            return;
        }
        int d = 0;
        for (int s = size; s > 1; s = (s + 7) >>> 3) {
            d++;
        }
        if (levels.length < d + 1) {
            levels = Arrays.copyOf(levels, d + 1);
            sizes = new int[d + 1];
        }
        depth = d;
        for (int k = 0; k <= d; k++) {
            int padded = (size + 7) & ~7;
            if (levels[k] == null || levels[k].length < padded) {
                levels[k] = new long[padded];
            }
            Arrays.fill(levels[k], 0, padded, NONE);
            sizes[k] = size;
            size = (size + 7) >>> 3;
        }
        leaves = levels[0];
        mid = d >= 1 ? levels[1] : null;
        top4 = d == 2 && sizes[1] <= 4;
        min = NONE;
        root = -1;
    }

    /** Fills leaf {@code i} of a tree just {@link #reset}; {@link #rebuild} after the batch. */
    void put(int i, long key) {
        leaves[i] = key;
    }

    /** Computes every level from the leaves filled by {@link #put}. */
    void rebuild() {
        if (depth <= 1) {
            min = min8(leaves, 0);
            root = min == NONE ? -1 : (int) min;
            if (root >= 0) {
                leaves[root] = NONE;
            }
            return;
        }
        for (int k = 0; k < depth; k++) {
            long[] from = levels[k];
            long[] to = levels[k + 1];
            for (int g = 0, groups = sizes[k + 1]; g < groups; g++) {
                to[g] = min8(from, g << 3);
            }
        }
        min = levels[depth][0];
    }

    /** Sets leaf {@code i} and the one group per level above it. */
    void set(int i, long key) {
        long[] leaves = this.leaves;
        if (depth <= 1) {
            setNarrow(leaves, i, key);
            return;
        }
        leaves[i] = key;
        if (depth == 2) {
            // Up to 64 leaves (a cluster's GPUs) without the general loop.
            long[] mid = this.mid;
            int g = i >>> 3;
            mid[g] = min8(leaves, g << 3);
            min = top4 ? min4(mid) : min8(mid, 0);
            return;
        }
        long[] from = leaves;
        for (int k = 0; k < depth; k++) {
            i >>>= 3;
            long[] to = levels[k + 1];
            to[i] = min8(from, i << 3);
            from = to;
        }
        min = from[0];
    }

    /**
     * {@link #set} for at most eight leaves, whose minimum is held outside the array (its slot there is
     * {@link #NONE}), as a heap holds its root: replacing the minimum compares the new key with the minimum of
     * the others, which loads without waiting for the key. (Storing the key and taking the minimum of all eight
     * put a store-to-load round trip on every update: measured 10% slower hierarchical planning.)
     */
    private void setNarrow(long[] leaves, int i, long key) {
        if (i == root) {
            long others = min8(leaves, 0);
            if (key <= others) {
                min = key;
            } else {
                int j = (int) others;
                leaves[j] = NONE;
                leaves[i] = key;
                root = j;
                min = others;
            }
        } else if (key < min) {
            if (root >= 0) {
                leaves[root] = min;
            }
            leaves[i] = NONE;
            root = i;
            min = key;
        } else {
            leaves[i] = key;
        }
    }

    /**
     * Sets the key of the current minimum's leaf (there must be one): the LPT's most frequent update. With two
     * levels, the leaf's and its group's entries are cleared first and the minimums of the rest taken: those
     * loads do not depend on the new key, so only two compares follow it.
     */
    void replaceMin(long key) {
        int i = (int) min;
        if (depth != 2) {
            set(i, key);
            return;
        }
        long[] leaves = this.leaves;
        long[] mid = this.mid;
        int g = i >>> 3;
        leaves[i] = NONE;
        mid[g] = NONE;
        long group = Math.min(key, min8(leaves, g << 3));
        long rest = top4 ? min4(mid) : min8(mid, 0);
        leaves[i] = key;
        mid[g] = group;
        min = Math.min(group, rest);
    }

    /** The smallest key, {@link #NONE} when every leaf is empty. */
    long min() {
        return min;
    }

    private static long min4(long[] a) {
        return Math.min(Math.min(a[0], a[1]), Math.min(a[2], a[3]));
    }

    private static long min8(long[] a, int s) {
        long m01 = Math.min(a[s], a[s + 1]);
        long m23 = Math.min(a[s + 2], a[s + 3]);
        long m45 = Math.min(a[s + 4], a[s + 5]);
        long m67 = Math.min(a[s + 6], a[s + 7]);
        return Math.min(Math.min(m01, m23), Math.min(m45, m67));
    }
}
