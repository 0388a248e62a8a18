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
        // Two independent accumulators keep FMAs in flight; the memory stream, not the FMA chain, sets the pace.
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (; i <= n - 2 * L; i += 2 * L) {
            long o = base + (long) i * Float.BYTES;
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(FloatVector.fromArray(F, x, i), a0);
            a1 = FloatVector.fromMemorySegment(F, data, o + 4L * L, LE).fma(FloatVector.fromArray(F, x, i + L), a1);
        }
        for (; i <= n - L; i += L) {
            a0 = FloatVector.fromMemorySegment(F, data, base + (long) i * Float.BYTES, LE)
                    .fma(FloatVector.fromArray(F, x, i), a0);
        }
        return tail(base, i, x, Kernels.sum(a0.add(a1)));
    }

    /**
     * Eight rows per pass: each load of {@code x} serves eight rows and eight row streams are in flight, which
     * single-threaded streamed 1.2x the bytes per second of four rows with four accumulators each (on 512-column
     * rows; eight rows of four accumulators would not fit the 32 vector registers). Every row accumulates exactly
     * as {@link #dot} does (same accumulators, same order), so the bits are the same.
     *
     * <p>The eight rows of a pass lie {@code (to - from) / 8} rows apart, so each stream runs on through whole
     * consecutive rows in memory order. Eight adjacent short rows (2 KB at 512 columns) gave eight streams that
     * ended after 32 cache lines each, before the hardware prefetchers had much to do: on a Zen 4 host an
     * 8192 x 512 product out of cache streamed 2.3-2.6x the bytes per second spread apart, other shapes 1.0-1.1x
     * (docs/BENCHMARKS.md).
     */
    @Override
    public void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        Objects.checkFromToIndex(from, to, out.length);
        long stride = (long) cols * Float.BYTES;
        float[] lanes = new float[8 * L];
        // Eight rows a spread apart: each of the eight streams runs through whole consecutive rows, in memory order.
        int spread = (to - from) / 8;
        long step = spread * stride;
        for (int r = from; r < from + spread; r++) {
            long b = r * stride;
            int i = dotEightRows(data, b, step, 4L * L, x, cols, lanes);
            for (int k = 0; k < 8; k++) {
                out[r + k * spread] = tail(b + k * step, i, x, Kernels.sumLanes(lanes, k * L));
            }
        }
        for (int r = from + 8 * spread; r < to; r++) {
            out[r] = dot(r, x);
        }
    }

    /**
     * The vector part of eight rows' dot products with {@code x}, accumulated as {@link #dot} does: row {@code k}'s
     * block of {@code L} columns number {@code j} lies at byte {@code base + k * rowStep + j * blockStep}. Leaves
     * row {@code k}'s vector sum in {@code lanes[k * L..(k + 1) * L)}, to be reduced from memory (eight inlined
     * vector reductions would exceed C2's inlining budget, and vectors passed to a call that is not inlined get
     * boxed).
     *
     * @return the first column not covered: the rows' scalar tails start there
     */
    static int dotEightRows(MemorySegment data, long base, long rowStep, long blockStep, float[] x, int n,
                            float[] lanes) {
        long r1 = rowStep;
        long r2 = 2 * rowStep;
        long r3 = 3 * rowStep;
        long r4 = 4 * rowStep;
        long r5 = 5 * rowStep;
        long r6 = 6 * rowStep;
        long r7 = 7 * rowStep;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z;
        FloatVector c0 = z;
        FloatVector a1 = z;
        FloatVector c1 = z;
        FloatVector a2 = z;
        FloatVector c2 = z;
        FloatVector a3 = z;
        FloatVector c3 = z;
        FloatVector a4 = z;
        FloatVector c4 = z;
        FloatVector a5 = z;
        FloatVector c5 = z;
        FloatVector a6 = z;
        FloatVector c6 = z;
        FloatVector a7 = z;
        FloatVector c7 = z;
        int i = 0;
        long o = base;
        for (; i <= n - 2 * L; i += 2 * L, o += 2 * blockStep) {
            FloatVector x0 = FloatVector.fromArray(F, x, i);
            FloatVector x1 = FloatVector.fromArray(F, x, i + L);
            long p = o + blockStep;
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(x0, a0);
            c0 = FloatVector.fromMemorySegment(F, data, p, LE).fma(x1, c0);
            a1 = FloatVector.fromMemorySegment(F, data, o + r1, LE).fma(x0, a1);
            c1 = FloatVector.fromMemorySegment(F, data, p + r1, LE).fma(x1, c1);
            a2 = FloatVector.fromMemorySegment(F, data, o + r2, LE).fma(x0, a2);
            c2 = FloatVector.fromMemorySegment(F, data, p + r2, LE).fma(x1, c2);
            a3 = FloatVector.fromMemorySegment(F, data, o + r3, LE).fma(x0, a3);
            c3 = FloatVector.fromMemorySegment(F, data, p + r3, LE).fma(x1, c3);
            a4 = FloatVector.fromMemorySegment(F, data, o + r4, LE).fma(x0, a4);
            c4 = FloatVector.fromMemorySegment(F, data, p + r4, LE).fma(x1, c4);
            a5 = FloatVector.fromMemorySegment(F, data, o + r5, LE).fma(x0, a5);
            c5 = FloatVector.fromMemorySegment(F, data, p + r5, LE).fma(x1, c5);
            a6 = FloatVector.fromMemorySegment(F, data, o + r6, LE).fma(x0, a6);
            c6 = FloatVector.fromMemorySegment(F, data, p + r6, LE).fma(x1, c6);
            a7 = FloatVector.fromMemorySegment(F, data, o + r7, LE).fma(x0, a7);
            c7 = FloatVector.fromMemorySegment(F, data, p + r7, LE).fma(x1, c7);
        }
        for (; i <= n - L; i += L, o += blockStep) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, data, o + r1, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, data, o + r2, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, data, o + r3, LE).fma(xv, a3);
            a4 = FloatVector.fromMemorySegment(F, data, o + r4, LE).fma(xv, a4);
            a5 = FloatVector.fromMemorySegment(F, data, o + r5, LE).fma(xv, a5);
            a6 = FloatVector.fromMemorySegment(F, data, o + r6, LE).fma(xv, a6);
            a7 = FloatVector.fromMemorySegment(F, data, o + r7, LE).fma(xv, a7);
        }
        a0.add(c0).intoArray(lanes, 0);
        a1.add(c1).intoArray(lanes, L);
        a2.add(c2).intoArray(lanes, 2 * L);
        a3.add(c3).intoArray(lanes, 3 * L);
        a4.add(c4).intoArray(lanes, 4 * L);
        a5.add(c5).intoArray(lanes, 5 * L);
        a6.add(c6).intoArray(lanes, 6 * L);
        a7.add(c7).intoArray(lanes, 7 * L);
        return i;
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
