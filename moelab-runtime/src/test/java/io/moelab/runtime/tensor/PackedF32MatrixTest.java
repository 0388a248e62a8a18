package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The packed layout holds the same values; its products sum each row with one accumulator of {@link Kernels#L}
 * lanes (the plain matrix uses two), checked bit for bit against a scalar restatement of that order and to float
 * rounding against the plain matrix.
 */
class PackedF32MatrixTest {
    @Test
    void productsFollowTheOneAccumulatorOrderAndElementsEqualThePlainMatrix() {
        // Rows in whole groups; columns an even or odd number of vector blocks.
        qt().withExamples(60).forAll(integers().between(1, 6), integers().between(1, 9), integers().between(0, 999))
                .checkAssert((groups, blocks, seed) -> {
                    int rows = groups * PackedF32Matrix.ROWS;
                    int cols = blocks * Kernels.L;
                    Random rnd = new Random(seed);
                    WeightMatrix plain = WeightMatrix.ofFloats(TestData.gaussian(rnd, rows * cols, 1.0), rows, cols);
                    PackedF32Matrix packed = PackedF32Matrix.pack(plain);
                    assertThat(packed.bytes()).isEqualTo(4L * rows * cols);
                    float[] x = TestData.gaussian(rnd, cols, 1.0);
                    float[] out = new float[rows];
                    // A range that starts and ends inside groups.
                    int from = rnd.nextInt(rows);
                    int to = from + rnd.nextInt(rows - from + 1);
                    packed.dotRows(from, to, x, out);
                    float[] row = new float[cols];
                    for (int r = 0; r < rows; r++) {
                        float expected = oneAccumulator(plain, r, x);
                        assertThat(Float.floatToRawIntBits(packed.dot(r, x)))
                                .isEqualTo(Float.floatToRawIntBits(expected));
                        double magnitude = 0;
                        for (int c = 0; c < cols; c++) {
                            magnitude += Math.abs((double) plain.get(r, c) * x[c]);
                        }
                        assertThat((double) packed.dot(r, x)).isCloseTo(plain.dot(r, x),
                                org.assertj.core.data.Offset.offset(1e-6 * magnitude));
                        if (r >= from && r < to) {
                            assertThat(Float.floatToRawIntBits(out[r])).as("row %d of [%d, %d)", r, from, to)
                                    .isEqualTo(Float.floatToRawIntBits(expected));
                        } else {
                            assertThat(out[r]).isZero();
                        }
                        packed.row(r, row);
                        for (int c = 0; c < cols; c++) {
                            assertThat(row[c]).isEqualTo(plain.get(r, c));
                        }
                        int c = rnd.nextInt(cols);
                        assertThat(packed.get(r, c)).isEqualTo(plain.get(r, c));
                    }
                });
    }

    /**
     * Row {@code r} of {@code w} times {@code x} as the packed kernels sum it, in scalars: lane {@code l} accumulates
     * {@code w[r][j L + l] x[j L + l]} by fused multiply-adds in column-block order, then the lanes are halved down
     * to four ({@code p[i] += p[i + width / 2]}) and added as {@code (p0 + p1) + (p2 + p3)}.
     */
    static float oneAccumulator(WeightMatrix w, int r, float[] x) {
        int lanes = Kernels.L;
        float[] p = new float[lanes];
        for (int j = 0; j < w.cols(); j += lanes) {
            for (int l = 0; l < lanes; l++) {
                p[l] = Math.fma(w.get(r, j + l), x[j + l], p[l]);
            }
        }
        for (int width = lanes; width > 4; width /= 2) {
            for (int i = 0; i < width / 2; i++) {
                p[i] += p[i + width / 2];
            }
        }
        return (p[0] + p[1]) + (p[2] + p[3]);
    }

    @Test
    void onlyWholeGroupsAndBlocksPack() {
        assertThat(PackedF32Matrix.fits(16, 4 * Kernels.L)).isTrue();
        assertThat(PackedF32Matrix.fits(12, 4 * Kernels.L)).isFalse();
        assertThat(PackedF32Matrix.fits(16, 4 * Kernels.L + 1)).isFalse();
        WeightMatrix odd = WeightMatrix.ofFloats(new float[12 * Kernels.L], 12, Kernels.L);
        assertThatThrownBy(() -> PackedF32Matrix.pack(odd)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("12x");
    }
}
