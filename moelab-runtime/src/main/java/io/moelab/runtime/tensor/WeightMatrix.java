package io.moelab.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A {@code rows × cols} row-major matrix of weights that owns its memory and its dot product.
 *
 * <p>Float formats ({@link F32Matrix}, {@link F16Matrix}, {@link BF16Matrix}) wrap little-endian memory, typically
 * a memory-mapped safetensors slice, without copying; {@link PackedF32Matrix} is an F32 copy laid out for one
 * sequential stream. Quantized formats ({@link Q8Matrix}, {@link Int4Matrix}, {@link Int4BlockMatrix}) are made
 * from another matrix and document their error bounds. Implementations are immutable and safe for concurrent reads.
 */
public sealed interface WeightMatrix permits F32Matrix, HalfMatrix, Q8Matrix, Int4Matrix, Int4BlockMatrix,
        PackedF32Matrix {

    /** Number of rows. */
    int rows();

    /** Number of columns: the length of a row. */
    int cols();

    /** Format name: {@code F32}, {@code F16}, {@code BF16}, {@code Q8_32}, {@code INT4_G64} and so on. */
    String format();

    /** Resident bytes of weights and scales. */
    long bytes();

    /**
     * Dot product of row {@code row} with {@code x[0..cols)}.
     *
     * @throws IndexOutOfBoundsException if {@code row} is out of range or {@code x} is shorter than {@code cols}
     */
    float dot(int row, float[] x);

    /**
     * Writes row {@code row}, dequantized, into {@code dst[0..cols)}.
     *
     * @throws IndexOutOfBoundsException if {@code row} is out of range or {@code dst} is shorter than {@code cols}
     */
    void row(int row, float[] dst);

    /**
     * {@code out[r] = dot(r, x)} for rows {@code from} to {@code to - 1}, with the same bits as {@link #dot}.
     * Formats override it to stream several rows per pass, sharing the loads of {@code x}. The arguments are checked
     * before anything is written (once per call, outside the kernels' loops).
     *
     * @throws IndexOutOfBoundsException if {@code [from, to)} is not a range of rows, {@code x} is shorter than
     *                                   {@code cols}, or {@code out} than {@code to}
     */
    default void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows());
        Objects.checkFromIndexSize(0, cols(), x.length);
        Objects.checkFromToIndex(from, to, out.length);
        for (int r = from; r < to; r++) {
            out[r] = dot(r, x);
        }
    }

    /** Element {@code (r, c)}, dequantized. The default dequantizes the whole row: override where it matters. */
    default float get(int r, int c) {
        Objects.checkIndex(c, cols());
        float[] buf = new float[cols()];
        row(r, buf);
        return buf[c];
    }

    /**
     * Wraps little-endian {@code data} of type {@code dtype} as a matrix, without copying.
     *
     * @throws IllegalArgumentException if a dimension is not positive or {@code data.byteSize()} is not
     *                                  {@code rows * cols * dtype.bytes()}
     */
    static WeightMatrix of(DType dtype, MemorySegment data, int rows, int cols) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        checkShape(rows, cols);
        long expected = (long) rows * cols * dtype.bytes();
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("a " + dtype + " " + rows + "x" + cols + " matrix needs " + expected
                    + " bytes, the segment has " + data.byteSize());
        }
        return switch (dtype) {
            case F32 -> new F32Matrix(data, rows, cols);
            case F16 -> new F16Matrix(data, rows, cols);
            case BF16 -> new BF16Matrix(data, rows, cols);
        };
    }

    /**
     * An F32 matrix over {@code values[0..rows*cols)}, row-major. On little-endian platforms the array is wrapped,
     * not copied, so later writes to it show through; elsewhere it is copied.
     *
     * @throws IllegalArgumentException if a dimension is not positive or {@code values.length != rows * cols}
     */
    static WeightMatrix ofFloats(float[] values, int rows, int cols) {
        checkShape(rows, cols);
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException(
                    "a " + rows + "x" + cols + " matrix needs " + (long) rows * cols + " values, got " + values.length);
        }
        MemorySegment seg;
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            seg = MemorySegment.ofArray(values);
        } else {
            seg = MemorySegment.ofArray(new byte[values.length * Float.BYTES]);
            MemorySegment.copy(values, 0, seg, Kernels.F32_LE, 0, values.length);
        }
        return new F32Matrix(seg, rows, cols);
    }

    private static void checkShape(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix dimensions must be positive: " + rows + "x" + cols);
        }
    }
}
