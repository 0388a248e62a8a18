package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link WeightMatrix#dotRows} checks its arguments before it writes: the float formats checked rows and x but not
 * {@code out}, and wrote the rows that fitted (F32 every eighth row, spread apart) before an index error from the
 * first that did not, leaving a caller's array half-written; the quantized formats already refused at once.
 */
class DotRowsBoundsTest {
    private static List<WeightMatrix> everyFormat() {
        float[] v = TestData.gaussian(new Random(3), 64 * 64, 1.0);
        WeightMatrix f32 = WeightMatrix.of(DType.F32, TestData.f32Segment(v), 64, 64);
        short[] half = new short[v.length];
        short[] brain = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            half[i] = Float.floatToFloat16(v[i]);
            brain[i] = (short) (Float.floatToRawIntBits(v[i]) >>> 16);
        }
        return List.of(f32, WeightMatrix.of(DType.F16, TestData.shortSegment(half), 64, 64),
                WeightMatrix.of(DType.BF16, TestData.shortSegment(brain), 64, 64), PackedF32Matrix.pack(f32),
                Q8Matrix.quantize(f32), Int4Matrix.quantize(f32, 64), Int4BlockMatrix.quantize(f32, 64));
    }

    @Test
    void aShortOutputIsRefusedBeforeAnythingIsWritten() {
        float[] x = TestData.gaussian(new Random(4), 64, 1.0);
        for (WeightMatrix w : everyFormat()) {
            float[] out = new float[40];
            Arrays.fill(out, Float.NaN);
            assertThatThrownBy(() -> w.dotRows(0, 64, x, out)).as(w.format())
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(out).as(w.format() + " written before the error").containsOnly(Float.NaN);
            // Rows that fit are computed as ever.
            w.dotRows(0, 40, x, out);
            assertThat(out[39]).as(w.format()).isEqualTo(w.dot(39, x));
            assertThatThrownBy(() -> w.dotRows(-1, 8, x, new float[64])).as(w.format())
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.dotRows(8, 65, x, new float[80])).as(w.format())
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.dotRows(0, 8, new float[63], new float[64])).as(w.format())
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }
}
