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
import jdk.incubator.vector.VectorOperators;

/**
 * Symmetric signed 4-bit weights in groups of 32, 64 or 128 along each row, one binary16 scale per group:
 * {@code ŵ = q · s} with {@code s = maxabs(group) / 7} and {@code q ∈ [-8, 7]} (in practice {@code [-7, 7]}).
 *
 * <p><b>Layout.</b> Two codes per byte, stored as {@code q + 8}, low nibble first: byte {@code j} of a group of
 * {@code G} holds element {@code j} in its low nibble and element {@code j + G/2} in its high nibble (llama.cpp's
 * Q4_0 order). Splitting the group in halves, rather than interleaving neighbours, lets a vector of bytes unpack
 * into two vectors of consecutive elements.
 *
 * <p><b>Error bound.</b> For a group with largest magnitude {@code m}, let {@code s = m / 7} and {@code s'} its
 * binary16 rounding (the stored scale); codes are rounded against {@code s'}. Then every element satisfies
 * <pre>  |w − ŵ| ≤ (s / 2)·(1 + 2^-11) + 7·2^-25</pre>
 * up to float rounding of the arithmetic itself (relative 2^-23); the additive term only matters for scales below
 * binary16's normal range (2^-14). An all-zero group is exact. Consequently
 * {@code |dot(ŵ, x) − dot(w, x)| ≤ Σ_i |x_i|·bound_i}, plus float accumulation error.
 *
 * <p>Memory: half a byte per weight plus two bytes per group, off-heap.
 */
public final class Int4Matrix implements WeightMatrix {
    private static final int QMAX = 7;

    private final MemorySegment packed;
    private final MemorySegment scales;
    private final int rows;
    private final int cols;
    private final int groupSize;
    private final int groups;
    private final boolean vector;

    private Int4Matrix(MemorySegment packed, MemorySegment scales, int rows, int cols, int groupSize) {
        this.packed = packed;
        this.scales = scales;
        this.rows = rows;
        this.cols = cols;
        this.groupSize = groupSize;
        this.groups = cols / groupSize;
        this.vector = B != null && (groupSize / 2) % L == 0;
    }

    /**
     * Quantizes {@code source} with {@code groupSize} weights per scale into memory that lives as long as the
     * result is reachable.
     *
     * @throws IllegalArgumentException if {@code groupSize} is not 32, 64 or 128, does not divide {@code cols}, a
     *                                  weight is not finite, or a group scale overflows binary16
     */
    public static Int4Matrix quantize(WeightMatrix source, int groupSize) {
        return quantize(source, groupSize, Arena.ofAuto());
    }

    /**
     * As {@link #quantize(WeightMatrix, int)}, allocating from {@code arena} (an {@link Arena} or
     * {@link WeightSlabs}).
     */
    public static Int4Matrix quantize(WeightMatrix source, int groupSize, SegmentAllocator arena) {
        if (groupSize != 32 && groupSize != 64 && groupSize != 128) {
            throw new IllegalArgumentException("INT4 group size must be 32, 64 or 128, got " + groupSize);
        }
        int rows = source.rows();
        int cols = source.cols();
        if (cols % groupSize != 0) {
            throw new IllegalArgumentException(
                    "INT4_G" + groupSize + " needs cols divisible by " + groupSize + ", got " + cols);
        }
        int groups = cols / groupSize;
        int half = groupSize / 2;
        MemorySegment packed = arena.allocate((long) rows * cols / 2, 64);
        MemorySegment scales = arena.allocate((long) rows * groups * Short.BYTES, 64);
        RowConversion.run(rows, cols, (r, w) -> {
            source.row(r, w);
            for (int g = 0; g < groups; g++) {
                int xo = g * groupSize;
                short h = GroupQuantizer.scale(w, xo, groupSize, QMAX, r);
                scales.set(I16_LE, ((long) r * groups + g) * Short.BYTES, h);
                float s = Float.float16ToFloat(h);
                long po = ((long) r * cols + xo) / 2;
                for (int j = 0; j < half; j++) {
                    int lo = GroupQuantizer.code(w[xo + j], s, -8, QMAX) + 8;
                    int hi = GroupQuantizer.code(w[xo + half + j], s, -8, QMAX) + 8;
                    packed.set(ValueLayout.JAVA_BYTE, po + j, (byte) (lo | hi << 4));
                }
            }
        });
        return new Int4Matrix(packed, scales, rows, cols, groupSize);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** Weights per scale: 32, 64 or 128. */
    public int groupSize() {
        return groupSize;
    }

    @Override
    public String format() {
        return "INT4_G" + groupSize;
    }

    @Override
    public long bytes() {
        return packed.byteSize() + scales.byteSize();
    }

    /** The stored (binary16-rounded) scale of group {@code group} of row {@code row}. */
    public float scale(int row, int group) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(group, groups);
        return scaleAt((long) row * groups * Short.BYTES, group);
    }

