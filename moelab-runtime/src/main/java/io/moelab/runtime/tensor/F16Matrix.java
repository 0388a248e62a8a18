package io.moelab.runtime.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * IEEE binary16 (decoded lane by lane into binary32 bit patterns, exact for subnormals, infinities and NaN) weights
 * over a little-endian {@link MemorySegment}; see {@link WeightMatrix#of}.
 */
public final class F16Matrix extends HalfMatrix {

    F16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public String format() {
        return "F16";
    }

    @Override
    FloatVector decode(long offset) {
        return Kernels.f16(data, offset);
    }

    @Override
    float decodeScalar(long offset) {
        return Kernels.f16Scalar(data, offset);
    }
}
