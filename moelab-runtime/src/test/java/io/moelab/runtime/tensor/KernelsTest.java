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
