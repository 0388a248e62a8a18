package io.moelab.runtime.safetensors;

/** Conversions between {@code float} and the 16-bit formats F16 (IEEE binary16) and BF16 (bfloat16). */
public final class HalfFloats {
    private HalfFloats() {
    }

    /** The float a BF16 bit pattern denotes (exact: BF16 is the upper half of a binary32). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * The BF16 nearest to {@code value}, ties to even; overflow rounds to infinity. A NaN stays a NaN of the same
     * sign (made quiet, so that truncation cannot turn it into an infinity).
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** The float an F16 bit pattern denotes (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** The F16 nearest to {@code value}, ties to even, as {@link Float#floatToFloat16} rounds. */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }
}
