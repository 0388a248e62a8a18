package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The packed layout holds the same values and computes F32's products with the same bits. */
class PackedF32MatrixTest {
    @Test
    void productsRowsAndElementsEqualThePlainMatrixBitForBit() {
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
                        float expected = plain.dot(r, x);
                        assertThat(Float.floatToRawIntBits(packed.dot(r, x)))
                                .isEqualTo(Float.floatToRawIntBits(expected));
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