    private float scaleAt(long sBase, int g) {
        return Float.float16ToFloat(scales.get(I16_LE, sBase + (long) g * Short.BYTES));
    }

    @Override
    public float dot(int row, float[] x) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        if (!vector) {
            return dotScalar((long) row * cols / 2, (long) row * groups * Short.BYTES, x);
        }
        return dotRow(row, x, new float[L]);
    }

    /**
     * Two rows per pass: each load of {@code x} serves both rows and two independent accumulation chains are in
     * flight. (Three or four rows made the method too large for C2 to inline the Vector API calls, which then
     * boxed every vector and ran about 3x slower than one row.) Every row accumulates exactly as {@link #dot}
     * does, so the bits are the same.
     */
    @Override
    public void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        Objects.checkFromToIndex(from, to, out.length);
        if (!vector) {
            for (int r = from; r < to; r++) {
                out[r] = dotScalar((long) r * cols / 2, (long) r * groups * Short.BYTES, x);
            }
            return;
        }
        float[] lanes = new float[2 * L];
        float[] pairScales = new float[2 * groups];
        int half = groupSize / 2;
        long rowBytes = cols / 2;
        long rowScales = (long) groups * Short.BYTES;
        int shift = Integer.numberOfTrailingZeros(half / L);
        int mask = half / L - 1;
        int blocks = cols / (2 * L);
        int r = from;
        for (; r + 2 <= to; r += 2) {
            long p0 = r * rowBytes;
            long p1 = p0 + rowBytes;
            // Both rows' scales, decoded once per pass: read in the block loop, each segment access and binary16
            // conversion inlined there pushed the loop past C2's node budget and its vectors got boxed (seen
            // under JMH as 1 MB allocated per product and a 10x slowdown).
            long s0 = r * rowScales;
            for (int g = 0; g < 2 * groups; g++) {
                pairScales[g] = scaleAt(s0, g);
            }
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            for (int k = 0; k < blocks; k++) {
                int g = k >>> shift;
                int xo = g * groupSize + (k & mask) * L;
                FloatVector xl = FloatVector.fromArray(F, x, xo);
                FloatVector xh = FloatVector.fromArray(F, x, xo + half);
                ByteVector b0 = ByteVector.fromMemorySegment(B, packed, p0 + (long) k * L, LE);
                ByteVector b1 = ByteVector.fromMemorySegment(B, packed, p1 + (long) k * L, LE);
                a0 = highCodes(b0).fma(xh, lowCodes(b0).mul(xl))
                        .fma(FloatVector.broadcast(F, pairScales[g]), a0);
                a1 = highCodes(b1).fma(xh, lowCodes(b1).mul(xl))
                        .fma(FloatVector.broadcast(F, pairScales[groups + g]), a1);
            }
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, L);
            out[r] = Kernels.sumStored(lanes, 0);
            out[r + 1] = Kernels.sumStored(lanes, L);
        }
        for (; r < to; r++) {
            out[r] = dotRow(r, x, lanes);
        }
    }

    /**
     * One row, accumulated exactly as each row of {@link #dotRows}. The row is walked as one flat loop over blocks
     * of {@code L} bytes ({@code L} low and {@code L} high codes, in the two halves of a group; {@code half / L} is
     * 1, 2, 4 or 8, so the group and block within it are a shift and a mask): the former nested loop per group, one
     * or two iterations long, measured up to 1.27x slower on its own. Each block's partial sum {@code Σ q·x} is
     * scaled into the accumulator by its group's scale; the lanes are then summed in {@link Kernels#sumStored}'s
     * fixed order.
     */
    private float dotRow(int row, float[] x, float[] lanes) {
        long pBase = (long) row * cols / 2;
        long sBase = (long) row * groups * Short.BYTES;
        int half = groupSize / 2;
        int shift = Integer.numberOfTrailingZeros(half / L);
        int mask = half / L - 1;
        int blocks = cols / (2 * L);
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int g = k >>> shift;
            int xo = g * groupSize + (k & mask) * L;
            ByteVector b = ByteVector.fromMemorySegment(B, packed, pBase + (long) k * L, LE);
            FloatVector p = lowCodes(b).mul(FloatVector.fromArray(F, x, xo));
            p = highCodes(b).fma(FloatVector.fromArray(F, x, xo + half), p);
            acc = p.fma(FloatVector.broadcast(F, scaleAt(sBase, g)), acc);
        }
        acc.intoArray(lanes, 0);
        return Kernels.sumStored(lanes, 0);
    }

    /** The codes {@code q} of the low nibbles, as floats. */
    private static FloatVector lowCodes(ByteVector b) {
        return Kernels.bytesToFloats(b.and((byte) 0x0F).sub((byte) 8));
    }

    /** The codes {@code q} of the high nibbles, as floats. */
    private static FloatVector highCodes(ByteVector b) {
        return Kernels.bytesToFloats(highNibbles(b).sub((byte) 8));
    }

    /**
     * The high nibble of every byte. x86 has no byte shift, so C2 emulates one by widening; shifting the bytes
     * as 16-bit lanes is one instruction, and the bits it moves in from the neighbouring byte are masked off.
     */
    static ByteVector highNibbles(ByteVector b) {
        return ((ByteVector) b.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes())
                .and((byte) 0x0F);
    }

    private float dotScalar(long pBase, long sBase, float[] x) {
        int half = groupSize / 2;
        float s = 0f;
        for (int g = 0; g < groups; g++) {
            int xo = g * groupSize;
            long po = pBase + xo / 2;
            float lo = 0f;
            float hi = 0f;
            for (int j = 0; j < half; j++) {
                int b = packed.get(ValueLayout.JAVA_BYTE, po + j);
                lo = Math.fma((b & 0x0F) - 8, x[xo + j], lo);
                hi = Math.fma((b >> 4 & 0x0F) - 8, x[xo + half + j], hi);
            }
            s = Math.fma(lo + hi, scaleAt(sBase, g), s);
        }
        return s;
    }

    @Override
    public void row(int row, float[] dst) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, dst.length);
        long pBase = (long) row * cols / 2;
        long sBase = (long) row * groups * Short.BYTES;
        int half = groupSize / 2;
        for (int g = 0; g < groups; g++) {
            float s = scaleAt(sBase, g);
            int xo = g * groupSize;
            long po = pBase + xo / 2;
            if (vector) {
                for (int j = 0; j < half; j += L) {
                    ByteVector b = ByteVector.fromMemorySegment(B, packed, po + j, LE);
                    Kernels.bytesToFloats(b.and((byte) 0x0F).sub((byte) 8)).mul(s).intoArray(dst, xo + j);
                    Kernels.bytesToFloats(highNibbles(b).sub((byte) 8)).mul(s)
                            .intoArray(dst, xo + half + j);
                }
            } else {
                for (int j = 0; j < half; j++) {
                    int b = packed.get(ValueLayout.JAVA_BYTE, po + j);
                    dst[xo + j] = ((b & 0x0F) - 8) * s;
                    dst[xo + half + j] = ((b >> 4 & 0x0F) - 8) * s;
                }
            }
        }
    }

    /** The code {@code q} in {@code [-8, 7]} of element {@code (r, c)} (no bounds check). */
    int code(int r, int c) {
        int half = groupSize / 2;
        int g = c / groupSize;
        int j = c - g * groupSize;
        long p = ((long) r * cols + (long) g * groupSize) / 2 + (j < half ? j : j - half);
        int b = packed.get(ValueLayout.JAVA_BYTE, p);
        return (j < half ? b & 0x0F : b >> 4 & 0x0F) - 8;
    }

    /** The binary16 bits of the scale of group {@code group} of row {@code row} (no bounds check). */
    short scaleBits(int row, int group) {
        return scales.get(I16_LE, ((long) row * groups + group) * Short.BYTES);
    }

    @Override
    public float get(int r, int c) {
        Objects.checkIndex(r, rows);
        Objects.checkIndex(c, cols);
        return code(r, c) * scale(r, c / groupSize);
    }
}
