package io.moelab.runtime.tensor;

import java.util.Optional;

/** Element types of checkpoint tensors, named as safetensors names them. */
public enum DType {
    /** IEEE binary32. */
    F32(4),
    /** IEEE binary16. */
    F16(2),
    /** bfloat16: the upper half of a binary32. */
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The type for a safetensors {@code dtype} string, if supported. */
    public static Optional<DType> parse(String safetensorsName) {
        for (DType d : values()) {
            if (d.name().equals(safetensorsName)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
