package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Int4BlockMatrixTest {
    /** Row counts around the block size (16 or 32 rows): partial last blocks, a single row, several blocks. */
    private static final int[] ROWS = {1, 7, 16, 31, 32, 33, 64, 70, 100};

    private static float[] weights(Random rnd, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            // Row scales spread over decades, so groups differ in scale.
            w[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(12) - 6));
        }
        return w;
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void holdsInt4MatrixCodesAndScales(int group) {
        Random rnd = new Random(group);
        for (int rows : ROWS) {
            int cols = 2 * group;
            WeightMatrix src = WeightMatrix.ofFloats(weights(rnd, rows * cols), rows, cols);
            Int4Matrix plain = Int4Matrix.quantize(src, group);
            Int4BlockMatrix blocked = Int4BlockMatrix.quantize(src, group);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                blocked.row(r, row);
                for (int c = 0; c < cols; c++) {
                    assertThat(blocked.get(r, c)).as("rows=%d r=%d c=%d", rows, r, c).isEqualTo(plain.get(r, c));
                    assertThat(row[c]).isEqualTo(plain.get(r, c));
                }
                for (int g = 0; g < cols / group; g++) {
                    assertThat(blocked.scale(r, g)).isEqualTo(plain.scale(r, g));
                }
            }
            assertThat(blocked.format()).isEqualTo("INT4_G" + group + "_I8");
            long padded = Int4BlockMatrix.paddedRows(rows);
            assertThat(padded % Int4BlockMatrix.R).isZero();
            assertThat(padded).isBetween((long) rows, (long) rows + Int4BlockMatrix.R - 1);
            assertThat(blocked.bytes()).isEqualTo(padded * cols / 2 + 2 * padded * (cols / group));
        }
    }

    /**
     * The documented arithmetic restated: activations rounded (ties to even) to {@code x · 127 / max|x_g|} (float
     * products, as with an unbounded exponent range), integer group sums, then one fused multiply-add per group by
     * {@code s_g · (max|x_g| / 127)}.
     */
    private static float reference(Int4BlockMatrix m, int r, float[] x) {
        int group = m.groupSize();
        float f = 0f;
        for (int g = 0; g < m.cols() / group; g++) {
            float max = 0f;
            for (int c = g * group; c < (g + 1) * group; c++) {
                max = Math.max(max, Math.abs(x[c]));
            }
            float inverse = max > 0f ? 127f / max : 0f;
            // Where 127 / max overflows, the products as with an unbounded exponent: both sides scaled by 2^64.
            float pre = 1f;
            if (inverse == Float.POSITIVE_INFINITY) {
                pre = 0x1p64f;
                inverse = 127f / (max * pre);
            }
            long sum = 0;
            for (int c = g * group; c < (g + 1) * group; c++) {
                long a = (long) Math.max(-127, Math.min(127, Math.rint(x[c] * pre * inverse)));
                long q = Math.round(m.get(r, c) / m.scale(r, g));
                sum += q * a;
            }
            f = Math.fma((float) sum, m.scale(r, g) * (max / 127f), f);
        }
        return f;
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void everyPathComputesTheDocumentedArithmeticBitForBit(int group) {
        Random rnd = new Random(100 + group);
        for (int rows : ROWS) {
            int cols = 3 * group;
            WeightMatrix src = WeightMatrix.ofFloats(weights(rnd, rows * cols), rows, cols);
            Int4BlockMatrix m = Int4BlockMatrix.quantize(src, group);
            float[] x = weights(rnd, cols);
            float[] all = new float[rows];
            m.dotRows(0, rows, x, all);
            for (int r = 0; r < rows; r++) {
                float expected = reference(m, r, x);
                assertThat(Float.floatToRawIntBits(all[r])).as("rows=%d r=%d", rows, r)
                        .isEqualTo(Float.floatToRawIntBits(expected));
                assertThat(Float.floatToRawIntBits(m.dot(r, x))).isEqualTo(Float.floatToRawIntBits(expected));
            }
            // Ranges that start and end inside blocks, as an uneven split would give.
            for (int k = 0; k < 5; k++) {
                int from = rnd.nextInt(rows);
                int to = from + 1 + rnd.nextInt(rows - from);
                float[] part = new float[rows];
                m.dotRows(from, to, x, part);
                for (int r = 0; r < rows; r++) {
                    assertThat(part[r]).isEqualTo(r >= from && r < to ? all[r] : 0f);
                }
            }
        }
    }

    /**
     * Extreme codes and activations: stored codes {@code q + 8 = 15} times activation codes 127 over a window sum to
     * ±60960 in a 16-bit lane, past its range, before the offset {@code 8 Σa} is taken off; codes of -8 times ±127
     * on every column of a lane's parity reach the bound, {@code 32 · 8 · 127 = 32512}. The lanes must still give
     * the exact {@code Σ q·a}, so every row equals the reference: with groups of 64 (one window) and 128 (two), and
     * activations of one sign or alternating by column (the two lanes of a row at opposite extremes).
     */
    @ParameterizedTest
    @ValueSource(ints = {64, 128})
    void extremeCodesAndActivationsSumExactly(int group) {
        int rows = 40;
        int cols = 256;
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                // Rows of +7 and -8 codes (a positive or negative maximum per group), and rows mixing them.
                float max = 1 + r % 3;
                w[r * cols + c] = switch (r % 4) {
                    case 0 -> max;
                    case 1 -> -max;
                    case 2 -> c % 2 == 0 ? max : -max;
                    default -> c % 128 < 64 ? -max : max;
                };
            }
        }
        Int4BlockMatrix m = Int4BlockMatrix.quantize(WeightMatrix.ofFloats(w, rows, cols), group);
        for (int pattern = 0; pattern < 4; pattern++) {
            float[] x = new float[cols];
            for (int c = 0; c < cols; c++) {
                float sign = pattern < 2 ? (pattern == 0 ? 1 : -1) : (c % 2 == pattern % 2 ? 1 : -1);
                x[c] = sign * 3.5f;
            }
            float[] out = new float[rows];
            m.dotRows(0, rows, x, out);
            for (int r = 0; r < rows; r++) {
                assertThat(Float.floatToRawIntBits(out[r])).as("pattern %d row %d", pattern, r)
                        .isEqualTo(Float.floatToRawIntBits(reference(m, r, x)));
            }
        }
    }

    /**
     * Every finite non-negative binary16 value as a group scale, subnormals and zero included (each row's group
     * {@code g} holds {@code 7 h} in its first column, so its scale is exactly {@code h}): the products, which decode
     * a block's scales with integer vector operations, equal the reference, which reads each scale with
     * {@code Float.float16ToFloat}, bit for bit.
     */
    @Test
    void everyFiniteScaleDecodesExactly() {
        int group = 32;
        int groups = 32;
        int cols = group * groups;
        int rows = 0x7C00 / groups; // half bit patterns 0 .. 0x7BFF: zero, subnormals, normals up to 65504
        float[] w = new float[rows * cols];
        Random rnd = new Random(11);
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                float h = Float.float16ToFloat((short) (r * groups + g));
                int at = r * cols + g * group;
                w[at] = 7 * h;
                for (int c = 1; c < group; c++) {
                    w[at + c] = (rnd.nextInt(15) - 7) * h;
                }
            }
        }
        Int4BlockMatrix m = Int4BlockMatrix.quantize(WeightMatrix.ofFloats(w, rows, cols), group);
        float[] x = weights(rnd, cols);
        float[] out = new float[rows];
        m.dotRows(0, rows, x, out);
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                assertThat(m.scale(r, g)).isEqualTo(Float.float16ToFloat((short) (r * groups + g)));
            }
            assertThat(Float.floatToRawIntBits(out[r])).as("row %d", r)
                    .isEqualTo(Float.floatToRawIntBits(reference(m, r, x)));
        }
    }

    @Test
    void activationRoundingStaysWithinTheDocumentedBound() {
        Random rnd = new Random(7);
        int rows = 40;
        int cols = 256;
        WeightMatrix src = WeightMatrix.ofFloats(weights(rnd, rows * cols), rows, cols);
        Int4BlockMatrix m = Int4BlockMatrix.quantize(src, 64);
        for (int trial = 0; trial < 20; trial++) {
            float[] x = weights(rnd, cols);
            if (trial % 5 == 0) {
                x[rnd.nextInt(cols)] *= 1000; // one outlier coarsens its group's activation scale
            }
            float[] out = new float[rows];
            m.dotRows(0, rows, x, out);
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double bound = 0;
                double magnitude = 0;
                for (int g = 0; g < cols / 64; g++) {
                    double max = 0;
                    for (int c = g * 64; c < (g + 1) * 64; c++) {
                        max = Math.max(max, Math.abs(x[c]));
                    }
                    for (int c = g * 64; c < (g + 1) * 64; c++) {
                        double w = m.get(r, c);
                        exact += w * x[c];
                        bound += Math.abs(w) * (max / 127) / 2;
                        magnitude += Math.abs(w * x[c]);
                    }
                }
                // Plus float rounding of the per-group scaling and accumulation.
                assertThat(Math.abs(out[r] - exact)).as("trial %d row %d", trial, r)
                        .isLessThanOrEqualTo(bound * (1 + 1e-6) + 1e-6 * magnitude);
            }
        }
    }

    /**
     * Groups of activations whose largest magnitude is below {@code 127 / Float.MAX_VALUE} (about 3.7e-37), where
     * {@code 127 / max} overflows float, down to subnormals, beside ordinary groups: every path computes the same
     * bits, and the documented bound holds, with underflow's absolute error where {@code t_g} is subnormal. (An
     * infinite inverse gave every nonzero activation the code ±127, an error of up to max|x_g| per weight, and a zero
     * the code of NaN, which the vector quantization summed into a window offset of 0 while the codes said
     * otherwise, so {@code dot} and {@code dotRows} disagreed.)
     */
    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void tinyActivationsKeepTheBoundAndEveryPathAgrees(int group) {
        qt().withExamples(40).forAll(integers().between(0, 5), longs().all()).checkAssert((kind, seed) -> {
            Random rnd = new Random(seed);
            int rows = 40;
            int cols = 4 * group;
            Int4BlockMatrix m = Int4BlockMatrix.quantize(WeightMatrix.ofFloats(weights(rnd, rows * cols), rows,
                    cols), group);
            float[] x = weights(rnd, cols);
            for (int g = 0; g < 3; g++) {
                // Largest magnitudes from just above the overflow (2^-121) to subnormal, far below it.
                double magnitude = switch ((kind + g) % 6) {
                    case 0 -> 0x1p-121;
                    case 1 -> 0x1p-122;
                    case 2 -> 0x1p-126;
                    case 3 -> 0x1p-135;
                    case 4 -> 0x1p-145;
                    default -> 0x1p-130;
                };
                for (int c = g * group; c < (g + 1) * group; c++) {
                    x[c] = c % 5 == 0 ? 0f : (float) (rnd.nextGaussian() * magnitude);
                }
            }
            Int4BlockMatrix.Activations scalar = new Int4BlockMatrix.Activations();
            Int4BlockMatrix.Activations vectors = new Int4BlockMatrix.Activations();
            m.quantize(x, scalar, false);
            m.quantize(x, vectors, true);
            assertThat(vectors.a).isEqualTo(scalar.a);
            assertThat(vectors.pairs).isEqualTo(scalar.pairs);
            assertThat(vectors.offsets).isEqualTo(scalar.offsets);
            float[] out = new float[rows];
            m.dotRows(0, rows, x, out);
            for (int r = 0; r < rows; r++) {
                assertThat(Float.floatToRawIntBits(m.dot(r, x))).as("row %d", r)
                        .isEqualTo(Float.floatToRawIntBits(out[r]));
                assertThat(Float.floatToRawIntBits(reference(m, r, x))).isEqualTo(Float.floatToRawIntBits(out[r]));
                double exact = 0;
                double bound = 0;
                double magnitude = 0;
                for (int g = 0; g < cols / group; g++) {
                    double max = 0;
                    double absW = 0;
                    for (int c = g * group; c < (g + 1) * group; c++) {
                        max = Math.max(max, Math.abs(x[c]));
                        absW += Math.abs(m.get(r, c));
                    }
                    for (int c = g * group; c < (g + 1) * group; c++) {
                        double w = m.get(r, c);
                        exact += w * x[c];
                        bound += Math.abs(w) * (max / 127) / 2;
                        magnitude += Math.abs(w * x[c]);
                    }
                    // Underflow where t_g is subnormal: 2^-150 (127 Σ|ŵ| + |Σ q a| + 1) per group, |Σ q a| at
                    // most 8 · 127 per column.
                    if (max / 127 < Float.MIN_NORMAL) {
                        bound += 0x1p-150 * (127 * absW + 8 * 127 * group + 1);
                    }
                }
                assertThat(Math.abs(out[r] - exact)).as("kind %d row %d", kind, r)
                        .isLessThanOrEqualTo(bound * (1 + 1e-6) + 1e-6 * magnitude);
            }
        });
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void vectorQuantizationGivesTheScalarReferencesValues(int group) {
        Random rnd = new Random(group);
        int cols = 4 * 128;
        Int4BlockMatrix m = Int4BlockMatrix.quantize(WeightMatrix.ofFloats(weights(rnd, 32 * cols), 32, cols), group);
        for (int trial = 0; trial < 300; trial++) {
            float[] x = weights(rnd, cols);
            int kind = trial % 6;
            int at = rnd.nextInt(cols);
            int g0 = at / group * group;
            switch (kind) {
                case 1 -> java.util.Arrays.fill(x, g0, g0 + group, 0f);
                case 2 -> x[at] = rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                case 3 -> x[at] = Float.NaN;
                case 4 -> {
                    // max |x| = 127: x itself is scaled by one, so halves are ties (to even) and the extremes clamp.
                    for (int i = g0; i < g0 + group; i++) {
                        x[i] = (rnd.nextInt(255) - 127) + (rnd.nextBoolean() ? 0.5f : 0f);
                    }
                    x[g0 + rnd.nextInt(group)] = rnd.nextBoolean() ? 127f : -127f;
                }
                case 5 -> x[at] = Float.MIN_VALUE;
                default -> { }
            }
            Int4BlockMatrix.Activations scalar = new Int4BlockMatrix.Activations();
            Int4BlockMatrix.Activations vectors = new Int4BlockMatrix.Activations();
            m.quantize(x, scalar, false);
            m.quantize(x, vectors, true);
            assertThat(vectors.a).as("codes, trial %d", trial).isEqualTo(scalar.a);
            assertThat(vectors.pairs).as("pairs, trial %d", trial).isEqualTo(scalar.pairs);
            assertThat(vectors.offsets).as("offsets, trial %d", trial).isEqualTo(scalar.offsets);
            for (int g = 0; g < cols / group; g++) {
                assertThat(Float.floatToIntBits(vectors.t[g])).as("scale %d, trial %d", g, trial)
                        .isEqualTo(Float.floatToIntBits(scalar.t[g]));
            }
        }
    }

    @Test
    void zeroAndNonFiniteActivations() {
        Random rnd = new Random(8);
        WeightMatrix src = WeightMatrix.ofFloats(weights(rnd, 40 * 128), 40, 128);
        Int4BlockMatrix m = Int4BlockMatrix.quantize(src, 64);
        float[] out = new float[40];
        m.dotRows(0, 40, new float[128], out);
        assertThat(out).containsOnly(0f);
        float[] x = weights(rnd, 128);
        x[100] = Float.POSITIVE_INFINITY;
        m.dotRows(0, 40, x, out);
        for (float v : out) {
            assertThat(v).isNaN();
        }
        x[100] = Float.NaN;
        assertThat(m.dot(3, x)).isNaN();
    }

    @Test
    void theSameValuesAfterOtherActivationsGiveTheSameResult() {
        // The per-thread activation cache must notice changed values, not just a different array.
        Random rnd = new Random(9);
        WeightMatrix src = WeightMatrix.ofFloats(weights(rnd, 64 * 128), 64, 128);
        Int4BlockMatrix m = Int4BlockMatrix.quantize(src, 64);
        float[] x = weights(rnd, 128);
        float[] first = new float[64];
        m.dotRows(0, 64, x, first);
        float before = x[5];
        x[5] = before * 3 + 1;
        float[] changed = new float[64];
        m.dotRows(0, 64, x, changed);
        assertThat(changed).isNotEqualTo(first);
        x[5] = before;
        float[] again = new float[64];
        m.dotRows(0, 64, x, again);
        assertThat(again).isEqualTo(first);
    }

    /**
     * The per-thread activation cache is keyed by the values and the group size: matrices of the same width but other
     * group sizes, called in turn with one vector, and a zero vector after another, each get their own products,
     * those of a thread that never saw another vector (a fresh thread's cache is empty).
     */
    @Test
    void theActivationCacheTellsGroupSizesAndVectorsApart() throws Exception {
        Random rnd = new Random(10);
        int rows = 40;
        int cols = 256;
        WeightMatrix src = WeightMatrix.ofFloats(weights(rnd, rows * cols), rows, cols);
        Int4BlockMatrix[] ms = {Int4BlockMatrix.quantize(src, 32), Int4BlockMatrix.quantize(src, 64),
            Int4BlockMatrix.quantize(src, 128)};
        float[] x = weights(rnd, cols);
        float[] zero = new float[cols];
        float[][][] fresh = new float[ms.length][2][];
        Thread t = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < ms.length; i++) {
                fresh[i][0] = new float[rows];
                ms[i].dotRows(0, rows, x, fresh[i][0]);
            }
        });
        t.join();
        Thread z = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < ms.length; i++) {
                fresh[i][1] = new float[rows];
                ms[i].dotRows(0, rows, zero, fresh[i][1]);
            }
        });
        z.join();
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < ms.length; i++) {
                for (int v = 0; v < 2; v++) {
                    float[] out = new float[rows];
                    ms[i].dotRows(0, rows, v == 0 ? x : zero, out);
                    assertThat(out).as("G%d, %s vector", ms[i].groupSize(), v == 0 ? "x" : "zero")
                            .isEqualTo(fresh[i][v]);
                    assertThat(ms[i].dot(rows - 1, v == 0 ? x : zero)).isEqualTo(fresh[i][v][rows - 1]);
                }
            }
        }
        assertThat(fresh[1][1]).containsOnly(0f);
        assertThat(fresh[0][0]).isNotEqualTo(fresh[1][0]);
        assertThat(ms[2].rows()).isEqualTo(rows);
        assertThat(ms[2].cols()).isEqualTo(cols);
    }

    @Test
    void validatesGroupsAndArguments() {
        WeightMatrix src = WeightMatrix.ofFloats(new float[4 * 96], 4, 96);
        assertThatThrownBy(() -> Int4BlockMatrix.quantize(src, 64)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("divisible by 64");
        assertThatThrownBy(() -> Int4BlockMatrix.quantize(src, 48)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32, 64 or 128");
        Int4BlockMatrix m = Int4BlockMatrix.quantize(src, 32);
        assertThatThrownBy(() -> m.dotRows(0, 5, new float[96], new float[5]))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.dot(0, new float[95])).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /**
     * The INT4 codes it lays out in blocks are a scratch copy, which came from an automatic arena: native memory
     * reserved against the direct-memory limit (-Xmx by default) until a collection, so that a large matrix (a
     * 1,050,000 x 2048 output projection's 1.08 GB) failed to quantize under a 1 GB heap though the result itself goes
     * to mapped slabs, and loading a model left its scratch copies behind until the heap's next collection.
     */
    @Test
    void quantizingHoldsNoScratchCopyAgainstTheDirectMemoryLimit() {
        assumeTrue(WeightSlabs.mapsSlabs(), "the result itself would be direct memory");
        WeightMatrix src = WeightMatrix.ofFloats(weights(new Random(9), 256 * 1024), 256, 1024);
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long before = direct.getMemoryUsed();
        Int4BlockMatrix m = Int4BlockMatrix.quantize(src, 64, new WeightSlabs());
        // At most what a collection in between freed of other tests' garbage: nothing of this matrix's 136 KiB.
        assertThat(direct.getMemoryUsed() - before).isLessThanOrEqualTo(0);
        assertThat(m.get(255, 1023)).isEqualTo(Int4Matrix.quantize(src, 64).get(255, 1023));
    }
}
