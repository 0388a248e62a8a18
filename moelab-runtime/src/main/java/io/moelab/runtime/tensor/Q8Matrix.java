package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.B;
import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.I16_LE;
import static io.moelab.runtime.tensor.Kernels.L;
import static io.moelab.runtime.tensor.Kernels.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * Symmetric 8-bit weights in groups of {@value #GROUP} along each row, one binary16 scale per group, as llama.cpp's
 * Q8_0: {@code ŵ = q · s} with {@code q ∈ [-127, 127]}.
 *
 * <p><b>Error bound.</b> For a group with largest magnitude {@code m}, let {@code s = m / 127} and {@code s'} its
 * binary16 rounding (the stored scale); codes are rounded against {@code s'}. Then every element satisfies
 * <pre>  |w − ŵ| ≤ (s / 2)·(1 + 2^-11) + 127·2^-25</pre>
 * up to float rounding of the arithmetic itself (relative 2^-23). In binary16's normal range {@code |s − s'| ≤ s·2^-11}
 * and no code clamps, so the error is at most {@code s'/2}; the additive term covers scales below 2^-14, where
 * binary16 is subnormal and {@code |s − s'| ≤ 2^-25}. An all-zero group has scale 0 and is exact. Consequently
 * {@code |dot(ŵ, x) − dot(w, x)| ≤ Σ_i |x_i|·bound_i}, plus float accumulation error.
 *
 * <p>Memory: one byte per weight plus two bytes per group, off-heap.
 */
public final class Q8Matrix implements WeightMatrix {
    /** Weights per scale. */
    public static final int GROUP = 32;
    private static final int QMAX = 127;
    private static final boolean VECTOR = B != null && GROUP % L == 0;

    private final MemorySegment quants;
    private final MemorySegment scales;
    private final int rows;
    private final int cols;
    private final int groups;

    private Q8Matrix(MemorySegment quants, MemorySegment scales, int rows, int cols) {
        this.quants = quants;
        this.scales = scales;
        this.rows = rows;
        this.cols = cols;
        this.groups = cols / GROUP;
    }

    /**
     * Quantizes {@code source} into memory that lives as long as the result is reachable.
     *
     * @throws IllegalArgumentException if {@code cols} is not a multiple of {@value #GROUP}, a weight is not
     *                                  finite, or a group scale overflows binary16
     */
    public static Q8Matrix quantize(WeightMatrix source) {
        return quantize(source, Arena.ofAuto());
    }

    /** As {@link #quantize(WeightMatrix)}, allocating from {@code arena} (an {@link Arena} or {@link WeightSlabs}). */
    public static Q8Matrix quantize(WeightMatrix source, SegmentAllocator arena) {
        int rows = source.rows();
        int cols = source.cols();
        if (cols % GROUP != 0) {
            throw new IllegalArgumentException("Q8_" + GROUP + " needs cols divisible by " + GROUP + ", got " + cols);
        }
        int groups = cols / GROUP;
        MemorySegment quants = arena.allocate((long) rows * cols, 64);
        MemorySegment scales = arena.allocate((long) rows * groups * Short.BYTES, 64);
        RowConversion.run(rows, cols, (r, w) -> {
            source.row(r, w);
            for (int g = 0; g < groups; g++) {
                short h = GroupQuantizer.scale(w, g * GROUP, GROUP, QMAX, r);
                scales.set(I16_LE, ((long) r * groups + g) * Short.BYTES, h);
                float s = Float.float16ToFloat(h);
                for (int j = g * GROUP; j < (g + 1) * GROUP; j++) {
                    quants.set(ValueLayout.JAVA_BYTE, (long) r * cols + j,
                            (byte) GroupQuantizer.code(w[j], s, -QMAX, QMAX));
                }
            }
        });
        return new Q8Matrix(quants, scales, rows, cols);
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
        return "Q8_" + GROUP;
    }

    @Override
    public long bytes() {
        return quants.byteSize() + scales.byteSize();
    }

    /** The stored (binary16-rounded) scale of group {@code group} of row {@code row}. */
    public float scale(int row, int group) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(group, groups);
        return Float.float16ToFloat(scales.get(I16_LE, ((long) row * groups + group) * Short.BYTES));
    }

    @Override
    public float dot(int row, float[] x) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        if (!VECTOR) {
            return dotScalar((long) row * cols, (long) row * groups * Short.BYTES, x);
        }
        return dotRow(row, x, new float[L]);
    }

    /**
     * Two rows per pass, sharing the loads of {@code x}, one accumulator per row: the two rows' chains overlap.
     * (Two accumulators per row, or more rows, made the method too large for C2 to inline the Vector API calls, and
     * boxed vectors made it slower than one row at a time.) Every row accumulates exactly as {@link #dot} does, so
     * the bits are the same.
     */
    @Override
    public void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        Objects.checkFromToIndex(from, to, out.length);
        if (!VECTOR) {
            for (int r = from; r < to; r++) {
                out[r] = dotScalar((long) r * cols, (long) r * groups * Short.BYTES, x);
            }
            return;
        }
        float[] lanes = new float[2 * L];
        long rowScales = (long) groups * Short.BYTES;
        int r = from;
        for (; r + 2 <= to; r += 2) {
            long q0 = (long) r * cols;
            long q1 = q0 + cols;
            long s0 = r * rowScales;
            long s1 = s0 + rowScales;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector b0 = a0;
            for (int g = 0; g < groups; g++) {
                a0 = groupDot(q0, g, x).fma(FloatVector.broadcast(F, scaleAt(s0, g)), a0);
                b0 = groupDot(q1, g, x).fma(FloatVector.broadcast(F, scaleAt(s1, g)), b0);
            }
            a0.intoArray(lanes, 0);
            b0.intoArray(lanes, L);
            out[r] = Kernels.sumStored(lanes, 0);
            out[r + 1] = Kernels.sumStored(lanes, L);
        }
        for (; r < to; r++) {
            out[r] = dotRow(r, x, lanes);
        }
    }

    /**
     * One row, accumulated exactly as each row of {@link #dotRows}: each group's {@code Σ q·x} scaled into one
     * accumulator, whose lanes are summed in {@link Kernels#sumStored}'s fixed order.
     */
    private float dotRow(int row, float[] x, float[] lanes) {
        long qBase = (long) row * cols;
        long sBase = (long) row * groups * Short.BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            acc = groupDot(qBase, g, x).fma(FloatVector.broadcast(F, scaleAt(sBase, g)), acc);
        }
        acc.intoArray(lanes, 0);
        return Kernels.sumStored(lanes, 0);
    }

    private FloatVector groupDot(long qBase, int g, float[] x) {
        int xo = g * GROUP;
        long qo = qBase + xo;
        FloatVector p = Kernels.bytesToFloats(ByteVector.fromMemorySegment(B, quants, qo, LE))
                .mul(FloatVector.fromArray(F, x, xo));
        for (int j = L; j < GROUP; j += L) {
            p = Kernels.bytesToFloats(ByteVector.fromMemorySegment(B, quants, qo + j, LE))
                    .fma(FloatVector.fromArray(F, x, xo + j), p);
        }
        return p;
    }

    private float scaleAt(long sBase, int g) {
        return Float.float16ToFloat(scales.get(I16_LE, sBase + (long) g * Short.BYTES));
    }

    private float dotScalar(long qBase, long sBase, float[] x) {
        float s = 0f;
        for (int g = 0; g < groups; g++) {
            float p = 0f;
            for (int j = g * GROUP; j < (g + 1) * GROUP; j++) {
                p = Math.fma(quants.get(ValueLayout.JAVA_BYTE, qBase + j), x[j], p);
            }
            s = Math.fma(p, scaleAt(sBase, g), s);
        }
        return s;
    }

    @Override
    public void row(int row, float[] dst) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, dst.length);
        long qBase = (long) row * cols;
        long sBase = (long) row * groups * Short.BYTES;
        for (int g = 0; g < groups; g++) {
            float s = scaleAt(sBase, g);
            int xo = g * GROUP;
            if (VECTOR) {
                for (int j = 0; j < GROUP; j += L) {
                    Kernels.bytesToFloats(ByteVector.fromMemorySegment(B, quants, qBase + xo + j, LE)).mul(s)
                            .intoArray(dst, xo + j);
                }
            } else {
                for (int j = xo; j < xo + GROUP; j++) {
                    dst[j] = quants.get(ValueLayout.JAVA_BYTE, qBase + j) * s;
                }
            }
        }
    }

    @Override
    public float get(int r, int c) {
        Objects.checkIndex(r, rows);
        Objects.checkIndex(c, cols);
        return quants.get(ValueLayout.JAVA_BYTE, (long) r * cols + c) * scale(r, c / GROUP);
    }
}
