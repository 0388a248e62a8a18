package io.moelab.eplb.algorithm;

/**
 * A binary min-heap of {@code long} keys without boxing. The balancers pack (float bits, index) pairs into one
 * key, so that the smallest key is the smallest value with ties to the lowest index: exactly the choice a
 * linear "first minimum" scan makes, in O(log n) instead of O(n).
 */
final class LongMinHeap {
    private long[] keys;
    private int size;

    LongMinHeap(int capacity) {
        keys = new long[Math.max(1, capacity)];
    }

    /** Key for a non-negative float and an index: orders by value, then by ascending index. */
    static long key(float nonNegative, int index) {
        return (long) Float.floatToRawIntBits(nonNegative) << 32 | index;
    }

    /**
     * Key that comes first for the largest value, ties to the lowest index (a max-heap order in this
     * min-heap).
     */
    static long maxFirst(float nonNegative, int index) {
        return ~((long) Float.floatToRawIntBits(nonNegative) << 32 | (index ^ 0x7FFFFFFF));
    }

    /** The index packed into a key made by {@link #maxFirst(float, int)}. */
    static int maxFirstIndex(long key) {
        return (int) ~key ^ 0x7FFFFFFF;
    }

    /** The index packed into a key made by {@link #key(float, int)}. */
    static int index(long key) {
        return (int) key;
    }

    void clear() {
        size = 0;
    }

    void push(long key) {
        if (size == keys.length) {
            keys = java.util.Arrays.copyOf(keys, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] <= key) {
                break;
            }
            keys[i] = keys[parent];
            i = parent;
        }
        keys[i] = key;
    }

    long popMin() {
        long min = keys[0];
        long last = keys[--size];
        if (size > 0) {
            siftDown(0, last);
        }
        return min;
    }

    /** Places {@code key} at {@code i} or below, restoring the heap order. */
    private void siftDown(int i, long key) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < size && keys[child + 1] < keys[child]) {
                child++;
            }
            if (key <= keys[child]) {
                break;
            }
            keys[i] = keys[child];
            i = child;
        }
        keys[i] = key;
    }
}
