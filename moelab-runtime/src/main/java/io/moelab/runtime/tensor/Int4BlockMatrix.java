package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.I;
import static io.moelab.runtime.tensor.Kernels.I16_LE;
import static io.moelab.runtime.tensor.Kernels.L;
import static io.moelab.runtime.tensor.Kernels.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int4Matrix}'s codes and scales (the same for the same group size), laid out for products in integer
 * arithmetic: the activation vector is quantized to int8 per group, and each group's {@code Σ q·x} is summed
 * exactly in 16-bit lanes, one lane per row, before one float multiply-add per group and row.
 *
 * <p><b>Why.</b> {@link Int4Matrix} turns every code into a float before its multiply-add (two conversions and an
 * offset per sixteen weights), which holds it near 15 G weights/s per core on an AVX-512 host, compute-bound. Here
 * a 16-bit multiply and add serve {@code 2L} rows at once with no conversion per weight: 2.5-2.7x INT4's
 * single-threaded throughput on the same host, and m100 decode 1.8x as fast (docs/BENCHMARKS.md).
 *
 * <p><b>Layout.</b> Rows in blocks of {@code R = 2L} (32 with 512-bit vectors), each two halves of {@code L} rows.
 * Within a block, for each step of four columns {@code 4j .. 4j+3}, {@code 2R} bytes: half after half, row after
 * row, two bytes per row, one per column parity {@code p}: byte {@code 2i + p} of a half holds its row {@code i}'s
 * code for column {@code 4j + p} in its low nibble and for column {@code 4j + 2 + p} in its high nibble, each stored
 * as {@code q + 8}. Widened to 16 bits, a half's {@code 2L} bytes are one vector whose lanes pair up per row (even
 * and odd columns), so the activations enter as broadcast 32-bit pairs. Then, separately, for each block and group,
 * the {@code R} rows' binary16 scales. A last partial block is padded with zero codes and zero scales.
 *
 * <p><b>Arithmetic.</b> For group {@code g} with activation scale {@code t_g = max|x_g| / 127} (float), the codes
 * {@code a_i = round(x_i · 127 / max|x_g|)} in {@code [-127, 127]} (ties to even); then
 * {@code dot = Σ_g fma(Σ_{i∈g} q_i a_i, s_g · t_g)} in group order, the integer sums exact. A 16-bit lane holds
 * one row and one column parity over a window of up to 64 columns (a group, or half of a 128-column one): it sums
 * the stored codes times the activations, {@code Σ (q_i + 8) a_i}, which may wrap around, less {@code 8 Σ a_i}
 * (kept with the activations); the result, {@code Σ q_i a_i} over 32 columns, is at most
 * {@code 32 · 8 · 127 = 32512 < 2^15} in magnitude, so wrap-around arithmetic leaves it exact. Per window the two
 * lanes of a row are added in 32 bits. Each byte {@code b = lo + 16 hi} of codes enters as
 * {@code b · a_lo + hi · (a_hi − 16 a_lo)} (the pairs precomputed with the activations), which equals
 * {@code lo · a_lo + hi · a_hi} modulo 2^16 without masking the low nibble. (Against rows in single lanes with a
 * broadcast activation per column: 1.33x the weights per second, in cache, single thread; earlier, subtracting the
 * offset once per lane and widening the bytes once: 1.13-1.17x.) {@link #dot} and {@link #dotRows} compute
 * exactly this, so their bits agree.
 *
 * <p><b>Error bound.</b> With {@code ŵ} the dequantized weights (bounded against {@code w} as in
 * {@link Int4Matrix}) and {@code |x_i − a_i t_g| ≤ t_g / 2}: {@code |dot − ŵ·x| ≤ Σ_i |ŵ_i| · t_{g(i)} / 2},
 * plus float rounding of the per-group scaling and accumulation (relative {@code 2^-23} per group), and where
 * {@code t_g} is subnormal ({@code max|x_g| < 127 · 2^-126}) underflow, at most
 * {@code 2^-150 (127 Σ_{i∈g} |ŵ_i| + |Σ_{i∈g} q_i a_i| + 1)} per group. The codes are rounded from {@code x_i} times
 * the float {@code 127 / max|x_g|}, computed as with an unbounded exponent where that quotient overflows (below
 * 3.7e-37). Non-finite activations give NaN.
 *
 * <p>Memory: half a byte per weight plus two bytes per group and row, off-heap.
 */
public final class Int4BlockMatrix implements WeightMatrix {
    /** Rows per block: one 16-bit lane per row. */
    static final int R = 2 * L;
    /** Vector products need a byte vector per block of rows (at least 64 bits); below that the scalar loop runs. */
    private static final boolean VECTOR = L >= 8;
    private static final VectorSpecies<Short> S = VECTOR
            ? ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(R * 16)).check(short.class) : null;
    /** Bytes, one per row of a block. */
    private static final VectorSpecies<Byte> BR = VECTOR
            ? ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(R * 8)).check(byte.class) : null;
    /** Activation codes as shorts, {@code L} to a vector: what a float vector of them narrows to. */
    private static final VectorSpecies<Short> SL = VECTOR ? Kernels.S : null;
    /** The lanes of each step of four columns that hold its columns {@code 4j + 2} and {@code 4j + 3}. */
    private static final VectorMask<Short> UPPER_PAIRS = VECTOR ? VectorMask.fromLong(SL, 0xCCCC_CCCC_CCCC_CCCCL)
            : null;
    /**
     * Where the activation codes start in {@link Activations#a}: two zero codes before column 0 let the pairs be
     * computed from loads two lanes back without a special first vector.
     */
    private static final int A0 = 4;
    /** Float lanes of even columns (a vector starts at an even column). */
    private static final VectorMask<Float> EVEN_LANES = VECTOR ? VectorMask.fromLong(F, 0x5555_5555_5555_5555L)
            : null;
    /**
     * Most columns per window, whose exact sums the 16-bit lanes hold: each lane takes every other column,
     * {@code 32 · 8 · 127 < 2^15}.
     */
    private static final int MAX_WINDOW = 64;

    private final MemorySegment codes;
    private final MemorySegment scales;
    private final int rows;
    private final int cols;
    private final int groupSize;
    private final int groups;
    /** Columns per window of 16-bit sums: the group, at most {@value #MAX_WINDOW}. */
    private final int window;
    /** Bytes of one block's codes: {@code R * cols / 2}. */
    private final long blockBytes;

    private Int4BlockMatrix(MemorySegment codes, MemorySegment scales, int rows, int cols, int groupSize) {
        this.codes = codes;
        this.scales = scales;
        this.rows = rows;
        this.cols = cols;
        this.groupSize = groupSize;
        this.groups = cols / groupSize;
        this.window = Math.min(groupSize, MAX_WINDOW);
        this.blockBytes = (long) R * cols / 2;
    }

    /**
     * Quantizes {@code source} with {@code groupSize} weights per scale into memory that lives as long as the
     * result is reachable.
     *
     * @throws IllegalArgumentException as {@link Int4Matrix#quantize(WeightMatrix, int)}
     */
    public static Int4BlockMatrix quantize(WeightMatrix source, int groupSize) {
        return quantize(source, groupSize, Arena.ofAuto());
    }

    /**
     * As {@link #quantize(WeightMatrix, int)}, allocating from {@code arena} (an {@link Arena} or
     * {@link WeightSlabs}).
     */
    public static Int4BlockMatrix quantize(WeightMatrix source, int groupSize, SegmentAllocator arena) {
        // Int4Matrix rounds (and validates); its codes and scales are then laid out in blocks, so both formats
        // hold the same values. Its memory is a scratch mapping, unmapped on return: from an automatic arena it was
        // reserved against the JVM's direct-memory limit (the heap size by default) until a collection, so a matrix
        // whose INT4 copy exceeded it failed to load, and a model's scratch copies lingered during its load. Shared,
        // as the team's threads fill and read it.
        try (Arena scratch = Arena.ofShared()) {
            return blocks(Int4Matrix.quantize(source, groupSize, new WeightSlabs(scratch)), groupSize, arena);
        }
    }

    private static Int4BlockMatrix blocks(Int4Matrix q, int groupSize, SegmentAllocator arena) {
        int rows = q.rows();
        int cols = q.cols();
        int groups = cols / groupSize;
        long padded = paddedRows(rows);
        MemorySegment codes = arena.allocate(padded * cols / 2, 64);
        MemorySegment scales = arena.allocate(padded * groups * Short.BYTES, 64);
        codes.fill((byte) 0x88);
        Int4BlockMatrix m = new Int4BlockMatrix(codes, scales, rows, cols, groupSize);
        // A row's bytes in a block are its own (two per step of four columns), so rows convert independently.
        RowConversion.run(rows, cols, (r, unused) -> {
            for (int g = 0; g < groups; g++) {
                scales.set(I16_LE, m.scaleOffset(r, g), q.scaleBits(r, g));
            }
            for (int c = 0; c < cols; c += 4) {
                for (int p = 0; p < 2; p++) {
                    int lo = q.code(r, c + p) + 8;
                    int hi = q.code(r, c + 2 + p) + 8;
                    codes.set(ValueLayout.JAVA_BYTE, m.codeOffset(r, c + p), (byte) (lo | hi << 4));
                }
            }
        });
        return m;
    }

    /** Rows held for {@code rows} rows: whole blocks, the last one padded. */
    public static long paddedRows(long rows) {
        return (rows + R - 1) / R * R;
    }

    /**
     * Byte of row {@code r}'s codes for columns {@code c} and {@code c ^ 2}: the low nibble holds column
     * {@code c & ~2}, the high one {@code c | 2}.
     */
    private long codeOffset(int r, int c) {
        return (r / R) * blockBytes + (long) (c / 4) * 2 * R + (r % R) * 2 + (c & 1);
    }

    private long scaleOffset(int r, int g) {
        return (((long) (r / R) * groups + g) * R + r % R) * Short.BYTES;
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
        return "INT4_G" + groupSize + "_I8";
    }

    @Override
    public long bytes() {
        return codes.byteSize() + scales.byteSize();
    }

    /** The stored (binary16-rounded) scale of group {@code group} of row {@code row}. */
    public float scale(int row, int group) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(group, groups);
        return Float.float16ToFloat(scales.get(I16_LE, scaleOffset(row, group)));
    }

    private int code(int r, int c) {
        int b = codes.get(ValueLayout.JAVA_BYTE, codeOffset(r, c));
        return ((c & 2) == 0 ? b & 0x0F : b >> 4 & 0x0F) - 8;
    }

    @Override
    public float get(int r, int c) {
        Objects.checkIndex(r, rows);
        Objects.checkIndex(c, cols);
        return code(r, c) * scale(r, c / groupSize);
    }

    @Override
    public void row(int row, float[] dst) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, dst.length);
        // Two bytes per step of four columns, 2R bytes apart (batched prefill dequantizes every row this way).
        long p = codeOffset(row, 0);
        for (int g = 0; g < groups; g++) {
            float s = Float.float16ToFloat(scales.get(I16_LE, scaleOffset(row, g)));
            for (int c = g * groupSize, end = c + groupSize; c < end; c += 4, p += 2 * R) {
                int even = codes.get(ValueLayout.JAVA_BYTE, p);
                int odd = codes.get(ValueLayout.JAVA_BYTE, p + 1);
                dst[c] = ((even & 0x0F) - 8) * s;
                dst[c + 1] = ((odd & 0x0F) - 8) * s;
                dst[c + 2] = ((even >> 4 & 0x0F) - 8) * s;
                dst[c + 3] = ((odd >> 4 & 0x0F) - 8) * s;
            }
        }
    }

    /**
     * The last activation vector a thread quantized, with its codes: one product's chunks share it. Also the
     * thread's scratch for {@link #dotBlock}, which every chunk needs.
     */
    static final class Activations {
        float[] x = new float[0];
        int groupSize;
        short[] a = new short[0];
        float[] t = new float[0];
        /**
         * Per step of four columns {@code 4j..4j+3}, two 16-bit pairs as ints: {@code (a_4j, a_4j+1)} and
         * {@code (a_4j+2 − 16 a_4j, a_4j+3 − 16 a_4j+1)}, the even column's in the low half.
         */
        int[] pairs = new int[0];
        /**
         * Per window (its width follows from the group size), as a pair: {@code 8 Σ a} over its even and odd
         * columns, the stored codes' offset.
         */
        int[] offsets = new int[0];
        final float[] lanes = new float[R];
        float[] blockScales = new float[0];
    }

    private static final ThreadLocal<Activations> LAST = ThreadLocal.withInitial(Activations::new);

    /**
     * The quantized activations of {@code x}, reused when this thread's previous call quantized the same values
     * with the same group size. The product team hands each thread several chunks of one product, and q, k and v
     * share their input: re-quantizing per chunk measured a fifth of the decode time.
     */
    private Activations activations(float[] x) {
        Activations c = LAST.get();
        if (c.groupSize == groupSize && c.x.length == cols && Arrays.equals(c.x, 0, cols, x, 0, cols)) {
            return c;
        }
        quantize(x, c, VECTOR);
        return c;
    }

    /** Quantizes {@code x} into {@code c}, sizing its arrays first, by vectors or by the scalar reference. */
    void quantize(float[] x, Activations c, boolean vectors) {
        if (c.x.length != cols) {
            c.x = new float[cols];
            c.a = new short[A0 + cols];
            c.pairs = new int[cols / 2];
        }
        if (c.offsets.length != cols / window) {
            c.offsets = new int[cols / window];
        }
        if (c.t.length < groups) {
            c.t = new float[groups];
        }
        System.arraycopy(x, 0, c.x, 0, cols);
        c.groupSize = groupSize;
        if (vectors && VECTOR) {
            quantizeVectors(x, c);
        } else {
            quantizeScalar(x, c);
        }
    }

    /** Two 16-bit values in an int, {@code low} in the low half: a 32-bit lane that is two 16-bit lanes. */
    private static int pair(int low, int high) {
        return (low & 0xFFFF) | high << 16;
    }

    /** 1.5 · 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND = 12582912f;

    /**
     * The activation codes (as shorts, for 16-bit multiplies; rounded to nearest, ties to even), per-group scales,
     * pairs and window offsets of {@code x}, in plain loops; a group with a non-finite value gets scale NaN and zero
     * codes. The reference for {@link #quantizeVectors}, which must give the same values, and the path where
     * vectors are too short.
     */
    private void quantizeScalar(float[] x, Activations c) {
        short[] a = c.a;
        for (int g = 0; g < groups; g++) {
            int xo = g * groupSize;
            int end = xo + groupSize;
            float max = 0f;
            for (int i = xo; i < end; i++) {
                max = Math.max(max, Math.abs(x[i]));
            }
            if (!(max < Float.POSITIVE_INFINITY)) {
                c.t[g] = Float.NaN;
                Arrays.fill(a, A0 + xo, A0 + end, (short) 0);
                continue;
            }
            c.t[g] = max / 127f;
            float inverse = max > 0f ? 127f / max : 0f;
            if (inverse == Float.POSITIVE_INFINITY) {
                tinyGroupCodes(x, xo, end, max, a);
                continue;
            }
            for (int i = xo; i < end; i++) {
                // |x · inverse| <= 127 (up to rounding, clamped): adding and subtracting ROUND rounds it exactly.
                a[A0 + i] = (short) (int) Math.max(-127f, Math.min(127f, x[i] * inverse + ROUND - ROUND));
            }
        }
        for (int i = 0; i < cols; i += 4) {
            c.pairs[i / 2] = pair(a[A0 + i], a[A0 + i + 1]);
            // |.| <= 17 * 127 < 2^15
            c.pairs[i / 2 + 1] = pair(a[A0 + i + 2] - 16 * a[A0 + i], a[A0 + i + 3] - 16 * a[A0 + i + 1]);
        }
        for (int k = 0; k < cols / window; k++) {
            int even = 0;
            int odd = 0;
            for (int i = k * window; i < (k + 1) * window; i += 2) {
                even += a[A0 + i];
                odd += a[A0 + i + 1];
            }
            c.offsets[k] = pair(8 * even, 8 * odd); // |8 Σ a| <= 8 * 32 * 127 < 2^15
        }
    }

    /**
     * The codes of {@code x[from..to)}, whose largest magnitude {@code max} is so small (below
     * {@code 127 / Float.MAX_VALUE}, about 3.7e-37) that {@code 127 / max} overflows float: an infinite inverse
     * gave every nonzero value the code ±127 and a zero NaN. The values and {@code max} are scaled by 2^64 first,
     * exactly (subnormals included, nothing overflows), so the codes are those of an unbounded exponent range:
     * {@code fl(127 / max)} and each product keep their significands, scaled by powers of two. Both quantizations
     * call this, so their codes agree; ordinary groups never reach it.
     */
    private static void tinyGroupCodes(float[] x, int from, int to, float max, short[] a) {
        float inverse = 127f / (max * 0x1p64f);
        for (int i = from; i < to; i++) {
            a[A0 + i] = (short) (int) Math.max(-127f, Math.min(127f, x[i] * 0x1p64f * inverse + ROUND - ROUND));
        }
    }

    /**
     * {@link #quantizeScalar}'s values, {@code L} columns to a vector: each group's largest magnitude as the
     * largest of the values' bits with the sign cleared; the codes rounded as floats (the same operations in the
     * same order) and narrowed to shorts; each window's even and odd sums reduced from the rounded floats, exact
     * (integers of at most 32 · 127 in magnitude) in any order; the pairs from the codes and the codes two columns
     * back, in 16-bit lanes reinterpreted as ints. 512 columns on an AVX-512 host: 0.25-0.35 µs, against 0.82 µs in
     * plain loops, which was about two 32-row blocks' products, on every thread that takes part of a matrix. (Lanes
     * reduced through memory instead took 0.46 µs.) At about 580 bytes of bytecode the method is past C2's inlining
     * limit (325), so it compiles on its own, with its Vector API calls intrinsified: an earlier, smaller Vector API
     * version inlined into {@link #dotRows} ran the API's Java fallback. Profiles of m100 decode show no fallback.
     */
    private void quantizeVectors(float[] x, Activations c) {
        short[] a = c.a;
        for (int g = 0; g < groups; g++) {
            int xo = g * groupSize;
            int end = xo + groupSize;
            // |x| as bits: for non-negative floats, and NaN above infinity, integer order is float order.
            IntVector m = IntVector.zero(I);
            for (int i = xo; i < end; i += L) {
                m = m.max(FloatVector.fromArray(F, x, i).reinterpretAsInts().and(0x7FFF_FFFF));
            }
            int maxBits = m.reduceLanes(VectorOperators.MAX);
            float max = Float.intBitsToFloat(maxBits);
            if (!(max < Float.POSITIVE_INFINITY)) {
                c.t[g] = Float.NaN;
                Arrays.fill(a, A0 + xo, A0 + end, (short) 0);
                Arrays.fill(c.offsets, xo / window, end / window, 0);
                continue;
            }
            c.t[g] = max / 127f;
            float inverse = max > 0f ? 127f / max : 0f;
            if (inverse == Float.POSITIVE_INFINITY) {
                tinyGroupCodes(x, xo, end, max, a);
                for (int w = xo; w < end; w += window) {
                    int even = 0;
                    int odd = 0;
                    for (int i = w; i < w + window; i += 2) {
                        even += a[A0 + i];
                        odd += a[A0 + i + 1];
                    }
                    c.offsets[w / window] = pair(8 * even, 8 * odd);
                }
                continue;
            }
            for (int w = xo; w < end; w += window) {
                FloatVector sum = FloatVector.zero(F);
                for (int i = w; i < w + window; i += L) {
                    FloatVector r = FloatVector.fromArray(F, x, i).mul(inverse).add(ROUND).sub(ROUND)
                            .min(127f).max(-127f);
                    ((ShortVector) r.convertShape(VectorOperators.F2S, SL, 0)).intoArray(a, A0 + i);
                    sum = sum.add(r);
                }
                float even = sum.reduceLanes(VectorOperators.ADD, EVEN_LANES);
                float odd = sum.reduceLanes(VectorOperators.ADD, EVEN_LANES.not());
                c.offsets[w / window] = pair(8 * (int) even, 8 * (int) odd);
            }
        }
        for (int i = 0; i < cols; i += L) {
            ShortVector back = ShortVector.fromArray(SL, a, A0 + i - 2).mul((short) 16);
            // Reinterpreted, two 16-bit lanes are one int, the lower lane in the low half: what pair() builds.
            ShortVector.fromArray(SL, a, A0 + i).sub(back, UPPER_PAIRS).reinterpretAsInts().intoArray(c.pairs, i / 2);
        }
    }

    @Override
    public float dot(int row, float[] x) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        Activations q = activations(x);
        return dotScalar(row, q.a, q.t);
    }

    /** One row in the documented order: exact integer group sums, then one fused multiply-add per group. */
    private float dotScalar(int row, short[] a, float[] t) {
        float f = 0f;
        for (int g = 0; g < groups; g++) {
            int sum = 0;
            for (int c = g * groupSize; c < (g + 1) * groupSize; c++) {
                sum += code(row, c) * a[A0 + c];
            }
            f = Math.fma((float) sum, scale(row, g) * t[g], f);
        }
        return f;
    }

    /**
     * Whole blocks of {@code R} rows per pass (the product team cuts its chunks at multiples of 32 rows); rows of a
     * block only partly inside {@code [from, to)} are computed one by one.
     */
    @Override
    public void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        Objects.checkFromToIndex(from, to, out.length);
        Activations q = activations(x);
        short[] a = q.a;
        float[] t = q.t;
        int r = from;
        if (VECTOR) {
            for (; r < to && r % R != 0; r++) {
                out[r] = dotScalar(r, a, t);
            }
            float[] lanes = q.lanes;
            if (q.blockScales.length < groups * R) {
                q.blockScales = new float[groups * R];
            }
            float[] blockScales = q.blockScales;
            for (; r + R <= to; r += R) {
                decodeScales(r / R, blockScales);
                dotBlock(r / R, q.pairs, q.offsets, t, blockScales, lanes);
                System.arraycopy(lanes, 0, out, r, R);
            }
            if (to == rows && r < to) {
                // The last, padded block: its padding rows compute zeros that are not written.
                decodeScales(r / R, blockScales);
                dotBlock(r / R, q.pairs, q.offsets, t, blockScales, lanes);
                System.arraycopy(lanes, 0, out, r, to - r);
                r = to;
            }
        }
        for (; r < to; r++) {
            out[r] = dotScalar(r, a, t);
        }
    }

    /**
     * The {@code R} rows of block {@code block} into {@code lanes}, its scales already decoded into
     * {@code blockScales} ({@link #decodeScales}, called apart: decoding binary16 vectors in this method made it too
     * large for C2, which then ran part of the Vector API calls through their Java fallback, 13 against
     * 27 G weights/s; tried again with the leaner decoding, 0.45x).
     *
     * <p>One loop over the block's steps of four columns, the window's and the group's ends taken by countdowns
     * inside it, rather than a loop per window: a window is 16 steps, and C2 paid each entry of such a short loop
     * with range-check set-up (long offsets into the segment) and pre- and post-loop iterations, about a quarter of
     * the time in cache (windows of 32 columns measured 0.77x of 64). The offset is computed from the loop's int
     * counter, so C2 hoists the segment's bounds checks out of the loop. In cache, single thread, 1.15-1.25x the
     * weights per second of a loop per window (docs/BENCHMARKS.md); the arithmetic, and so the bits, are the same.
     * (Two steps per pass, tried: the method grew past C2's limit again, 0.45x.)
     */
    private void dotBlock(int block, int[] pairs, int[] offsets, float[] t, float[] blockScales, float[] lanes) {
        long p = block * blockBytes;
        int stepsPerWindow = window / 4;
        int windowsPerGroup = groupSize / window;
        int steps = cols / 4;
        FloatVector f0 = FloatVector.zero(F);
        FloatVector f1 = f0;
        IntVector i0 = IntVector.zero(I);
        IntVector i1 = i0;
        ShortVector acc0 = ShortVector.zero(S);
        ShortVector acc1 = acc0;
        int windowLeft = stepsPerWindow;
        int groupLeft = windowsPerGroup;
        int w = 0;
        int g = 0;
        for (int k = 0; k < steps; k++) {
            long pk = p + (long) k * (2 * R);
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(BR, codes, pk, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(BR, codes, pk + R, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector lo = IntVector.broadcast(I, pairs[2 * k]).reinterpretAsShorts();
            ShortVector hi = IntVector.broadcast(I, pairs[2 * k + 1]).reinterpretAsShorts();
            acc0 = acc0.add(w0.mul(lo)).add(w0.lanewise(VectorOperators.LSHR, 4).mul(hi));
            acc1 = acc1.add(w1.mul(lo)).add(w1.lanewise(VectorOperators.LSHR, 4).mul(hi));
            if (--windowLeft == 0) {
                windowLeft = stepsPerWindow;
                ShortVector offset = IntVector.broadcast(I, offsets[w++]).reinterpretAsShorts();
                i0 = i0.add(pairSums(acc0.sub(offset)));
                i1 = i1.add(pairSums(acc1.sub(offset)));
                acc0 = ShortVector.zero(S);
                acc1 = acc0;
                if (--groupLeft == 0) {
                    groupLeft = windowsPerGroup;
                    float tg = t[g];
                    FloatVector s0 = FloatVector.fromArray(F, blockScales, g * R).mul(tg);
                    FloatVector s1 = FloatVector.fromArray(F, blockScales, g * R + L).mul(tg);
                    f0 = ((FloatVector) i0.convertShape(VectorOperators.I2F, F, 0)).fma(s0, f0);
                    f1 = ((FloatVector) i1.convertShape(VectorOperators.I2F, F, 0)).fma(s1, f1);
                    i0 = IntVector.zero(I);
                    i1 = i0;
                    g++;
                }
            }
        }
        f0.intoArray(lanes, 0);
        f1.intoArray(lanes, L);
    }

    /**
     * Block {@code block}'s binary16 scales as floats into {@code dst}, {@code L} at a time: one
     * {@code Float.float16ToFloat} per scale, 512 per block of 512 columns, was about a tenth of a block's time in
     * cache. The scales are finite and non-negative (the quantizer refuses others), so a half's exponent and
     * mantissa moved into binary32 position and scaled by 2^112 are its value exactly, subnormals and zero included:
     * no special cases, unlike {@link Kernels#f16} (tested over every finite non-negative half).
     */
    private void decodeScales(int block, float[] dst) {
        long s = (long) block * groups * R * Short.BYTES;
        for (int k = 0; k < groups * R; k += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(SL, scales, s + (long) k * Short.BYTES, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
            h.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).intoArray(dst, k);
        }
    }

    /** Per row, the sum of its two signed 16-bit lanes (even and odd columns), in 32 bits. */
    private static IntVector pairSums(ShortVector lanes) {
        IntVector v = lanes.reinterpretAsInts();
        return v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(v.lanewise(VectorOperators.ASHR, 16));
    }
}
