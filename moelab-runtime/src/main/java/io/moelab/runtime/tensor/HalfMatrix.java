package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.L;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/**
 * Sixteen-bit float weights over a little-endian {@link MemorySegment}: the dot product and row decoding of
 * {@link F16Matrix} and {@link BF16Matrix}, which differ only in how a vector of halves becomes floats.
 */
public abstract sealed class HalfMatrix implements WeightMatrix permits F16Matrix, BF16Matrix {
    final MemorySegment data;
    private final int rows;
    private final int cols;

    HalfMatrix(MemorySegment data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** {@link Kernels#L} values at byte {@code offset}, as floats. */
    abstract FloatVector decode(long offset);

    /** One value at byte {@code offset}. */
    abstract float decodeScalar(long offset);

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public long bytes() {
        return data.byteSize();
    }

    @Override
    public final float dot(int row, float[] x) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        long base = (long) row * cols * 2;
        int n = cols;
        int i = 0;
        // Four independent accumulators keep several FMAs in flight instead of waiting on one chain.
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (; i <= n - 4 * L; i += 4 * L) {
            long o = base + (long) i * 2;
            a0 = decode(o).fma(FloatVector.fromArray(F, x, i), a0);
            a1 = decode(o + 2L * L).fma(FloatVector.fromArray(F, x, i + L), a1);
            a2 = decode(o + 4L * L)
                    .fma(FloatVector.fromArray(F, x, i + 2 * L), a2);
            a3 = decode(o + 6L * L)
                    .fma(FloatVector.fromArray(F, x, i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) {
            a0 = decode(base + (long) i * 2)
                    .fma(FloatVector.fromArray(F, x, i), a0);
        }
        float s = Kernels.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            s = Math.fma(decodeScalar(base + (long) i * 2), x[i], s);
        }
        return s;
    }

    @Override
    public final void row(int row, float[] dst) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, dst.length);
        long base = (long) row * cols * 2;
        int i = 0;
        for (; i <= cols - L; i += L) {
            decode(base + (long) i * 2).intoArray(dst, i);
        }
        for (; i < cols; i++) {
            dst[i] = decodeScalar(base + (long) i * 2);
        }
    }

    @Override
    public final float get(int r, int c) {
        Objects.checkIndex(r, rows);
        Objects.checkIndex(c, cols);
        return decodeScalar(((long) r * cols + c) * 2);
    }
}
