package io.moelab.runtime.safetensors;

import io.moelab.runtime.tensor.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a safetensors header.
 *
 * @param name  the tensor name
 * @param dtype the element type
 * @param shape the dimensions, row-major (empty for a scalar); copied in and out
 * @param begin the first byte, relative to the start of the data section
 * @param end   one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    /** Copies {@code shape}; rejects nulls. */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /**
     * The number of elements: the product of the dimensions, 1 for a scalar.
     *
     * @throws ArithmeticException if the product overflows a long
     */
    public long elements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** {@code end - begin}: the bytes the tensor occupies in the data section. */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return "TensorInfo[name=" + name + ", dtype=" + dtype + ", shape=" + Arrays.toString(shape)
                + ", begin=" + begin + ", end=" + end + "]";
    }
}
