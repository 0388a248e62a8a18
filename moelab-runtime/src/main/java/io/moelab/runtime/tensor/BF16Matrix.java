package io.moelab.runtime.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * bfloat16 (the upper half of a binary32; decoded by a shift) weights over a little-endian {@link MemorySegment};
 * see {@link WeightMatrix#of}.
 */
public final class BF16Matrix extends HalfMatrix {

    BF16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public String format() {
        return "BF16";
    }

    @Override
    FloatVector decode(long offset) {
        return Kernels.bf16(data, offset);
    }

    @Override
    float decodeScalar(long offset) {
        return Kernels.bf16Scalar(data, offset);
    }
}
