package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class MatVecTest {

    /** Every format over the same random weights. */
    private static List<WeightMatrix> allFormats(Random rnd, int rows, int cols) {
        float[] w = TestData.gaussian(rnd, rows * cols, 1.0);
        short[] half = new short[w.length];
        short[] brain = new short[w.length];
        for (int i = 0; i < w.length; i++) {
            half[i] = Float.floatToFloat16(w[i]);
            brain[i] = (short) (Float.floatToRawIntBits(w[i]) >>> 16);
        }
        WeightMatrix f32 = WeightMatrix.ofFloats(w, rows, cols);
        return List.of(f32, WeightMatrix.of(DType.F16, TestData.shortSegment(half), rows, cols),
                WeightMatrix.of(DType.BF16, TestData.shortSegment(brain), rows, cols), Q8Matrix.quantize(f32),
                Int4Matrix.quantize(f32, 64));
    }

    // 50x1024 stays below the parallel threshold; 300x1024 and 257x1088 go above it.
    @ParameterizedTest
    @CsvSource({"50, 1024", "1, 64", "300, 1024", "257, 1088"})
    void multiplyEqualsRowByRowDot(int rows, int cols) {
        assertThat((long) rows * cols > MatVec.PARALLEL_THRESHOLD).isEqualTo(rows >= 257);
        Random rnd = new Random(rows * 31L + cols);
        for (WeightMatrix w : allFormats(rnd, rows, cols)) {
            float[] x = TestData.gaussian(rnd, cols, 1.0);
            float[] out = new float[rows + 2];
            out[rows] = 42f;
            MatVec.multiply(w, x, out);
            for (int r = 0; r < rows; r++) {
                assertThat(Float.floatToRawIntBits(out[r])).as("%s row %d", w.format(), r)
                        .isEqualTo(Float.floatToRawIntBits(w.dot(r, x)));
            }
            assertThat(out[rows]).as("beyond rows untouched").isEqualTo(42f);
        }
    }

    @ParameterizedTest
    @CsvSource({"50, 1024", "1, 64", "300, 1024", "257, 1088"})
    void batchMultiplyDotsEachLoadedRowWithEveryVector(int rows, int cols) {
        Random rnd = new Random(rows * 17L + cols);
        for (WeightMatrix w : allFormats(rnd, rows, cols)) {
            float[][] xs = new float[3][];
            float[][] outs = new float[3][rows];
            for (int b = 0; b < 3; b++) {
                xs[b] = TestData.gaussian(rnd, cols, 1.0);
            }
            MatVec.multiply(w, xs, outs);
            boolean floatFormat = !(w instanceof Q8Matrix || w instanceof Int4Matrix);
            for (int r = 0; r < rows; r++) {
                float[] row = TestData.row(w, r);
                for (int b = 0; b < 3; b++) {
                    float expected = MatVec.dot(row, xs[b], cols);
                    assertThat(Float.floatToRawIntBits(outs[b][r])).as("%s row %d vector %d", w.format(), r, b)
                            .isEqualTo(Float.floatToRawIntBits(expected));
                    if (floatFormat) {
                        // Same accumulation order as the format's own dot: identical bits.
                        assertThat(Float.floatToRawIntBits(outs[b][r])).isEqualTo(
                                Float.floatToRawIntBits(w.dot(r, xs[b])));
                    } else {
                        assertThat(outs[b][r]).isCloseTo(w.dot(r, xs[b]),
                                Offset.offset(1e-4f * (float) TestData.absDot(row, 0, xs[b], cols)));
                    }
                }
            }
        }
    }

    @Test
    void multiplyChecksLengths() {
        WeightMatrix w = WeightMatrix.ofFloats(new float[6], 2, 3);
        assertThatThrownBy(() -> MatVec.multiply(w, new float[2], new float[2]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MatVec.multiply(w, new float[3], new float[1]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MatVec.multiply(w, new float[][] {new float[3]}, new float[0][]))
                .isInstanceOf(IllegalArgumentException.class);
        MatVec.multiply(w, new float[0][], new float[0][]); // an empty batch is nothing to do
    }

    @Test
    void dotMatchesNaiveLoop() {
        Random rnd = new Random(1);
        for (int n = 0; n <= 300; n += (n < 70 ? 1 : 23)) {
            float[] a = TestData.gaussian(rnd, n + 5, 1.0);
            float[] b = TestData.gaussian(rnd, n + 9, 1.0);
            double ref = TestData.refDot(a, 0, b, n);
            assertThat((double) MatVec.dot(a, b, n)).as("n=%d", n)
                    .isCloseTo(ref, Offset.offset(1e-6 * TestData.absDot(a, 0, b, n) + 1e-30));
        }
        assertThatThrownBy(() -> MatVec.dot(new float[3], new float[2], 3))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void addAndScaleAddMatchNaiveLoops() {
        Random rnd = new Random(2);
        for (int n : new int[] {0, 1, 7, 8, 15, 16, 17, 64, 100, 1001}) {
            float[] dst = TestData.gaussian(rnd, n, 1.0);
            float[] src = TestData.gaussian(rnd, n + 3, 1.0);
            float s = (float) rnd.nextGaussian();
            float[] added = dst.clone();
            MatVec.add(added, src);
            float[] scaled = dst.clone();
            MatVec.scaleAdd(scaled, src, s);
            for (int i = 0; i < n; i++) {
                assertThat(added[i]).isEqualTo(dst[i] + src[i]);
                assertThat(scaled[i]).isEqualTo(Math.fma(s, src[i], dst[i]));
            }
        }
        assertThatThrownBy(() -> MatVec.add(new float[4], new float[3]))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void sumOfSquaresMatchesNaiveLoop() {
        Random rnd = new Random(3);
        for (int n : new int[] {0, 1, 7, 8, 33, 64, 257, 4096, 10000}) {
            float[] x = TestData.gaussian(rnd, n + 2, 3.0);
            double ref = 0;
            for (int i = 0; i < n; i++) {
                ref += (double) x[i] * x[i];
            }
            assertThat(MatVec.sumOfSquares(x, n)).as("n=%d", n).isCloseTo(ref, Offset.offset(1e-6 * ref));
        }
    }
}
