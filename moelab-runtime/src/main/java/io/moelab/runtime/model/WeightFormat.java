package io.moelab.runtime.model;

import io.moelab.runtime.tensor.F32Matrix;
import io.moelab.runtime.tensor.Int4BlockMatrix;
import io.moelab.runtime.tensor.Int4Matrix;
import io.moelab.runtime.tensor.PackedF32Matrix;
import io.moelab.runtime.tensor.Q8Matrix;
import io.moelab.runtime.tensor.WeightMatrix;
import java.lang.foreign.SegmentAllocator;

/**
 * How the projection matrices are held in memory: as stored in the checkpoint (F32, F16 or BF16, memory-mapped,
 * no copy), quantized at load time, or (F32) copied into a layout that streams faster. Norms, biases and
 * embeddings stay as stored.
 */
public enum WeightFormat {
    /** As stored in the checkpoint. */
    STORED,
    /** Symmetric int8, groups of 32 with an fp16 scale (llama.cpp's Q8_0). */
    Q8,
    /** Symmetric int4, groups of 64 with an fp16 scale. */
    INT4,
    /**
     * INT4's codes and scales in {@link Int4BlockMatrix}'s row blocks, multiplied by int8-quantized activations in
     * integer lanes: 1.8x INT4's decode speed on m100, with the activations' rounding added to its error bound.
     */
    INT4_I8,
    /**
     * F32 matrices copied into {@link PackedF32Matrix}'s sequential layout (same values; products equal to float
     * rounding, one accumulator per row; faster streaming); other types and shapes that do not pack stay as stored.
     */
    PACKED;

    /** Groups of this many columns share a scale. */
    int groupSize() {
        return switch (this) {
            case STORED, PACKED -> 1;
            case Q8 -> 32;
            case INT4, INT4_I8 -> 64;
        };
    }

    /**
     * The matrix in this format, its copy (if any) allocated from {@code memory}; a matrix whose rows do not split
     * into whole groups stays as stored.
     */
    WeightMatrix apply(WeightMatrix stored, SegmentAllocator memory) {
        if (stored.cols() % groupSize() != 0) {
            return stored;
        }
        return switch (this) {
            case STORED -> stored;
            case PACKED -> stored instanceof F32Matrix && PackedF32Matrix.fits(stored.rows(), stored.cols())
                    ? PackedF32Matrix.pack(stored, memory) : stored;
            case Q8 -> Q8Matrix.quantize(stored, memory);
            case INT4 -> Int4Matrix.quantize(stored, 64, memory);
            case INT4_I8 -> Int4BlockMatrix.quantize(stored, 64, memory);
        };
    }
}
