package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

class FloatMatricesTest {
    private static final int[] COLS = {1, 7, 8, 33, 257, 1000};
    private static final int[] ROWS = {1, 2, 17, 50};

    /** A matrix in some format together with the float values its elements must decode to. */
    private record Case(WeightMatrix matrix, float[] values) {
    }

    private static Case f32(Random rnd, int rows, int cols) {
        float[] v = TestData.gaussian(rnd, rows * cols, 1.0);
        return new Case(WeightMatrix.of(DType.F32, TestData.f32Segment(v), rows, cols), v);
    }

    private static Case f16(Random rnd, int rows, int cols) {
        short[] bits = new short[rows * cols];
        float[] v = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = Float.floatToFloat16((float) rnd.nextGaussian());
            v[i] = TestData.decodeF16(bits[i]);
        }
        return new Case(WeightMatrix.of(DType.F16, TestData.shortSegment(bits), rows, cols), v);
    }

    private static Case bf16(Random rnd, int rows, int cols) {
        short[] bits = new short[rows * cols];
        float[] v = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (short) (Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16);
            v[i] = TestData.decodeBF16(bits[i]);
        }
        return new Case(WeightMatrix.of(DType.BF16, TestData.shortSegment(bits), rows, cols), v);
    }

    private interface Maker {
        Case make(Random rnd, int rows, int cols);
    }

    private static void checkAgainstReference(Maker maker, String format) {
        Random rnd = new Random(format.hashCode());
        for (int cols : COLS) {
            for (int rows : ROWS) {
                Case c = maker.make(rnd, rows, cols);
                WeightMatrix m = c.matrix();
                assertThat(m.rows()).isEqualTo(rows);
                assertThat(m.cols()).isEqualTo(cols);
                assertThat(m.format()).isEqualTo(format);
                float[] x = TestData.gaussian(rnd, cols + 3, 1.0); // longer than cols: only [0, cols) counts
                for (int r = 0; r < rows; r++) {
                    double ref = TestData.refDot(c.values(), r * cols, x, cols);
                    double scale = TestData.absDot(c.values(), r * cols, x, cols);
                    assertThat((double) m.dot(r, x)).as("%s %dx%d row %d", format, rows, cols, r)
                            .isCloseTo(ref, offset(1e-5 * scale + 1e-30));
                    float[] row = TestData.row(m, r);
                    for (int j = 0; j < cols; j++) {
                        assertThat(Float.floatToRawIntBits(row[j])).isEqualTo(
                                Float.floatToRawIntBits(c.values()[r * cols + j]));
                    }
                    int j = rnd.nextInt(cols);
                    assertThat(m.get(r, j)).isEqualTo(c.values()[r * cols + j]);
                }
            }
        }
    }

    @Test
    void f32MatchesReference() {
        checkAgainstReference(FloatMatricesTest::f32, "F32");
    }

    @Test
    void f16MatchesIndependentlyDecodedReference() {
        checkAgainstReference(FloatMatricesTest::f16, "F16");
    }

    @Test
    void bf16MatchesIndependentlyDecodedReference() {
        checkAgainstReference(FloatMatricesTest::bf16, "BF16");
    }

    /**
     * {@code dotRows} over sub-ranges (rows taken a spread apart, several spreads per range, with a remainder of
     * single rows) gives {@code dot}'s bits for every row of the range and leaves the other outputs alone.
     */
    @Test
    void dotRowsGivesTheBitsOfDotOverAnyRange() {
        Random rnd = new Random(77);
        Maker[] makers = {FloatMatricesTest::f32, FloatMatricesTest::f16, FloatMatricesTest::bf16};
        for (Maker maker : makers) {
            for (int cols : new int[] {7, 40, 257}) {
                WeightMatrix m = maker.make(rnd, 75, cols).matrix();
                float[] x = TestData.gaussian(rnd, cols, 1.0);
                for (int trial = 0; trial < 40; trial++) {
                    int from = rnd.nextInt(m.rows());
                    int to = from + 1 + rnd.nextInt(m.rows() - from);
                    float[] out = new float[m.rows()];
                    Arrays.fill(out, Float.NaN);
                    m.dotRows(from, to, x, out);
                    for (int r = 0; r < m.rows(); r++) {
                        if (r < from || r >= to) {
                            assertThat(out[r]).as("%s row %d outside [%d, %d)", m.format(), r, from, to).isNaN();
                        } else {
                            assertThat(Float.floatToRawIntBits(out[r]))
                                    .as("%s %dx%d row %d of [%d, %d)", m.format(), m.rows(), cols, r, from, to)
                                    .isEqualTo(Float.floatToRawIntBits(m.dot(r, x)));
                        }
                    }
                }
            }
        }
    }

    /**
     * The multi-row kernels (eight F32 rows, four F16 or BF16 rows per pass) over widths where a single vector is left
     * after the pairs of vectors: {@code cols mod 2L} at least {@code L}, exactly {@code L} among them. The widths
     * above never left one, so that loop of both kernels had not run. Each row has {@code dot}'s bits, which are
     * those of {@link MatVec#dot} on the decoded row (the float formats' documented equality), and is within float
     * accumulation of the float64 reference.
     */
    @Test
    void multiRowKernelsOnWidthsWithASingleVectorLeftGiveTheBitsOfDot() {
        int l = Kernels.L;
        Random rnd = new Random(2024);
        Maker[] makers = {FloatMatricesTest::f32, FloatMatricesTest::f16, FloatMatricesTest::bf16};
        for (Maker maker : makers) {
            for (int cols : new int[] {l, l + 2, 3 * l, 3 * l + 5, 5 * l + l / 2}) {
                int rows = 8 * 3 + 5;
                Case c = maker.make(rnd, rows, cols);
                WeightMatrix m = c.matrix();
                // Magnitudes spread over many binades: a different order of the sums changes the bits.
                float[] x = TestData.gaussian(rnd, cols, 1.0);
                for (int i = 0; i < cols; i++) {
                    x[i] = Math.scalb(x[i], rnd.nextInt(24) - 12);
                }
                for (int[] range : new int[][] {{0, rows}, {3, rows - 1}, {rows - 9, rows}}) {
                    float[] out = new float[rows];
                    Arrays.fill(out, Float.NaN);
                    m.dotRows(range[0], range[1], x, out);
                    for (int r = range[0]; r < range[1]; r++) {
                        float[] row = Arrays.copyOfRange(c.values(), r * cols, (r + 1) * cols);
                        String what = m.format() + " " + rows + "x" + cols + " row " + r;
                        assertThat(Float.floatToRawIntBits(out[r])).as(what)
                                .isEqualTo(Float.floatToRawIntBits(m.dot(r, x)))
                                .isEqualTo(Float.floatToRawIntBits(MatVec.dot(row, x, cols)));
                        assertThat((double) out[r]).as(what).isCloseTo(TestData.refDot(row, 0, x, cols),
                                offset(1e-5 * TestData.absDot(row, 0, x, cols)));
                    }
                }
            }
        }
    }

    @Test
    void ofFloatsWrapsRowMajorValuesAndRefusesEmptyShapes() {
        float[] v = {1, 2, 3, 4, 5, 6};
        WeightMatrix w = WeightMatrix.ofFloats(v, 3, 2);
        // Wrapped, not copied (on a little-endian host): a later write shows through.
        v[5] = -7f;
        if (java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN) {
            assertThat(w.get(2, 1)).isEqualTo(-7f);
        }
        assertThat(w.rows()).isEqualTo(3);
        assertThat(w.cols()).isEqualTo(2);
        // A zero dimension, with as many values (none) as it needs, is still refused.
        assertThatThrownBy(() -> WeightMatrix.ofFloats(new float[0], 0, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive: 0x3");
        assertThatThrownBy(() -> WeightMatrix.ofFloats(new float[0], 3, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive: 3x0");
        assertThatThrownBy(() -> WeightMatrix.of(DType.BF16, MemorySegment.ofArray(new byte[0]), 0, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive: 0x4");
        assertThatThrownBy(() -> WeightMatrix.of(DType.F32, MemorySegment.ofArray(new byte[0]), 4, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive: 4x0");
        assertThatThrownBy(() -> WeightMatrix.ofFloats(v, 4, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a 4x2 matrix needs 8 values, got 6");
    }

    @Test
    void dtypesParseTheirSafetensorsNamesOnly() {
        for (DType d : DType.values()) {
            assertThat(DType.parse(d.name())).contains(d);
        }
        assertThat(DType.parse("f32")).isEmpty();
        assertThat(DType.parse("F64")).isEmpty();
        assertThat(DType.F32.bytes()).isEqualTo(4);
        assertThat(DType.F16.bytes()).isEqualTo(2);
        assertThat(DType.BF16.bytes()).isEqualTo(2);
    }

    @Test
    void bytesAreTheWrappedSegmentsSize() {
        MemorySegment seg = MemorySegment.ofArray(new byte[48]);
        assertThat(WeightMatrix.of(DType.F16, seg, 4, 6).bytes()).isEqualTo(48);
        assertThat(WeightMatrix.of(DType.BF16, seg, 6, 4).bytes()).isEqualTo(48);
    }

    @Test
    void ofFloatsWrapsRowMajorValues() {
        float[] v = {1, 2, 3, 4, 5, 6};
        WeightMatrix m = WeightMatrix.ofFloats(v, 2, 3);
        assertThat(m).isInstanceOf(F32Matrix.class);
        assertThat(m.get(1, 0)).isEqualTo(4f);
        assertThat(m.dot(1, new float[] {1, 1, 1})).isEqualTo(15f);
        assertThat(m.bytes()).isEqualTo(24);
        assertThatThrownBy(() -> WeightMatrix.ofFloats(v, 2, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WeightMatrix.ofFloats(v, 0, 3)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Known bit patterns, each repeated so that both the vector body and the scalar tail decode them. */
    private static void checkPatterns(DType type, int[] patterns, float[] expected) {
        int reps = 7;
        int cols = patterns.length * reps;
        short[] bits = new short[cols];
        for (int i = 0; i < cols; i++) {
            bits[i] = (short) patterns[i % patterns.length];
        }
        // Bytes laid out by hand: low byte first.
        byte[] bytes = new byte[2 * cols];
        for (int i = 0; i < cols; i++) {
            bytes[2 * i] = (byte) (patterns[i % patterns.length] & 0xFF);
            bytes[2 * i + 1] = (byte) (patterns[i % patterns.length] >> 8);
        }
        WeightMatrix m = WeightMatrix.of(type, MemorySegment.ofArray(bytes), 1, cols);
        float[] row = TestData.row(m, 0);
        for (int i = 0; i < cols; i++) {
            assertThat(row[i]).as("%s 0x%04X", type, patterns[i % patterns.length])
                    .isEqualTo(expected[i % patterns.length]);
            assertThat(m.get(0, i)).isEqualTo(expected[i % patterns.length]);
        }
        // One-hot vectors pick single elements out of the dot product, in the vector body and in the tail.
        for (int i = 0; i < cols; i++) {
            float[] oneHot = new float[cols];
            oneHot[i] = 1f;
            assertThat(m.dot(0, oneHot)).isEqualTo(expected[i % patterns.length]);
        }
    }

    @Test
    void f16DecodesKnownBitPatterns() {
        checkPatterns(DType.F16,
                new int[] {0x3C00, 0xC000, 0x3800, 0x7BFF, 0xFBFF, 0x0001, 0x8000, 0x0400, 0x3555, 0x0000},
                new float[] {1f, -2f, 0.5f, 65504f, -65504f, 0x1p-24f, -0f, 0x1p-14f, 0.333251953125f, 0f});
    }

    @Test
    void bf16DecodesKnownBitPatterns() {
        checkPatterns(DType.BF16, new int[] {0x3F80, 0xC000, 0x3F00, 0x4049, 0x0001, 0x8000, 0x7F7F, 0x0000},
                new float[] {1f, -2f, 0.5f, 3.140625f, 0x1p-133f, -0f, 0x1.FEp127f, 0f});
    }

    /** Every one of the 65536 patterns, against the JDK's scalar decoding (NaN payloads included). */
    private static void checkAllPatterns(DType type, IntFunction<Float> decode) {
        short[] bits = new short[1 << 16];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (short) i;
        }
        WeightMatrix m = WeightMatrix.of(type, TestData.shortSegment(bits), 256, 256);
        for (int r = 0; r < 256; r++) {
            float[] row = TestData.row(m, r);
            for (int c = 0; c < 256; c++) {
                int pattern = r * 256 + c;
                float expected = decode.apply(pattern);
                if (Float.isNaN(expected)) {
                    // The JDK's intrinsic may quiet NaNs; only NaN-ness is specified.
                    assertThat(row[c]).as("%s 0x%04X", type, pattern).isNaN();
                } else {
                    assertThat(Float.floatToRawIntBits(row[c])).as("%s 0x%04X", type, pattern)
                            .isEqualTo(Float.floatToRawIntBits(expected));
                }
            }
        }
    }

    @Test
    void f16DecodesEveryPatternLikeTheJdk() {
        checkAllPatterns(DType.F16, p -> TestData.decodeF16((short) p));
    }

    @Test
    void bf16DecodesEveryPatternByShifting() {
        checkAllPatterns(DType.BF16, p -> TestData.decodeBF16((short) p));
    }

    @Test
    void unalignedSegmentsWork() {
        Random rnd = new Random(7);
        float[] v = TestData.gaussian(rnd, 3 * 45, 1.0);
        MemorySegment aligned = TestData.f32Segment(v);
        MemorySegment backing = MemorySegment.ofArray(new byte[(int) aligned.byteSize() + 1]);
        MemorySegment unaligned = backing.asSlice(1, aligned.byteSize());
        unaligned.copyFrom(aligned);
        WeightMatrix a = WeightMatrix.of(DType.F32, aligned, 3, 45);
        WeightMatrix u = WeightMatrix.of(DType.F32, unaligned, 3, 45);
        float[] x = TestData.gaussian(rnd, 45, 1.0);
        for (int r = 0; r < 3; r++) {
            assertThat(u.dot(r, x)).isEqualTo(a.dot(r, x));
        }
    }

    @Test
    void factoryChecksSizes() {
        MemorySegment seg = MemorySegment.ofArray(new byte[24]);
        assertThat(WeightMatrix.of(DType.F32, seg, 2, 3).bytes()).isEqualTo(24);
        assertThat(WeightMatrix.of(DType.F16, seg, 3, 4)).isInstanceOf(F16Matrix.class);
        assertThat(WeightMatrix.of(DType.BF16, seg, 4, 3)).isInstanceOf(BF16Matrix.class);
        assertThatThrownBy(() -> WeightMatrix.of(DType.F32, seg, 2, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32").hasMessageContaining("24");
        assertThatThrownBy(() -> WeightMatrix.of(DType.F16, seg, 2, 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WeightMatrix.of(DType.F16, seg, -3, -4))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void indexesAreChecked() {
        WeightMatrix m = WeightMatrix.ofFloats(new float[6], 2, 3);
        assertThatThrownBy(() -> m.dot(2, new float[3])).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.dot(-1, new float[3])).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.dot(0, new float[2])).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.row(0, new float[2])).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.get(0, 3)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
