package io.moelab.runtime.model;

/**
 * Keys and values of every layer for the positions seen so far, so that decoding a token attends to earlier
 * tokens without recomputing them. Keys are stored after RoPE and transposed, one row of {@code stride()} positions
 * per key dimension, so that a head's scores come out a vector of positions at a time ({@code MatVec.dotColumns});
 * values one position after another.
 */
public final class KvCache {
    private final int capacity;
    private final int stride;
    private final int width;
    private final float[][] keys;
    private final float[][] values;
    private final Activations activations;
    /**
     * Positions {@code 0..filled-1} hold keys and values. A token at position p attends to 0..p, so a gap (p past
     * {@code filled}) would attend to zeros or to a stale run's keys without a sign; running p again rewinds to it.
     */
    private int filled;

    /**
     * A cache for {@code capacity} positions.
     *
     * @throws IllegalArgumentException if the cache would not fit in a Java array, or holds more positions than the
     *                                  model's sliding window ({@link ModelConfig#window()})
     */
    public KvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        this.width = config.kvHeads() * config.headDim();
        if (capacity > config.window()) {
            // Past the window transformers hides the oldest keys from a query; attention here sees them all.
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions goes past the model's "
                    + "sliding_window of " + config.window() + " (config.json), which transformers applies and "
                    + "moelab does not");
        }
        if (capacity < 1 || capacity > maxPositions(config)) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions does not fit (at most "
                    + maxPositions(config) + " for this model)");
        }
        this.stride = stride(capacity);
        long size = (long) stride * width;
        keys = new float[config.layers()][(int) size];
        values = new float[config.layers()][capacity * width];
        activations = new Activations(config, stride);
    }

    /** Positions per key row: the capacity rounded up to a multiple of {@value #STRIDE_MULTIPLE}. */
    static final int STRIDE_MULTIPLE = 64;

    /** Whole vectors of positions (up to 64 floats wide) fit in every key row and every head's scores. */
    private static int stride(long capacity) {
        return (int) Math.min(Integer.MAX_VALUE, (capacity + STRIDE_MULTIPLE - 1) / STRIDE_MULTIPLE * STRIDE_MULTIPLE);
    }

    /**
     * Most positions a cache of this model can hold: a layer's keys ({@code kvHeads x headDim} rows of the stride)
     * and every query head's attention scores ({@code heads} rows of it) are one Java array each; and no more than
     * the model's sliding window ({@link ModelConfig#window()}), past which attention here would differ.
     */
    public static int maxPositions(ModelConfig config) {
        long width = (long) config.kvHeads() * config.headDim();
        // With many query heads per KV head the scores are the larger array.
        long rows = Math.max(width, config.heads());
        int arrays = (int) ((Integer.MAX_VALUE - 8) / rows / STRIDE_MULTIPLE * STRIDE_MULTIPLE);
        return Math.min(arrays, config.window());
    }

    /**
     * Heap bytes of the keys and values of a cache for {@code positions} positions ({@code positions} at most
     * {@link #maxPositions}), so that callers can refuse a size before allocating it.
     */
    public static long bytes(ModelConfig config, long positions) {
        long width = (long) config.kvHeads() * config.headDim();
        return (long) Float.BYTES * config.layers() * width * (stride(positions) + positions);
    }

    Activations activations() {
        return activations;
    }

    /** Positions it can hold. */
    public int capacity() {
        return capacity;
    }

    /**
     * Positions it holds, {@code 0..filled()-1}: the next token goes at {@code filled()} or earlier (which rewinds
     * the cache to it and drops the positions after).
     */
    public int filled() {
        return filled;
    }

    /**
     * Begins running {@code n} tokens at {@code start}: refuses a start past {@link #filled()} (earlier positions
     * must be held) or positions past the capacity, and drops the positions from {@code start} on, which the run
     * overwrites; {@link #end} marks them held once it has stored them all.
     *
     * @throws IllegalArgumentException for a negative start, a gap after the held positions, or positions past the
     *                                  capacity; the cache is then unchanged
     */
    void begin(int start, int n) {
        if (start < 0) {
            throw new IllegalArgumentException("position " + start + " is negative");
        }
        // As a long: start + n past the largest int wrapped to a negative sum that passed the check.
        if ((long) start + n > capacity) {
            throw new IllegalArgumentException((n == 1 ? "position " : "positions up to ") + ((long) start + n - 1)
                    + " beyond the KV cache's " + capacity);
        }
        if (start > filled) {
            throw new IllegalArgumentException("position " + start + " leaves a gap: the KV cache holds positions "
                    + (filled == 0 ? "none" : "0.." + (filled - 1)) + ", so the next is at most " + filled);
        }
        filled = start;
    }

    /** Marks positions up to {@code start + n - 1} held, after a run {@link #begin begun} there stored them. */
    void end(int start, int n) {
        filled = start + n;
    }

    void store(int layer, int position, float[] k, float[] v) {
        store(layer, position, k, v, 0, width);
    }

    /** Stores dimensions {@code from} to {@code from + n - 1} of a position's key and value (one KV head's). */
    void store(int layer, int position, float[] k, float[] v, int from, int n) {
        if (position >= capacity) {
            throw new IllegalArgumentException("position " + position + " beyond the KV cache's " + capacity);
        }
        float[] kt = keys[layer];
        for (int j = from, o = from * stride + position; j < from + n; j++, o += stride) {
            kt[o] = k[j];
        }
        System.arraycopy(v, from, values[layer], position * width + from, n);
    }

    /** A layer's keys, transposed: dimension {@code j} of position {@code p} at {@code j * stride() + p}. */
    float[] keys(int layer) {
        return keys[layer];
    }

    /** Positions per key row and per head's row of attention scores (at least {@link #capacity()}). */
    int stride() {
        return stride;
    }

    float[] values(int layer) {
        return values[layer];
    }

    int width() {
        return width;
    }
}
