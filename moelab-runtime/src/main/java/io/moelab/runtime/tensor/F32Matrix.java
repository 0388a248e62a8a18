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

    /**
     * Four rows per pass: each load of {@code x} serves four rows and four row streams are in flight. Every row
     * accumulates exactly as {@link #dot} does (same accumulators, same order), so the bits are the same.
     */
    @Override
    public void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        int n = cols;
        int r = from;
        for (; r + 4 <= to; r += 4) {
            long b0 = (long) r * n * Float.BYTES;
            long b1 = b0 + (long) n * Float.BYTES;
            long b2 = b1 + (long) n * Float.BYTES;
            long b3 = b2 + (long) n * Float.BYTES;
            FloatVector p0 = FloatVector.zero(F);
            FloatVector p1 = p0;
            FloatVector p2 = p0;
            FloatVector p3 = p0;
            FloatVector q0 = p0;
            FloatVector q1 = p0;
            FloatVector q2 = p0;
            FloatVector q3 = p0;
            FloatVector s0 = p0;
            FloatVector s1 = p0;
            FloatVector s2 = p0;
            FloatVector s3 = p0;
            FloatVector t0 = p0;
            FloatVector t1 = p0;
            FloatVector t2 = p0;
            FloatVector t3 = p0;
            int i = 0;
            for (; i <= n - 4 * L; i += 4 * L) {
                long o = (long) i * Float.BYTES;
                FloatVector x0 = FloatVector.fromArray(F, x, i);
                FloatVector x1 = FloatVector.fromArray(F, x, i + L);
                FloatVector x2 = FloatVector.fromArray(F, x, i + 2 * L);
                FloatVector x3 = FloatVector.fromArray(F, x, i + 3 * L);
                p0 = FloatVector.fromMemorySegment(F, data, b0 + o, LE).fma(x0, p0);
                p1 = FloatVector.fromMemorySegment(F, data, b0 + o + 4L * L, LE).fma(x1, p1);
                p2 = FloatVector.fromMemorySegment(F, data, b0 + o + 8L * L, LE).fma(x2, p2);
                p3 = FloatVector.fromMemorySegment(F, data, b0 + o + 12L * L, LE).fma(x3, p3);
                q0 = FloatVector.fromMemorySegment(F, data, b1 + o, LE).fma(x0, q0);
                q1 = FloatVector.fromMemorySegment(F, data, b1 + o + 4L * L, LE).fma(x1, q1);
                q2 = FloatVector.fromMemorySegment(F, data, b1 + o + 8L * L, LE).fma(x2, q2);
                q3 = FloatVector.fromMemorySegment(F, data, b1 + o + 12L * L, LE).fma(x3, q3);
                s0 = FloatVector.fromMemorySegment(F, data, b2 + o, LE).fma(x0, s0);
                s1 = FloatVector.fromMemorySegment(F, data, b2 + o + 4L * L, LE).fma(x1, s1);
                s2 = FloatVector.fromMemorySegment(F, data, b2 + o + 8L * L, LE).fma(x2, s2);
                s3 = FloatVector.fromMemorySegment(F, data, b2 + o + 12L * L, LE).fma(x3, s3);
                t0 = FloatVector.fromMemorySegment(F, data, b3 + o, LE).fma(x0, t0);
                t1 = FloatVector.fromMemorySegment(F, data, b3 + o + 4L * L, LE).fma(x1, t1);
                t2 = FloatVector.fromMemorySegment(F, data, b3 + o + 8L * L, LE).fma(x2, t2);
                t3 = FloatVector.fromMemorySegment(F, data, b3 + o + 12L * L, LE).fma(x3, t3);
            }
            for (; i <= n - L; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector xv = FloatVector.fromArray(F, x, i);
                p0 = FloatVector.fromMemorySegment(F, data, b0 + o, LE).fma(xv, p0);
                q0 = FloatVector.fromMemorySegment(F, data, b1 + o, LE).fma(xv, q0);
                s0 = FloatVector.fromMemorySegment(F, data, b2 + o, LE).fma(xv, s0);
                t0 = FloatVector.fromMemorySegment(F, data, b3 + o, LE).fma(xv, t0);
            }
            out[r] = tail(b0, i, x, Kernels.sum(p0.add(p1).add(p2.add(p3))));
            out[r + 1] = tail(b1, i, x, Kernels.sum(q0.add(q1).add(q2.add(q3))));
            out[r + 2] = tail(b2, i, x, Kernels.sum(s0.add(s1).add(s2.add(s3))));
            out[r + 3] = tail(b3, i, x, Kernels.sum(t0.add(t1).add(t2.add(t3))));
        }
        for (; r < to; r++) {
            out[r] = dot(r, x);
        }
    }

    /** The scalar tail of a row from column {@code i}, fused into {@code s} as {@link #dot} does. */
    private float tail(long base, int i, float[] x, float s) {
        for (; i < cols; i++) {
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
