package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.tensor.DType;
import org.junit.jupiter.api.Test;

class TensorInfoTest {

    @Test
    void valueSemanticsOverTheShapeArray() {
        long[] shape = {2, 3};
        TensorInfo a = new TensorInfo("w", DType.BF16, shape, 8, 20);
        shape[0] = 99;
        TensorInfo b = new TensorInfo("w", DType.BF16, new long[] {2, 3}, 8, 20);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(new TensorInfo("w", DType.BF16, new long[] {3, 2}, 8, 20));
        assertThat(a.toString()).contains("[2, 3]").contains("BF16").contains("w");
        a.shape()[1] = 7;
        assertThat(a.shape()).containsExactly(2, 3);
        assertThat(a.elements()).isEqualTo(6);
        assertThat(a.byteSize()).isEqualTo(12);
        assertThat(a.rank()).isEqualTo(2);
    }

    @Test
    void scalarAndEmpty() {
        TensorInfo scalar = new TensorInfo("s", DType.F32, new long[0], 0, 4);
        assertThat(scalar.rank()).isZero();
        assertThat(scalar.elements()).isEqualTo(1);
        assertThat(new TensorInfo("e", DType.F16, new long[] {0, 4}, 4, 4).elements()).isZero();
    }

    @Test
    void overflowingElementCountThrows() {
        TensorInfo t = new TensorInfo("big", DType.F32, new long[] {1L << 40, 1L << 40}, 0, 0);
        assertThatThrownBy(t::elements).isInstanceOf(ArithmeticException.class);
    }
}
