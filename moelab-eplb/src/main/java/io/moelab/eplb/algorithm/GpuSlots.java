package io.moelab.eplb.algorithm;

/**
 * Helpers over slots laid out GPU by GPU ({@code slots[g * perGpu + j]}): membership, duplicates, and the
 * best load-lowering exchange of one replica between two GPUs, shared by the packer and the migration repair.
 */
final class GpuSlots {
    private GpuSlots() {
    }

    /** A swap found by {@link #bestSwap}: the gain to beat, and the two slots (-1 while none is found). */
    static final class Swap {
        double gain;
        int from = -1;
        int to = -1;
        /** Scratch: the per-replica loads of the other GPU's slots, read once per search. */
        private double[] values = new double[0];

        /** Starts a search that needs a gain above {@code minimum}. */
        Swap reset(double minimum) {
            gain = minimum;
            from = -1;
            to = -1;
            return this;
        }

        boolean found() {
            return from >= 0;
        }
    }

    /** Whether GPU {@code gpu} holds {@code expert}. */
    static boolean holds(int[] slots, int perGpu, int gpu, int expert) {
        for (int s = gpu * perGpu, end = s + perGpu; s < end; s++) {
            if (slots[s] == expert) {
                return true;
            }
        }
        return false;
    }

    /** How many replicas of {@code expert} GPU {@code gpu} holds. */
    static int copies(int[] slots, int perGpu, int gpu, int expert) {
        int n = 0;
        for (int s = gpu * perGpu, end = s + perGpu; s < end; s++) {
            n += slots[s] == expert ? 1 : 0;
        }
        return n;
    }

    /**
     * Looks for the exchange of one replica on GPU {@code top} with one on GPU {@code other} that lowers the
     * larger of their two loads the most, without putting an expert twice on a GPU; records it in {@code best}
     * if it beats the gain there.
     *
     * @param gap {@code top}'s load minus {@code other}'s
     */
    static void bestSwap(int[] slots, int perGpu, double[] perReplica, int top, int other, double gap, Swap best) {
        // The other GPU's loads gathered once: the pair loop then reads them in order (81 pairs on 9-slot GPUs, each
        // of which gathered through slots[] before).
        if (best.values.length < perGpu) {
            best.values = new double[perGpu];
        }
        double[] values = best.values;
        int first = other * perGpu;
        int start = top * perGpu;
        // Which experts each GPU may hold, as bits e mod 64: a clear bit proves the GPU does not hold the expert,
        // without scanning its slots. Most pairs that would improve are not allowed (26 x 64: 12.4 such pairs a
        // search, 3.6 allowed), and each scanned both GPUs' slots.
        long onOther = 0;
        long onTop = 0;
        for (int j = 0; j < perGpu; j++) {
            int x = slots[first + j];
            values[j] = perReplica[x];
            onOther |= 1L << x;
            onTop |= 1L << slots[start + j];
        }
        double gain = best.gain;
        int from = best.from;
        int to = best.to;
        for (int i = start; i < start + perGpu; i++) {
            int a = slots[i];
            if ((onOther & 1L << a) != 0 && holds(slots, perGpu, other, a)) {
                continue; // a would be on the other GPU twice: no pair of this row is allowed
            }
            double va = perReplica[a];
            for (int j = 0; j < perGpu; j++) {
                double d = va - values[j];
                // After the swap the pair's larger load is max(top - d, other + d); best near d = gap / 2. The gain
                // min(d, gap - d) beats the best so far exactly when both terms do (loads are never NaN): two
                // compares instead of Math.min's NaN and signed-zero handling on every pair.
                if (d > gain && gap - d > gain) {
                    // x != a: the other GPU holds x, so a row whose expert is x was skipped above.
                    int x = slots[first + j];
                    if ((onTop & 1L << x) == 0 || !holds(slots, perGpu, top, x)) {
                        gain = Math.min(d, gap - d);
                        from = i;
                        to = first + j;
                    }
                }
            }
        }
        best.gain = gain;
        best.from = from;
        best.to = to;
    }

    /** Exchanges the experts in two slots and moves the load difference between their GPUs. */
    static void swap(int[] slots, int perGpu, double[] perReplica, double[] gpuLoad, int from, int to) {
        int a = slots[from];
        int x = slots[to];
        slots[from] = x;
        slots[to] = a;
        double d = perReplica[a] - perReplica[x];
        gpuLoad[from / perGpu] -= d;
        gpuLoad[to / perGpu] += d;
    }
}
