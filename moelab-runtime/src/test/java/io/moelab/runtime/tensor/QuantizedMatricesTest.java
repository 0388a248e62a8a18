package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class QuantizedMatricesTest {

    /** The documented per-element bound for a group whose largest magnitude is {@code maxAbs}. */
    private static double bound(double maxAbs, int qmax) {
        double s = maxAbs / qmax;
        return s / 2 * (1 + 0x1p-11) + qmax * 0x1p-25;
    }

    /**
     * Random weights whose groups span magnitudes from far below binary16's normal range to 2^6 (outliers to about
     * 2^16, still within binary16 for the scales), with some all-zero groups and some groups with one outlier a
     * thousand times the rest.
     */
    private static float[] weights(Random rnd, int rows, int cols, int group) {
        float[] w = new float[rows * cols];
        for (int g = 0; g < rows * cols / group; g++) {
            int kind = rnd.nextInt(10);
            if (kind == 0) {
                continue; // all zero
            }
            double magnitude = Math.scalb(1.0, rnd.nextInt(37) - 30);
            for (int j = 0; j < group; j++) {
                w[g * group + j] = (float) (rnd.nextGaussian() * magnitude);
            }
            if (kind == 1) {
                w[g * group + rnd.nextInt(group)] = (float) (1000 * magnitude * (rnd.nextBoolean() ? 1 : -1));
            }
        }
        return w;
    }

    /** Checks the element and dot-product bounds of {@code q} against the original weights {@code w}. */
    private static void checkBounds(WeightMatrix q, float[] w, int group, int qmax, Random rnd) {
        int rows = q.rows();
        int cols = q.cols();
        for (int r = 0; r < rows; r++) {
            float[] hat = TestData.row(q, r);
            double[] elementBound = new double[cols];
            for (int g = 0; g < cols / group; g++) {
                double maxAbs = 0;
                for (int j = g * group; j < (g + 1) * group; j++) {
                    maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + j]));
                }
                // Slack for the float rounding of the quotient and of q·s (relative 2^-23 or so).
                double b = bound(maxAbs, qmax) * (1 + 1e-6) + Math.ulp((float) maxAbs);
                Arrays.fill(elementBound, g * group, (g + 1) * group, b);
                if (maxAbs == 0) {
                    for (int j = g * group; j < (g + 1) * group; j++) {
                        assertThat(hat[j]).isZero();
                    }
                }
            }
            for (int j = 0; j < cols; j++) {
                double err = Math.abs(w[r * cols + j] - (double) hat[j]);
                assertThat(err).as("row %d col %d: w=%s ŵ=%s", r, j, w[r * cols + j], hat[j])
                        .isLessThanOrEqualTo(elementBound[j]);
            }
            int c = rnd.nextInt(cols);
            assertThat(q.get(r, c)).isEqualTo(hat[c]);

            float[] x = TestData.gaussian(rnd, cols, 1.0);
            double allowed = 0;
            for (int j = 0; j < cols; j++) {
                allowed += Math.abs(x[j]) * elementBound[j];
            }
            allowed += 1e-5 * TestData.absDot(hat, 0, x, cols) + Double.MIN_NORMAL;
            double err = Math.abs(q.dot(r, x) - TestData.refDot(w, r * cols, x, cols));
            assertThat(err).as("dot of row %d", r).isLessThanOrEqualTo(allowed);
        }
    }

    @Test
    void q8ElementAndDotBoundsHold() {
        qt().withExamples(60).forAll(integers().between(1, 6), integers().between(1, 40), longs().all())
                .checkAssert((rows, groups, seed) -> {
                    Random rnd = new Random(seed);
                    int cols = groups * Q8Matrix.GROUP;
                    float[] w = weights(rnd, rows, cols, Q8Matrix.GROUP);
                    Q8Matrix q = Q8Matrix.quantize(WeightMatrix.ofFloats(w, rows, cols));
                    checkBounds(q, w, Q8Matrix.GROUP, 127, rnd);
                });
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void int4ElementAndDotBoundsHold(int groupSize) {
        qt().withExamples(40).forAll(integers().between(1, 6), integers().between(1, 12), longs().all())
                .checkAssert((rows, groups, seed) -> {
                    Random rnd = new Random(seed);
                    int cols = groups * groupSize;
                    float[] w = weights(rnd, rows, cols, groupSize);
                    Int4Matrix q = Int4Matrix.quantize(WeightMatrix.ofFloats(w, rows, cols), groupSize);
                    assertThat(q.groupSize()).isEqualTo(groupSize);
                    checkBounds(q, w, groupSize, 7, rnd);
                });
    }

    /**
     * A group of {@code n} weights at {@code w[from..]} built to sit where the bound's derivation has its edges:
     * codes at half steps of an exact binary16 scale (the error is exactly {@code s/2}); a largest magnitude just
     * above, or exactly at, a binary16 rounding midpoint of its scale, so the stored scale is rounded down and the
     * largest code clamps; scales at the top of binary16 (rounded down to 65504); binary16-subnormal scales, with the
     * largest magnitude negative where INT4's code -8 is reached; float-subnormal weights (the scale rounds to 0); one
     * outlier a million times the rest; all zero; and Gaussian weights of any magnitude.
     */
    private static void adversarialGroup(Random rnd, float[] w, int from, int n, int qmax, int kind) {
        float sign = rnd.nextBoolean() ? 1f : -1f;
        int at = from + rnd.nextInt(n);
        switch (kind) {
            case 0 -> {
                // An exact binary16 scale h (normal or subnormal): qmax·h and (k + 1/2)·h are exact floats.
                float h = Float.float16ToFloat((short) (1 + rnd.nextInt(0x7BFF)));
                for (int i = from; i < from + n; i++) {
                    w[i] = (rnd.nextInt(2 * qmax) - qmax + 0.5f) * h;
                }
                w[at] = sign * qmax * h;
            }
            case 1, 2 -> {
                // max/qmax just above (or at) the midpoint between binary16 neighbours h and h + ulp.
                short bits = (short) (0x0400 + rnd.nextInt(0x7BFF - 0x0400));
                float h = Float.float16ToFloat(bits);
                float mid = (h + Float.float16ToFloat((short) (bits + 1))) / 2;
                float s = kind == 1 ? h + (mid - h) * rnd.nextFloat() : mid;
                for (int i = from; i < from + n; i++) {
                    w[i] = (float) (rnd.nextDouble() * 2 - 1) * qmax * s;
                }
                w[at] = sign * qmax * s;
            }
            case 3 -> {
                // The largest scale binary16 holds: max/qmax in [65504, 65520) rounds down to 65504.
                float m = qmax * (65504f + 15.99f * rnd.nextFloat());
                for (int i = from; i < from + n; i++) {
                    w[i] = (float) (rnd.nextDouble() * 2 - 1) * m;
                }
                w[at] = sign * m;
            }
            case 4 -> {
                // A binary16-subnormal scale k·2^-24 (k < 1024) and a largest magnitude up to half a step above it,
                // which rounds the scale down: for INT4 a negative maximum then reaches code -8.
                int k = 1 + rnd.nextInt(rnd.nextBoolean() ? 4 : 1023);
                float m = (float) (qmax * (k + 0.49 * rnd.nextDouble()) * 0x1p-24);
                for (int i = from; i < from + n; i++) {
                    w[i] = (float) (rnd.nextDouble() * 2 - 1) * m;
                }
                w[at] = sign * m;
            }
            case 5 -> {
                for (int i = from; i < from + n; i++) {
                    w[i] = (rnd.nextInt(2001) - 1000) * Float.MIN_VALUE;
                }
            }
            case 6 -> {
                for (int i = from; i < from + n; i++) {
                    w[i] = (float) (rnd.nextGaussian() * 1e-3);
                }
                w[at] = sign * 1000f;
            }
            case 7 -> Arrays.fill(w, from, from + n, 0f);
            default -> {
                double magnitude = Math.scalb(1.0, rnd.nextInt(41) - 30);
                for (int i = from; i < from + n; i++) {
                    w[i] = (float) (rnd.nextGaussian() * magnitude);
                }
            }
        }
    }

    /**
     * The documented per-weight bound, {@code (s/2)(1 + 2^-11) + qmax·2^-25} with {@code s = max|w_g| / qmax} in
     * float64, holds for every weight of adversarial groups, up to the documented float rounding (relative
     * {@code 2^-23}; the scale's float quotient rounded again to binary16 adds at most {@code s·2^-25}), and the
     * dot-product bound {@code Σ|x_i|·bound_i} up to float accumulation, for Q8 and each INT4 group size.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 32, 64, 128})
    void elementAndDotBoundsHoldOnAdversarialGroups(int int4Group) {
        int group = int4Group == 0 ? Q8Matrix.GROUP : int4Group;
        int qmax = int4Group == 0 ? 127 : 7;
        qt().withExamples(200).forAll(integers().between(1, 3), integers().between(1, 4), longs().all())
                .checkAssert((rows, groups, seed) -> {
                    Random rnd = new Random(seed);
                    int cols = groups * group;
                    float[] w = new float[rows * cols];
                    for (int g = 0; g < rows * groups; g++) {
                        adversarialGroup(rnd, w, g * group, group, qmax, rnd.nextInt(9));
                    }
                    WeightMatrix src = WeightMatrix.ofFloats(w, rows, cols);
                    WeightMatrix q = int4Group == 0 ? Q8Matrix.quantize(src) : Int4Matrix.quantize(src, int4Group);
                    for (int r = 0; r < rows; r++) {
                        float[] hat = TestData.row(q, r);
                        float[] x = TestData.gaussian(rnd, cols, 1.0);
                        double allowed = 0;
                        for (int g = 0; g < groups; g++) {
                            double maxAbs = 0;
                            for (int j = g * group; j < (g + 1) * group; j++) {
                                maxAbs = Math.max(maxAbs, Math.abs((double) w[r * cols + j]));
                            }
                            double b = bound(maxAbs, qmax) * (1 + 0x1p-22);
                            for (int j = g * group; j < (g + 1) * group; j++) {
                                double err = Math.abs(w[r * cols + j] - (double) hat[j]);
                                assertThat(err).as("row %d col %d: w=%s ŵ=%s", r, j, w[r * cols + j], hat[j])
                                        .isLessThanOrEqualTo(b);
                                allowed += Math.abs(x[j]) * b;
                            }
                        }
                        allowed += 1e-5 * TestData.absDot(hat, 0, x, cols) + Double.MIN_NORMAL;
                        double err = Math.abs(q.dot(r, x) - TestData.refDot(w, r * cols, x, cols));
                        assertThat(err).as("dot of row %d", r).isLessThanOrEqualTo(allowed);
                    }
                });
    }

    /**
     * {@code dotRows} over a random sub-range (odd starts and lengths included, so row pairs and the single-row
     * tail both run) gives {@code dot}'s bits for every row, leaves the other outputs alone, and is within float
     * accumulation error of the naive dot of the dequantized row computed in double.
     */
    private static void checkDotRows(WeightMatrix q, Random rnd) {
        int rows = q.rows();
        int cols = q.cols();
        float[] x = TestData.gaussian(rnd, cols + rnd.nextInt(3), 1.0);
        int from = rnd.nextInt(rows);
        int to = from + 1 + rnd.nextInt(rows - from);
        float[] out = new float[rows];
        Arrays.fill(out, Float.NaN);
        q.dotRows(from, to, x, out);
        for (int r = 0; r < rows; r++) {
            if (r < from || r >= to) {
                assertThat(out[r]).as("row %d outside [%d, %d)", r, from, to).isNaN();
                continue;
            }
            assertThat(Float.floatToRawIntBits(out[r])).as("row %d of [%d, %d)", r, from, to)
                    .isEqualTo(Float.floatToRawIntBits(q.dot(r, x)));
            float[] hat = TestData.row(q, r);
            double err = Math.abs(out[r] - TestData.refDot(hat, 0, x, cols));
            assertThat(err).as("row %d against the dequantized row", r)
                    .isLessThanOrEqualTo(1e-5 * TestData.absDot(hat, 0, x, cols) + Double.MIN_NORMAL);
        }
    }

    @Test
    void q8DotRowsMatchDotAndTheDequantizedRow() {
        qt().withExamples(60).forAll(integers().between(1, 9), integers().between(1, 24), longs().all())
                .checkAssert((rows, groups, seed) -> {
                    Random rnd = new Random(seed);
                    int cols = groups * Q8Matrix.GROUP;
                    float[] w = weights(rnd, rows, cols, Q8Matrix.GROUP);
                    checkDotRows(Q8Matrix.quantize(WeightMatrix.ofFloats(w, rows, cols)), rnd);
                });
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void int4DotRowsMatchDotAndTheDequantizedRow(int groupSize) {
        qt().withExamples(60).forAll(integers().between(1, 9), integers().between(1, 12), longs().all())
                .checkAssert((rows, groups, seed) -> {
                    Random rnd = new Random(seed);
                    int cols = groups * groupSize;
                    float[] w = weights(rnd, rows, cols, groupSize);
                    checkDotRows(Int4Matrix.quantize(WeightMatrix.ofFloats(w, rows, cols), groupSize), rnd);
                });
    }

    @Test
    void dotRowsChecksItsArguments() {
        for (WeightMatrix q : new WeightMatrix[] {Q8Matrix.quantize(WeightMatrix.ofFloats(new float[3 * 64], 3, 64)),
                Int4Matrix.quantize(WeightMatrix.ofFloats(new float[3 * 64], 3, 64), 64)}) {
            assertThatThrownBy(() -> q.dotRows(0, 4, new float[64], new float[4]))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> q.dotRows(0, 3, new float[63], new float[3]))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> q.dotRows(0, 3, new float[64], new float[2]))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void q8ReproducesValuesOnItsGridExactly() {
        // Codes -127..127 times 0.25: the max is 31.75, so the scale is 0.25, exact in binary16.
        float[] w = new float[2 * 256];
        for (int i = 0; i < w.length; i++) {
            w[i] = ((i % 255) - 127) * 0.25f;
        }
        for (int g = 0; g < w.length / 32; g++) {
            w[g * 32] = 31.75f; // every group reaches the largest code
        }
        Q8Matrix q = Q8Matrix.quantize(WeightMatrix.ofFloats(w, 2, 256));
        assertThat(q.scale(1, 3)).isEqualTo(0.25f);
        for (int r = 0; r < 2; r++) {
            assertThat(TestData.row(q, r)).containsExactly(Arrays.copyOfRange(w, r * 256, (r + 1) * 256));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void int4ReproducesValuesOnItsGridExactly(int groupSize) {
        float[] w = new float[3 * 256];
        for (int i = 0; i < w.length; i++) {
            w[i] = ((i * 7 % 15) - 7) * 0.5f; // codes -7..7, scale 0.5
        }
        for (int g = 0; g < w.length / groupSize; g++) {
            w[g * groupSize + 1] = -3.5f; // every group reaches the largest magnitude
        }
        Int4Matrix q = Int4Matrix.quantize(WeightMatrix.ofFloats(w, 3, 256), groupSize);
        assertThat(q.scale(2, 1)).isEqualTo(0.5f);
        float[] ones = new float[256];
        Arrays.fill(ones, 1f);
        for (int r = 0; r < 3; r++) {
            float[] expected = Arrays.copyOfRange(w, r * 256, (r + 1) * 256);
            assertThat(TestData.row(q, r)).containsExactly(expected);
            for (int c = 0; c < 256; c++) {
                assertThat(q.get(r, c)).isEqualTo(expected[c]);
            }
            // Small integers times 0.5: the dot is exact in any order.
            assertThat(q.dot(r, ones)).isEqualTo((float) TestData.refDot(expected, 0, ones, 256));
        }
    }

    @Test
    void allZeroGroupsAreExact() {
        float[] w = new float[4 * 128];
        w[200] = 1f; // one non-zero group in row 1; the zero groups beside it must stay exact too
        for (WeightMatrix q : new WeightMatrix[] {Q8Matrix.quantize(WeightMatrix.ofFloats(w, 4, 128)),
                Int4Matrix.quantize(WeightMatrix.ofFloats(w, 4, 128), 32)}) {
            float[] x = TestData.gaussian(new Random(3), 128, 1.0);
            for (int r = 0; r < 4; r++) {
                if (r != 1) {
                    assertThat(TestData.row(q, r)).containsOnly(0f);
                    assertThat(q.dot(r, x)).isZero();
                    assertThat(q.get(r, 7)).isZero();
                }
            }
            float[] row1 = TestData.row(q, 1);
            assertThat(row1[72]).isCloseTo(1f, offset(1e-3f));
            row1[72] = 0f;
            assertThat(row1).containsOnly(0f);
        }
    }

    @Test
    void anOutlierOnlyCoarsensItsOwnGroup() {
        Random rnd = new Random(11);
        float[] w = TestData.gaussian(rnd, 128, 0.01);
        w[5] = 1000f;
        for (WeightMatrix q : new WeightMatrix[] {Q8Matrix.quantize(WeightMatrix.ofFloats(w, 1, 128)),
                Int4Matrix.quantize(WeightMatrix.ofFloats(w, 1, 128), 32)}) {
            float[] hat = TestData.row(q, 0);
            assertThat(hat[5]).isCloseTo(1000f, offset(0.5f));
            for (int j = 0; j < 32; j++) {
                if (j != 5) {
                    assertThat(hat[j]).as("swamped by the outlier").isZero();
                }
            }
            for (int j = 32; j < 128; j++) {
                // Other groups keep their own fine scale (max about 0.04 here).
                assertThat(Math.abs(hat[j] - w[j])).isLessThan(0.01f);
            }
        }
    }

    @Test
    void groupSizesAreValidated() {
        WeightMatrix w48 = WeightMatrix.ofFloats(new float[2 * 48], 2, 48);
        WeightMatrix w96 = WeightMatrix.ofFloats(new float[2 * 96], 2, 96);
        assertThatThrownBy(() -> Q8Matrix.quantize(w48)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("48");
        assertThat(Q8Matrix.quantize(w96).cols()).isEqualTo(96);
        assertThatThrownBy(() -> Int4Matrix.quantize(w96, 64)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("96");
        assertThatThrownBy(() -> Int4Matrix.quantize(w96, 48)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Int4Matrix.quantize(w96, 16)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Int4Matrix.quantize(w96, 32).cols()).isEqualTo(96);
    }

    @Test
    void unrepresentableWeightsAreRejected() {
        float[] w = new float[64];
        w[3] = Float.NaN;
        assertThatThrownBy(() -> Q8Matrix.quantize(WeightMatrix.ofFloats(w, 1, 64)))
                .isInstanceOf(IllegalArgumentException.class);
        w[3] = Float.POSITIVE_INFINITY;
        assertThatThrownBy(() -> Int4Matrix.quantize(WeightMatrix.ofFloats(w, 1, 64), 32))
                .isInstanceOf(IllegalArgumentException.class);
        w[3] = 1e7f; // scale 1e7/127 overflows binary16
        assertThatThrownBy(() -> Q8Matrix.quantize(WeightMatrix.ofFloats(w, 1, 64)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("binary16");
    }

    @Test
    void formatsAndSizes() {
        WeightMatrix src = WeightMatrix.ofFloats(new float[8 * 256], 8, 256);
        Q8Matrix q8 = Q8Matrix.quantize(src);
        assertThat(q8.format()).isEqualTo("Q8_32");
        assertThat(q8.bytes()).isEqualTo(8 * 256 + 8 * 8 * 2);
        assertThat(Int4Matrix.quantize(src, 32).format()).isEqualTo("INT4_G32");
        assertThat(Int4Matrix.quantize(src, 64).format()).isEqualTo("INT4_G64");
        Int4Matrix q4 = Int4Matrix.quantize(src, 128);
        assertThat(q4.format()).isEqualTo("INT4_G128");
        assertThat(q4.bytes()).isEqualTo(8 * 128 + 8 * 2 * 2);
        assertThat(q4.rows()).isEqualTo(8);
    }

    @Test
    void quantizesAnyFormatAndIntoAGivenArena() {
        Random rnd = new Random(5);
        short[] bits = new short[4 * 64];
        float[] w = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = Float.floatToFloat16((float) rnd.nextGaussian());
            w[i] = TestData.decodeF16(bits[i]);
        }
        WeightMatrix f16 = WeightMatrix.of(DType.F16, TestData.shortSegment(bits), 4, 64);
        try (Arena arena = Arena.ofConfined()) {
            for (Function<WeightMatrix, WeightMatrix> quantizer : List.<Function<WeightMatrix, WeightMatrix>>of(
                    m -> Q8Matrix.quantize(m, arena), m -> Int4Matrix.quantize(m, 64, arena))) {
                WeightMatrix q = quantizer.apply(f16);
                checkBounds(q, w, q instanceof Q8Matrix ? 32 : 64, q instanceof Q8Matrix ? 127 : 7, rnd);
            }
        }
    }
}
