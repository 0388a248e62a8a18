package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.Int4BlockMatrix;
import io.moelab.runtime.tensor.Int4Matrix;
import io.moelab.runtime.tensor.PackedF32Matrix;
import io.moelab.runtime.tensor.Q8Matrix;
import io.moelab.runtime.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Which matrices each format converts, as its Javadoc says: whole groups of columns only (Q8 32, INT4 64), and for
 * PACKED only F32 matrices of whole row groups and vectors. The model tests see the formats only through logits,
 * which a matrix left as stored changes too little to notice.
 */
class WeightFormatTest {
    /** A {@code rows x cols} matrix of {@code dtype} of small nonzero values. */
    private static WeightMatrix matrix(DType dtype, int rows, int cols) {
        int n = rows * cols;
        byte[] b = new byte[n * dtype.bytes()];
        for (int i = 0; i < n; i++) {
            float v = ((i * 7) % 13 - 6) / 8f;
            int bits = Float.floatToRawIntBits(v);
            if (dtype == DType.BF16) {
                bits >>>= 16;
            }
            for (int k = 0; k < dtype.bytes(); k++) {
                b[dtype.bytes() * i + k] = (byte) (bits >>> (8 * k));
            }
        }
        return WeightMatrix.of(dtype, MemorySegment.ofArray(b), rows, cols);
    }

    @Test
    void eachFormatConvertsTheMatricesItSplitsIntoWholeGroups() {
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix f32 = matrix(DType.F32, 8, 64);
            assertThat(WeightFormat.STORED.apply(f32, arena)).isSameAs(f32);
            assertThat(WeightFormat.PACKED.apply(f32, arena)).isInstanceOf(PackedF32Matrix.class);
            assertThat(WeightFormat.Q8.apply(f32, arena)).isInstanceOf(Q8Matrix.class);
            assertThat(WeightFormat.INT4.apply(f32, arena)).isInstanceOf(Int4Matrix.class);
            assertThat(WeightFormat.INT4_I8.apply(f32, arena)).isInstanceOf(Int4BlockMatrix.class);
            // 96 columns: three Q8 groups, one and a half INT4 groups.
            WeightMatrix f32x96 = matrix(DType.F32, 8, 96);
            assertThat(WeightFormat.Q8.apply(f32x96, arena)).isInstanceOf(Q8Matrix.class);
            assertThat(WeightFormat.INT4.apply(f32x96, arena)).isSameAs(f32x96);
            assertThat(WeightFormat.INT4_I8.apply(f32x96, arena)).isSameAs(f32x96);
            // 33 columns: no whole group of either, and no whole vector to pack.
            WeightMatrix f32x33 = matrix(DType.F32, 8, 33);
            for (WeightFormat f : WeightFormat.values()) {
                assertThat(f.apply(f32x33, arena)).as(f.name()).isSameAs(f32x33);
            }
            // PACKED: a BF16 matrix of a packable shape stays as stored, as does an F32 one of 7 rows.
            WeightMatrix bf16 = matrix(DType.BF16, 8, 64);
            assertThat(WeightFormat.PACKED.apply(bf16, arena)).isSameAs(bf16);
            assertThat(WeightFormat.Q8.apply(bf16, arena)).isInstanceOf(Q8Matrix.class);
            WeightMatrix f32x7 = matrix(DType.F32, 7, 64);
            assertThat(WeightFormat.PACKED.apply(f32x7, arena)).isSameAs(f32x7);
        }
    }
}
