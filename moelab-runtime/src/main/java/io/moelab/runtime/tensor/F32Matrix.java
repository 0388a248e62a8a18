package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.F32_LE;
import static io.moelab.runtime.tensor.Kernels.L;
import static io.moelab.runtime.tensor.Kernels.LE;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/** IEEE binary32 weights over a little-endian {@link MemorySegment}; see {@link WeightMatrix#of}. */
public final class F32Matrix implements WeightMatrix {
    private final MemorySegment data;
    private final int rows;
    private final int cols;

    F32Matrix(MemorySegment data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public String format() {
        return "F32";
    }

    @Override
    public long bytes() {
        return data.byteSize();
    }

    @Override
    public float dot(int row, float[] x) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        long base = (long) row * cols * Float.BYTES;
        int n = cols;
        int i = 0;
        // Four independent accumulators keep several FMAs in flight instead of waiting on one chain.
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (; i <= n - 4 * L; i += 4 * L) {
            long o = base + (long) i * Float.BYTES;
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(FloatVector.fromArray(F, x, i), a0);
            a1 = FloatVector.fromMemorySegment(F, data, o + 4L * L, LE).fma(FloatVector.fromArray(F, x, i + L), a1);
            a2 = FloatVector.fromMemorySegment(F, data, o + 8L * L, LE)
                    .fma(FloatVector.fromArray(F, x, i + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, data, o + 12L * L, LE)
                    .fma(FloatVector.fromArray(F, x, i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) {
            a0 = FloatVector.fromMemorySegment(F, data, base + (long) i * Float.BYTES, LE)
                    .fma(FloatVector.fromArray(F, x, i), a0);
        }
        float s = Kernels.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            s = Math.fma(data.get(F32_LE, base + (long) i * Float.BYTES), x[i], s);
        }
        return s;
    }

    @Override
    public void row(int row, float[] dst) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, dst.length);
        MemorySegment.copy(data, F32_LE, (long) row * cols * Float.BYTES, dst, 0, cols);
    }

    @Override
    public float get(int r, int c) {
        Objects.checkIndex(r, rows);
        Objects.checkIndex(c, cols);
        return data.get(F32_LE, ((long) r * cols + c) * Float.BYTES);
    }
}
