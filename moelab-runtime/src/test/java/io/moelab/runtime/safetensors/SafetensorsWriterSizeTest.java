package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.tensor.DType;
import org.junit.jupiter.api.Test;

/**
 * A tensor's bytes are held in one array, so {@link SafetensorsWriter#add} refuses a shape too large for one, by name
 * and size, before allocating anything. The shapes here are checked without their values being allocated: the size
 * is checked before the values are counted.
 */
class SafetensorsWriterSizeTest {
    /** The largest array the JVM allocates: 2^31 - 9 bytes. */
    private static final long LIMIT = Integer.MAX_VALUE - 8;

    @Test
    void anElementCountPastLongIsRefusedByNameNotAnArithmeticException() {
        assertThatThrownBy(() -> new SafetensorsWriter().add("huge", DType.F32, new long[] {1L << 40, 1L << 40},
                new float[0]))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("huge")
                // 2^80 elements of 4 bytes: 2^82 bytes, exactly.
                .hasMessageContaining("4835703278458516698824704 bytes")
                .hasMessageContaining(String.valueOf(LIMIT));
    }

    @Test
    void justPastTheLargestArrayIsRefusedAndJustUnderIsCounted() {
        // 536870910 F32 values are 2147483640 bytes, one over the limit.
        assertThatThrownBy(() -> new SafetensorsWriter().add("w", DType.F32, new long[] {536_870_910L}, new float[0]))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tensor w")
                .hasMessageContaining("2147483640 bytes");
        // 536870909 are 2147483636 bytes, which fit: what is wrong then is the number of values.
        assertThatThrownBy(() -> new SafetensorsWriter().add("w", DType.F32, new long[] {536_870_909L}, new float[0]))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("536870909 elements but 0 values");
        // The same element count in BF16 is half the bytes.
        assertThatThrownBy(() -> new SafetensorsWriter().add("w", DType.BF16, new long[] {536_870_910L},
                new float[0]))
                .hasMessageContaining("536870910 elements but 0 values");
    }

    @Test
    void aNegativeDimensionIsReportedEvenAfterAnOverflowingOne() {
        assertThatThrownBy(() -> new SafetensorsWriter().add("w", DType.F32, new long[] {1L << 62, 4, -1},
                new float[0]))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative dimension");
    }
}
