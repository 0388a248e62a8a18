package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class KernelsTest {
    @Test
    void lanesSumInTheHalvingOrderFromRegistersAndFromMemoryAlike() {
        Random rnd = new Random(11);
        float[] lanes = new float[3 * Kernels.L];
        for (int round = 0; round < 2000; round++) {
            for (int i = 0; i < lanes.length; i++) {
                // Wide exponents make every reordering visible in the bits.
                lanes[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(40) - 20));
            }
            int off = Kernels.L * (round % 3);
            float fromRegisters = Kernels.sum(FloatVector.fromArray(Kernels.F, lanes, off));
            assertThat(Float.floatToRawIntBits(Kernels.sumLanes(lanes, off)))
                    .isEqualTo(Float.floatToRawIntBits(fromRegisters));
            assertThat(Float.floatToRawIntBits(fromRegisters)).isEqualTo(Float.floatToRawIntBits(halving(lanes, off)));
        }
    }

    @Test
    void expIsWithinAnUlpOfTheCorrectlyRoundedValueWithItsSpecialCases() {
        // Every 2^-13-spaced float from -110 to 90 and its neighbours: the normal results within one ulp of
        // Math.exp rounded to float, the rest zero or infinite exactly where the true value rounds so.
        int worst = 0;
        for (double d = -110; d < 90; d += 0x1p-13) {
            for (float x : new float[] {(float) d, Math.nextUp((float) d)}) {
                float got = Kernels.exp(x);
                float expected = (float) Math.exp(x);
                if (expected >= Float.MIN_NORMAL && expected <= Float.MAX_VALUE) {
                    worst = Math.max(worst, Math.abs(Float.floatToRawIntBits(got) - Float.floatToRawIntBits(expected)));
                } else if (expected == 0 || Float.isInfinite(expected)) {
                    assertThat(got).as("exp(%s)", x).isEqualTo(expected);
                } else {
                    // Subnormal: rounded once from the polynomial's value, within two of the smallest steps.
                    assertThat(Math.abs(got - expected)).as("exp(%s)", x).isLessThanOrEqualTo(2 * Float.MIN_VALUE);
                }
            }
        }
        assertThat(worst).isLessThanOrEqualTo(1);
        assertThat(Kernels.exp(0f)).isEqualTo(1f);
        assertThat(Kernels.exp(Float.NaN)).isNaN();
        assertThat(Kernels.exp(Float.POSITIVE_INFINITY)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Kernels.exp(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(Kernels.exp(88.7f)).isEqualTo((float) Math.exp(88.7f));
    }

    @Test
    void expOfAVectorIsTheScalarExpOfEachLaneBitForBit() {
        // The same operations lane by lane: a row's elements get the same bits in a whole vector and in the scalar
        // tail, at every vector width (the suite also runs at 256 and 128 bits).
        Random rnd = new Random(13);
        float[] x = new float[Kernels.L];
        float[] out = new float[Kernels.L];
        for (int round = 0; round < 20_000; round++) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(8)));
            }
            if (round % 100 == 0) {
                x[round / 100 % x.length] = switch (round / 100 % 4) {
                    case 0 -> Float.NaN;
                    case 1 -> Float.POSITIVE_INFINITY;
                    case 2 -> Float.NEGATIVE_INFINITY;
                    default -> -0f;
                };
            }
            Kernels.exp(FloatVector.fromArray(Kernels.F, x, 0)).intoArray(out, 0);
            for (int i = 0; i < x.length; i++) {
                assertThat(Float.floatToRawIntBits(out[i])).as("exp(%s)", x[i])
                        .isEqualTo(Float.floatToRawIntBits(Kernels.exp(x[i])));
            }
        }
    }

    @Test
    void storedLanesSumInBlocksOfFourThenPairs() {
        Random rnd = new Random(12);
        float[] lanes = new float[2 * Kernels.L];
        for (int round = 0; round < 2000; round++) {
            for (int i = 0; i < lanes.length; i++) {
                lanes[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(40) - 20));
            }
            int off = Kernels.L * (round % 2);
            assertThat(Float.floatToRawIntBits(Kernels.sumStored(lanes, off)))
                    .isEqualTo(Float.floatToRawIntBits(blocksOfFour(lanes, off)));
        }
    }

    /** sumStored's documented order, restated: the 4-lane blocks added first to last, then (l0 + l1) + (l2 + l3). */
    private static float blocksOfFour(float[] lanes, int off) {
        float[] q = java.util.Arrays.copyOfRange(lanes, off, off + 4);
        for (int block = 1; block < Kernels.L / 4; block++) {
            for (int j = 0; j < 4; j++) {
                q[j] = q[j] + lanes[off + 4 * block + j];
            }
        }
        return (q[0] + q[1]) + (q[2] + q[3]);
    }

    /** The documented order, restated naively: halve until four lanes remain, then (l0 + l1) + (l2 + l3). */
    private static float halving(float[] lanes, int off) {
        float[] v = java.util.Arrays.copyOfRange(lanes, off, off + Kernels.L);
        int n = v.length;
        while (n > 4) {
            n /= 2;
            for (int i = 0; i < n; i++) {
                v[i] = v[i] + v[i + n];
            }
        }
        return (v[0] + v[1]) + (v[2] + v[3]);
    }
}
