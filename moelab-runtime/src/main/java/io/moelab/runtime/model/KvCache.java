package io.moelab.runtime.model;

/**
 * Keys and values of every layer for the positions seen so far, so that decoding a token attends to earlier
 * tokens without recomputing them. Keys are stored after RoPE.
 */
public final class KvCache {
    private final int capacity;
    private final int width;
    private final float[][] keys;
    private final float[][] values;
    private final Activations activations;

    /**
     * A cache for {@code capacity} positions.
     *
     * @throws IllegalArgumentException if the cache would not fit in a Java array
     */
    public KvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        this.width = config.kvHeads() * config.headDim();
        long size = (long) capacity * width;
        if (capacity < 1 || size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions does not fit");
        }
        keys = new float[config.layers()][(int) size];
        values = new float[config.layers()][(int) size];
        activations = new Activations(config, capacity);
    }

    Activations activations() {
        return activations;
    }

    /** Positions it can hold. */
    public int capacity() {
        return capacity;
    }

    void store(int layer, int position, float[] k, float[] v) {
        if (position >= capacity) {
            throw new IllegalArgumentException("position " + position + " beyond the KV cache's " + capacity);
        }
        System.arraycopy(k, 0, keys[layer], position * width, width);
        System.arraycopy(v, 0, values[layer], position * width, width);
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    int width() {
        return width;
    }
}
