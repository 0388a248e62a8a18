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

    // 1x64 and 20x1024 run on the caller; the others are split over the product team (rows not a multiple of the
    // chunk's or of four included).
    @ParameterizedTest
    @CsvSource({"50, 1024", "1, 64", "20, 1024", "300, 1024", "257, 1088"})
    void multiplyEqualsRowByRowDot(int rows, int cols) {
        assertThat((long) rows * cols >= ProductTeam.MIN_PARALLEL_WEIGHTS).isEqualTo(rows >= 50);
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
    void offsetDotAndScaleAddEqualTheirWholeArrayFormsOnCopies() {
        Random rnd = new Random(4);
        for (int n : new int[] {0, 1, 15, 16, 64, 65, 130}) {
            float[] a = TestData.gaussian(rnd, n + 40, 1.0);
            float[] b = TestData.gaussian(rnd, n + 40, 1.0);
            int aOff = 7;
            int bOff = 33;
            float[] aCopy = java.util.Arrays.copyOfRange(a, aOff, aOff + n);
            float[] bCopy = java.util.Arrays.copyOfRange(b, bOff, bOff + n);
            assertThat(Float.floatToRawIntBits(MatVec.dot(a, aOff, b, bOff, n))).as("n=%d", n)
                    .isEqualTo(Float.floatToRawIntBits(MatVec.dot(aCopy, bCopy, n)));
            float s = (float) rnd.nextGaussian();
            float[] dst = a.clone();
            MatVec.scaleAdd(dst, aOff, b, bOff, s, n);
            MatVec.scaleAdd(aCopy, bCopy, s);
            for (int i = 0; i < a.length; i++) {
                float expected = i >= aOff && i < aOff + n ? aCopy[i - aOff] : a[i];
                assertThat(dst[i]).as("n=%d i=%d", n, i).isEqualTo(expected);
            }
        }
        assertThatThrownBy(() -> MatVec.dot(new float[8], 5, new float[8], 0, 4))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> MatVec.scaleAdd(new float[8], 0, new float[8], 6, 1f, 4))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void stridedWeightedSumEqualsOneScaleAddPerRowBitForBit() {
        Random rnd = new Random(10);
        // 83 = 64 + 16 + 3 and 48: the one-vector loop after the four-vector one at 16 lanes.
        for (int n : new int[] {1, 15, 16, 48, 64, 65, 83, 130}) {
            for (int count : new int[] {0, 1, 2, 9, 40}) {
                int stride = n + 2 * (count % 3);
                int sOff = 3;
                float[] src = TestData.gaussian(rnd, sOff + Math.max(0, count - 1) * stride + n, 1.0);
                float[] w = TestData.gaussian(rnd, count + 5, 1.0);
                float[] dst = TestData.gaussian(rnd, n + 9, 1.0);
                float[] expected = dst.clone();
                for (int t = 0; t < count; t++) {
                    MatVec.scaleAdd(expected, 4, src, sOff + t * stride, w[5 + t], n);
                }
                MatVec.weightedSumStrided(dst, 4, src, sOff, stride, w, 5, count, n);
                for (int i = 0; i < dst.length; i++) {
                    assertThat(Float.floatToRawIntBits(dst[i])).as("n=%d count=%d i=%d", n, count, i)
                            .isEqualTo(Float.floatToRawIntBits(expected[i]));
                }
            }
        }
        assertThatThrownBy(() -> MatVec.weightedSumStrided(new float[4], 0, new float[4 + 6 + 3], 0, 6, new float[3],
                0, 3, 4)).isInstanceOf(IndexOutOfBoundsException.class);
        // Three rows of 4 from offset 3, every 6: the last ends at 3 + 2 * 6 + 4 = 19 (fits 19, not 18).
        MatVec.weightedSumStrided(new float[4], 0, new float[19], 3, 6, new float[3], 0, 3, 4);
        assertThatThrownBy(() -> MatVec.weightedSumStrided(new float[4], 0, new float[18], 3, 6, new float[3], 0, 3,
                4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> MatVec.weightedSumStrided(new float[4], 0, new float[19], -1, 6, new float[3], 0, 3,
                4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> MatVec.weightedSumStrided(new float[4], 0, new float[19], 3, -1, new float[3], 0, 3,
                4)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void multiplyAllEqualsEachProductAlone() {
        Random rnd = new Random(5);
        WeightMatrix[] ws = new WeightMatrix[3];
        float[][] xs = new float[3][];
        float[][] outs = new float[3][];
        int[][] shapes = {{512, 512}, {130, 512}, {448, 64}};
        for (int i = 0; i < 3; i++) {
            ws[i] = allFormats(rnd, shapes[i][0], shapes[i][1]).get(i == 2 ? 4 : i);
            xs[i] = TestData.gaussian(rnd, shapes[i][1], 1.0);
            outs[i] = new float[shapes[i][0]];
        }
        MatVec.multiplyAll(ws, xs, outs);
        for (int i = 0; i < 3; i++) {
            for (int r = 0; r < ws[i].rows(); r++) {
                assertThat(Float.floatToRawIntBits(outs[i][r])).as("%s product %d row %d", ws[i].format(), i, r)
                        .isEqualTo(Float.floatToRawIntBits(ws[i].dot(r, xs[i])));
            }
        }
        assertThatThrownBy(() -> MatVec.multiplyAll(ws, xs, new float[2][]))
                .isInstanceOf(IllegalArgumentException.class);
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

    @Test
    void siluTimesGivesAnElementTheSameBitsInAVectorAsInTheTailOnceCompiled() {
        // Each element must be the scalar formula's bits, whether it falls in a whole vector or in the tail, also
        // after C2 has compiled the kernel: with the Vector API's EXP, compiled vectors took exp from SVML and
        // differed from the tail's Math.exp (and from the interpreter's) in the last bit for about 1% of inputs.
        int n = Kernels.L + 3;
        Random rnd = new Random(18);
        float[] gate = new float[n];
        float[] up = new float[n];
        float[] out = new float[n];
        for (int round = 0; round < 20_000; round++) {
            for (int i = 0; i < n; i++) {
                gate[i] = (float) (rnd.nextGaussian() * 8);
                up[i] = (float) rnd.nextGaussian();
            }
            System.arraycopy(gate, 0, out, 0, n);
            MatVec.siluTimes(out, up, n);
            for (int i = 0; i < n; i++) {
                float g = gate[i];
                float expected = g / (1 + Kernels.exp(-g)) * up[i];
                if (Float.floatToRawIntBits(out[i]) != Float.floatToRawIntBits(expected)) {
                    assertThat(out[i]).as("round %d, element %d of %d (gate %s)", round, i, n, g).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void siluTimesMatchesTheDoublePrecisionGateWithinFloatRounding() {
        // Whole vectors (Kernels.exp) and a scalar tail; values from deep negative to large positive, zeros.
        int n = 3 * Kernels.L + 5;
        Random rnd = new Random(17);
        float[] gate = new float[n];
        float[] up = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (float) (rnd.nextGaussian() * 6);
            up[i] = (float) rnd.nextGaussian();
        }
        gate[0] = 0f;
        gate[1] = -100f;
        gate[2] = 90f;
        gate[n - 1] = -3.5f;
        float[] out = gate.clone();
        MatVec.siluTimes(out, up, n);
        for (int i = 0; i < n; i++) {
            double g = gate[i];
            double expected = g / (1 + Math.exp(-g)) * up[i];
            assertThat((double) out[i]).as("element %d of %d (gate %s)", i, n, gate[i])
                    .isCloseTo(expected, Offset.offset(4e-7 * Math.abs(expected) + 1e-30));
        }
        assertThat(out[0]).isZero();
        float[] shortUp = new float[n - 1];
        assertThatThrownBy(() -> MatVec.siluTimes(gate.clone(), shortUp, n))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    /**
     * Whole vectors and a scalar tail, after an offset; scores wide enough that most weights underflow to zero. With
     * scale 8 the scaled scores reach several hundred, past exp's float range (about 88): only with the largest
     * subtracted first do they come out finite (a softmax without it passed the cases of scale 0.125 alone).
     */
    @ParameterizedTest
    @CsvSource({"1, 0.125", "7, 0.125", "16, 0.125", "33, 0.125", "100, 0.125", "257, 0.125", "1, 8", "7, 8",
            "33, 8", "257, 8"})
    void softmaxMatchesTheDoublePrecisionOneWithinFloatRounding(int n, float scale) {
        Random rnd = new Random(n);
        int off = 3;
        float[] x = new float[off + n + 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 20);
        }
        float[] out = x.clone();
        MatVec.softmax(out, off, n, scale);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, (double) (x[off + i] * scale));
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[off + i] * scale - max);
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            double expected = Math.exp(x[off + i] * scale - max) / sum;
            assertThat((double) out[off + i]).as("weight %d of %d", i, n)
                    .isCloseTo(expected, Offset.offset(1e-6 * expected + 1e-12));
            total += out[off + i];
        }
        assertThat(total).isCloseTo(1.0, Offset.offset(1e-5));
        // Outside the range nothing moves.
        for (int i = 0; i < off; i++) {
            assertThat(out[i]).isEqualTo(x[i]);
        }
        assertThat(out[off + n]).isEqualTo(x[off + n]);
        assertThat(out[off + n + 1]).isEqualTo(x[off + n + 1]);
    }

    @ParameterizedTest
    @CsvSource({"64, 1", "64, 15", "64, 16", "64, 70", "64, 130", "7, 33", "1, 5", "0, 9", "3, 0"})
    void dotColumnsEqualsTheSequentialFusedSumBitForBit(int m, int n) {
        // Four vectors of positions at a time, single vectors, then scalar positions: each position's bits are those
        // of one fused multiply-add chain over the dimensions in order, whichever path computes it.
        Random rnd = new Random(m * 1000L + n);
        int stride = n + 11;
        int aOff = 2;
        int bOff = 5;
        int oOff = 3;
        float[] a = TestData.gaussian(rnd, aOff + m + 1, 1.0);
        float[] b = TestData.gaussian(rnd, bOff + Math.max(0, m) * stride + 4, 1.0);
        float[] out = new float[oOff + n + 2];
        out[oOff + n] = 42f;
        MatVec.dotColumns(a, aOff, b, bOff, stride, m, n, out, oOff);
        for (int t = 0; t < n; t++) {
            float expected = 0;
            for (int d = 0; d < m; d++) {
                expected = Math.fma(b[bOff + d * stride + t], a[aOff + d], expected);
            }
            assertThat(Float.floatToRawIntBits(out[oOff + t])).as("position %d of %d", t, n)
                    .isEqualTo(Float.floatToRawIntBits(expected));
        }
        assertThat(out[oOff + n]).isEqualTo(42f);
        assertThat(out[0]).isZero();
    }

    /**
     * Strided ranges that exactly fill their array, start at 0 or repeat one row (stride 0) are inside it: computed,
     * against the scalar loops of the documented sums, not refused.
     */
    @Test
    void stridedRangesThatExactlyFitTheirArraysAreComputed() {
        Random rnd = new Random(31);
        int m = 3;
        int n = Kernels.L + 3;
        for (int stride : new int[] {0, n, n + 5}) {
            float[] a = TestData.gaussian(rnd, m, 1.0);
            float[] b = TestData.gaussian(rnd, (m - 1) * stride + n, 1.0);
            float[] out = new float[n];
            MatVec.dotColumns(a, 0, b, 0, stride, m, n, out, 0);
            float[] dst = TestData.gaussian(rnd, n, 1.0);
            float[] expected = dst.clone();
            MatVec.weightedSumStrided(dst, 0, b, 0, stride, a, 0, m, n);
            for (int t = 0; t < n; t++) {
                float s = 0;
                for (int d = 0; d < m; d++) {
                    s = Math.fma(b[d * stride + t], a[d], s);
                    expected[t] = Math.fma(a[d], b[d * stride + t], expected[t]);
                }
                assertThat(out[t]).as("stride %d column %d", stride, t).isEqualTo(s);
                assertThat(dst[t]).as("stride %d element %d", stride, t).isEqualTo(expected[t]);
            }
            // One element short: refused.
            float[] shortB = new float[b.length - 1];
            assertThatThrownBy(() -> MatVec.dotColumns(a, 0, shortB, 0, stride, m, n, new float[n], 0))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> MatVec.weightedSumStrided(new float[n], 0, shortB, 0, stride, a, 0, m, n))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    /** {@code allFinite} against a plain loop: one NaN or infinity anywhere, in the vector body or the tail. */
    @Test
    void allFiniteFindsANonFiniteValueAnywhere() {
        Random rnd = new Random(5);
        for (int n = 0; n <= 3 * Kernels.L + 3; n++) {
            float[] a = TestData.gaussian(rnd, n, 1e30);
            assertThat(MatVec.allFinite(a)).as("length %d", n).isTrue();
            for (int i = 0; i < n; i++) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float[] b = a.clone();
                    b[i] = bad;
                    assertThat(MatVec.allFinite(b)).as("%s at %d of %d", bad, i, n).isFalse();
                }
            }
        }
        assertThat(MatVec.allFinite(new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE})).isTrue();
    }

    /**
     * A batch product of an {@link Int4BlockMatrix} runs its own kernel per vector: each output has the bits of
     * {@code dotRows} on that vector alone (a prompt computed as its tokens would be decoded). A short vector
     * anywhere in a batch is refused before anything is written.
     */
    @Test
    void aBatchOfAnInt4BlockMatrixGivesEachVectorsDotRowsBits() {
        Random rnd = new Random(8);
        int rows = 2 * Int4BlockMatrix.R + 5;
        int cols = 256;
        Int4BlockMatrix w = Int4BlockMatrix.quantize(
                WeightMatrix.ofFloats(TestData.gaussian(rnd, rows * cols, 1.0), rows, cols), 64);
        float[][] xs = new float[5][];
        float[][] outs = new float[5][rows];
        for (int b = 0; b < xs.length; b++) {
            xs[b] = TestData.gaussian(rnd, cols, 1.0);
        }
        MatVec.multiply(w, xs, outs);
        for (int b = 0; b < xs.length; b++) {
            float[] alone = new float[rows];
            w.dotRows(0, rows, xs[b], alone);
            for (int r = 0; r < rows; r++) {
                assertThat(Float.floatToRawIntBits(outs[b][r])).as("vector %d row %d", b, r)
                        .isEqualTo(Float.floatToRawIntBits(alone[r]));
            }
        }
        float[][] fresh = new float[3][rows];
        for (WeightMatrix m : List.of(w, WeightMatrix.ofFloats(new float[rows * cols], rows, cols))) {
            assertThatThrownBy(() -> MatVec.multiply(m, new float[][] {xs[0], xs[1], new float[cols - 1]}, fresh))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> MatVec.multiply(m, new float[][] {xs[0], xs[1], xs[2]},
                    new float[][] {fresh[0], fresh[1], new float[rows - 1]}))
                    .isInstanceOf(IllegalArgumentException.class);
            for (float[] o : fresh) {
                assertThat(o).containsOnly(0f);
            }
        }
    }

    @Test
    void dotColumnsRejectsRangesOutsideTheArrays() {
        assertThatThrownBy(() -> MatVec.dotColumns(new float[4], 0, new float[3 * 8 + 7], 0, 8, 4, 8, new float[8], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> MatVec.dotColumns(new float[4], 1, new float[64], 0, 8, 4, 8, new float[8], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> MatVec.dotColumns(new float[4], 0, new float[64], 0, 8, 4, 8, new float[7], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
    /**
     * A batch whose weights times vectors pass the largest int is computed: the product team's chunk weight was
     * {@code Math.multiplyExact(cols, batch)}, so 2^15 vectors of 2^16 columns (a prompt chunk that long on a model
     * that wide) failed with ArithmeticException "integer overflow" before any row was computed. The vectors are one
     * array, shared, to keep the test small.
     */
    @Test
    void aBatchPastTheLargestIntOfWeightsIsComputed() {
        int cols = 1 << 16;
        int batch = 1 << 15;
        float[] w = new float[cols];
        float[] x = new float[cols];
        double expected = 0;
        Random rnd = new Random(8);
        for (int i = 0; i < cols; i++) {
            w[i] = rnd.nextInt(5) - 2;
            x[i] = rnd.nextInt(5) - 2;
            expected += w[i] * x[i];
        }
        float[][] xs = new float[batch][];
        float[][] outs = new float[batch][];
        java.util.Arrays.fill(xs, x);
        for (int b = 0; b < batch; b++) {
            outs[b] = new float[1];
        }
        MatVec.multiply(WeightMatrix.ofFloats(w, 1, cols), xs, outs);
        // Small integers: every partial sum is exact in float, so any order gives the exact dot product.
        assertThat(outs[0][0]).isEqualTo((float) expected);
        assertThat(outs[batch - 1][0]).isEqualTo((float) expected);
    }
}
