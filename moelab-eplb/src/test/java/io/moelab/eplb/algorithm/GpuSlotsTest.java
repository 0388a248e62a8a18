package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The swap search over many GPUs against the per-GPU search it stands for, called GPU after GPU. */
class GpuSlotsTest {
    @Test
    void searchAmongGpusFindsWhatTheCallsOneAfterAnotherFind() {
        SplittableRandom random = new SplittableRandom(32);
        int withSwap = 0;
        for (int trial = 0; trial < 3000; trial++) {
            int perGpu = 1 + random.nextInt(4);
            int gpus = 2 + random.nextInt(12);
            int experts = 1 + random.nextInt(Math.min(64, gpus * perGpu));
            int[] slots = new int[gpus * perGpu];
            for (int s = 0; s < slots.length; s++) {
                slots[s] = random.nextInt(experts);
            }
            // Per-replica loads from a few levels: equal gains between pairs are common, so the order of the
            // search (first find wins) is tested too.
            double[] perReplica = new double[experts];
            for (int e = 0; e < experts; e++) {
                perReplica[e] = random.nextInt(6) * 0.5;
            }
            double[] gpuLoad = new double[gpus];
            for (int s = 0; s < slots.length; s++) {
                gpuLoad[s / perGpu] += perReplica[slots[s]];
            }
            int top = random.nextInt(gpus);
            int first = random.nextInt(2) == 0 ? 0 : random.nextInt(gpus);
            int end = first + random.nextInt(gpus - first + 1);
            boolean[] skip = random.nextInt(2) == 0 ? null : new boolean[gpus];
            if (skip != null) {
                for (int g = 0; g < gpus; g++) {
                    skip[g] = random.nextInt(4) == 0;
                }
            }
            double minimum = random.nextInt(3) == 0 ? 0.25 : 1e-12 * gpuLoad[top];

            GpuSlots.Swap expected = new GpuSlots.Swap().reset(minimum);
            for (int g = first; g < end; g++) {
                double gap = gpuLoad[top] - gpuLoad[g];
                if (g != top && gap > 2 * expected.gain && (skip == null || !skip[g])) {
                    GpuSlots.bestSwap(slots, perGpu, perReplica, top, g, gap, expected);
                }
            }
            GpuSlots.Swap actual = new GpuSlots.Swap().reset(minimum);
            GpuSlots.bestSwapAmong(slots, perGpu, perReplica, gpuLoad, top, first, end, skip, actual);

            assertThat(new Object[] {actual.from, actual.to, actual.gain}).as("trial %d", trial)
                    .containsExactly(expected.from, expected.to, expected.gain);
            withSwap += expected.found() ? 1 : 0;
        }
        // The trials must exercise finds, not only searches that find nothing.
        assertThat(withSwap).isGreaterThan(500);
    }
}
