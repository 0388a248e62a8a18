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
        /** Scratch of {@link #bestSwapAmong}: the top GPU's experts and their per-replica loads. */
        private int[] topExperts = new int[0];
        private double[] topValues = new double[0];

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

    /**
     * {@link #bestSwap} of GPU {@code top} with every GPU of {@code first..end} but {@code top} and those marked in
     * {@code skip}, in order, each searched only while its gap to {@code top} exceeds twice the gain found (the
     * bound of {@link LayerRepair}'s search: a swap gains at most half the gap): the same result as those calls one
     * after another, with {@code top}'s slots and loads read once rather than once per GPU (the repair's search of
     * every GPU of 144 on DeepSeek-V3 decode, half of its swap rounds, read them 117 times a round).
     *
     * @param gpuLoad each GPU's load
     * @param skip    GPUs not to search (already searched without a find at a lower gain), or null
     */
    static void bestSwapAmong(int[] slots, int perGpu, double[] perReplica, double[] gpuLoad, int top, int first,
                              int end, boolean[] skip, Swap best) {
        if (best.values.length < perGpu) {
            best.values = new double[perGpu];
        }
        if (best.topExperts.length < perGpu) {
            best.topExperts = new int[perGpu];
            best.topValues = new double[perGpu];
        }
        double[] values = best.values;
        int[] topExperts = best.topExperts;
        double[] topValues = best.topValues;
        int start = top * perGpu;
        long onTop = 0;
        for (int i = 0; i < perGpu; i++) {
            int a = slots[start + i];
            topExperts[i] = a;
            topValues[i] = perReplica[a];
            onTop |= 1L << a;
        }
        double topLoad = gpuLoad[top];
        double gain = best.gain;
        int from = best.from;
        int to = best.to;
        for (int g = first; g < end; g++) {
            double gap = topLoad - gpuLoad[g];
            if (g == top || !(gap > 2 * gain) || (skip != null && skip[g])) {
                continue;
            }
            // From here as bestSwap(slots, perGpu, perReplica, top, g, gap, best), top's side read above. Written out
            // rather than shared: both as one method over top's side read into the scratch (gain, from and to kept in
            // best between GPUs) made a rebalance in service on DeepSeek-V3 decode 1.12x as slow, same placements.
            int other = g * perGpu;
            long onOther = 0;
            for (int j = 0; j < perGpu; j++) {
                int x = slots[other + j];
                values[j] = perReplica[x];
                onOther |= 1L << x;
            }
            for (int i = 0; i < perGpu; i++) {
                int a = topExperts[i];
                if ((onOther & 1L << a) != 0 && holds(slots, perGpu, g, a)) {
                    continue;
                }
                double va = topValues[i];
                for (int j = 0; j < perGpu; j++) {
                    double d = va - values[j];
                    if (d > gain && gap - d > gain) {
                        int x = slots[other + j];
                        if ((onTop & 1L << x) == 0 || !holds(slots, perGpu, top, x)) {
                            gain = Math.min(d, gap - d);
                            from = start + i;
                            to = other + j;
                        }
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
