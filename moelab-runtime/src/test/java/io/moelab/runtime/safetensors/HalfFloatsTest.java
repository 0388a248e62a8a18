package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    /** RNE of a finite float to bfloat16, computed another way: compare distances to both neighbours. */
    static short referenceBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        int down = bits & 0xFFFF0000;
        int up = down + 0x10000;
        double lo = Float.intBitsToFloat(down);
        double hi = (up & 0x7FFFFFFF) == 0x7F800000 ? Math.copySign(0x1p128, v) : Float.intBitsToFloat(up);
        double dl = Math.abs(v - lo);
        double dh = Math.abs(hi - v);
        int pick = dl < dh ? down : dh < dl ? up : ((down >>> 16) & 1) == 0 ? down : up;
        return (short) (pick >>> 16);
    }

    @Test
    void bf16HandValues() {
        assertThat(HalfFloats.floatToBf16(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.floatToBf16(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(HalfFloats.floatToBf16(3.14159f)).isEqualTo((short) 0x4049); // 0x40490FD0 rounds down
        assertThat(HalfFloats.floatToBf16(0.1f)).isEqualTo((short) 0x3DCD); // 0x3DCCCCCD rounds up
        assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808000))).isEqualTo((short) 0x3F80); // tie, even
        assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F818000))).isEqualTo((short) 0x3F82); // tie, odd
        assertThat(HalfFloats.floatToBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // overflows to +inf
        assertThat(HalfFloats.floatToBf16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFF80);
        assertThat(HalfFloats.floatToBf16(-0.0f)).isEqualTo((short) 0x8000);
        assertThat(HalfFloats.bf16ToFloat((short) 0x4049)).isEqualTo(3.140625f);
    }

    @Test
    void bf16NaNStaysNaN() {
        // A NaN whose payload lies only in the low half would truncate to infinity.
        float nan = Float.intBitsToFloat(0x7F800001);
        assertThat(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(nan)))).isTrue();
        float negNan = Float.intBitsToFloat(0xFFFFFFFF);
        short b = HalfFloats.floatToBf16(negNan);
        assertThat(Float.isNaN(HalfFloats.bf16ToFloat(b))).isTrue();
        assertThat(b & 0x8000).isNotZero();
    }

    @Test
    void bf16MatchesReferenceRounding() {
        qt().withFixedSeed(7L).withExamples(20000).forAll(integers().all()).checkAssert(bits -> {
            float v = Float.intBitsToFloat(bits);
            if (Float.isFinite(v)) {
                assertThat(HalfFloats.floatToBf16(v)).as("bits %08x", bits).isEqualTo(referenceBf16(v));
            }
        });
    }

    @Test
    void f16HandValues() {
        assertThat(HalfFloats.floatToF16(1.0f)).isEqualTo((short) 0x3C00);
        assertThat(HalfFloats.floatToF16(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(HalfFloats.floatToF16(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(HalfFloats.floatToF16(1e5f)).isEqualTo((short) 0x7C00);
        assertThat(HalfFloats.floatToF16(0.1f)).isEqualTo((short) 0x2E66);
        assertThat(HalfFloats.f16ToFloat((short) 0x3555)).isEqualTo(0.333251953125f);
    }
}
