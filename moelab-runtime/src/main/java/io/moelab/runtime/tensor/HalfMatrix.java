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
        // Two independent accumulators, as every float dot product here (see Kernels).
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (; i <= n - 2 * L; i += 2 * L) {
            long o = base + (long) i * 2;
            a0 = decode(o).fma(FloatVector.fromArray(F, x, i), a0);
            a1 = decode(o + 2L * L).fma(FloatVector.fromArray(F, x, i + L), a1);
        }
        for (; i <= n - L; i += L) {
            a0 = decode(base + (long) i * 2)
                    .fma(FloatVector.fromArray(F, x, i), a0);
        }
        // Reduced from memory: with both formats' decode inlined here, a call to Kernels.sum can fall outside C2's
        // inlining budget and box its argument on every row (seen as garbage-collector churn).
        float[] lanes = new float[L];
        a0.add(a1).intoArray(lanes, 0);
        return tail(base, i, x, Kernels.sumLanes(lanes, 0));
    }

    /**
     * Four rows per pass, two accumulators each: each load of {@code x} serves four rows and four row streams are
     * in flight. Every row accumulates exactly as {@link #dot} does, so the bits are the same.
     */
    @Override
    public final void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        Objects.checkFromToIndex(from, to, out.length);
        int n = cols;
        long stride = (long) n * 2;
        // Reduced from memory, as in F32Matrix.dotRows: four inlined vector reductions would box the vectors.
        float[] lanes = new float[4 * L];
        // Four rows a spread apart, as in F32Matrix.dotRows: four streams through whole consecutive rows (BF16 on a
        // Zen 4 host: 1.1-1.2x the bytes per second of four adjacent rows, 2.4x on 8192 x 512 out of cache).
        int spread = (to - from) / 4;
        long step = spread * stride;
        for (int r = from; r < from + spread; r++) {
            long b0 = r * stride;
            long b1 = b0 + step;
            long b2 = b1 + step;
            long b3 = b2 + step;
            FloatVector p0 = FloatVector.zero(F);
            FloatVector p1 = p0;
            FloatVector q0 = p0;
            FloatVector q1 = p0;
            FloatVector s0 = p0;
            FloatVector s1 = p0;
            FloatVector t0 = p0;
            FloatVector t1 = p0;
            int i = 0;
            for (; i <= n - 2 * L; i += 2 * L) {
                long o = (long) i * 2;
                FloatVector x0 = FloatVector.fromArray(F, x, i);
                FloatVector x1 = FloatVector.fromArray(F, x, i + L);
                p0 = decode(b0 + o).fma(x0, p0);
                p1 = decode(b0 + o + 2L * L).fma(x1, p1);
                q0 = decode(b1 + o).fma(x0, q0);
                q1 = decode(b1 + o + 2L * L).fma(x1, q1);
                s0 = decode(b2 + o).fma(x0, s0);
                s1 = decode(b2 + o + 2L * L).fma(x1, s1);
                t0 = decode(b3 + o).fma(x0, t0);
                t1 = decode(b3 + o + 2L * L).fma(x1, t1);
            }
            for (; i <= n - L; i += L) {
                long o = (long) i * 2;
                FloatVector xv = FloatVector.fromArray(F, x, i);
                p0 = decode(b0 + o).fma(xv, p0);
                q0 = decode(b1 + o).fma(xv, q0);
                s0 = decode(b2 + o).fma(xv, s0);
                t0 = decode(b3 + o).fma(xv, t0);
            }
            p0.add(p1).intoArray(lanes, 0);
            q0.add(q1).intoArray(lanes, L);
            s0.add(s1).intoArray(lanes, 2 * L);
            t0.add(t1).intoArray(lanes, 3 * L);
            for (int k = 0; k < 4; k++) {
                out[r + k * spread] = tail(b0 + k * step, i, x, Kernels.sumLanes(lanes, k * L));
            }
        }
        for (int r = from + 4 * spread; r < to; r++) {
            out[r] = dot(r, x);
        }
    }

    /** The scalar tail of a row from column {@code i}, fused into {@code s} as {@link #dot} does. */
    private float tail(long base, int i, float[] x, float s) {
        for (; i < cols; i++) {
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
