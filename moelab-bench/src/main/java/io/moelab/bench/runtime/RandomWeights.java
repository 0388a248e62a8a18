package io.moelab.bench.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * The inputs of the kernel benchmarks: a {@code rows × cols} matrix of seeded Gaussian weights (σ 0.02) off-heap,
 * as little-endian F32 like a mapped checkpoint and as the same values truncated to bfloat16, and an input vector,
 * all drawn from one {@code Random(1)} (weights first), so that every benchmark of a shape sees the same numbers.
 *
 * @param f32  {@code rows · cols} little-endian binary32 values
 * @param bf16 the same values' upper halves, little-endian
 * @param x    {@code cols} standard Gaussian inputs
 */
record RandomWeights(int rows, int cols, MemorySegment f32, MemorySegment bf16, float[] x) {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Weights of {@code shape} ({@code ROWSxCOLS}) allocated in {@code arena}. */
    static RandomWeights of(String shape, Arena arena) {
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]);
        int cols = Integer.parseInt(dims[1]);
        Random rnd = new Random(1);
        MemorySegment f32 = arena.allocate((long) rows * cols * Float.BYTES, 64);
        MemorySegment bf16 = arena.allocate((long) rows * cols * 2, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            float v = (float) (rnd.nextGaussian() * 0.02);
            f32.setAtIndex(F32_LE, i, v);
            bf16.setAtIndex(I16_LE, i, (short) (Float.floatToRawIntBits(v) >>> 16));
        }
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return new RandomWeights(rows, cols, f32, bf16, x);
    }
}
