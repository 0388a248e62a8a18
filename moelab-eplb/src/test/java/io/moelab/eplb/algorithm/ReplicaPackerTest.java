package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

class ReplicaPackerTest {

    record Problem(double[] perReplica, int[] counts, int bins, int perBin) {
        @Override
        public String toString() {
            return bins + "x" + perBin + " counts=" + Arrays.toString(counts) + " v=" + Arrays.toString(perReplica);
        }
    }

    /**
     * Replica counts of a random number of experts that fill {@code bins x perBin} slots, each at most
     * {@code bins}.
     */
    static int[] replicaCounts(org.quicktheories.core.RandomnessSource r, int bins, int perBin) {
        int slots = bins * perBin;
        int experts = (int) r.next(Constraint.between((slots + bins - 1) / bins, slots));
        int[] counts = new int[experts];
        Arrays.fill(counts, 1);
        for (int left = slots - experts; left > 0; ) {
            int e = (int) r.next(Constraint.between(0, experts - 1));
            if (counts[e] < bins) {
                counts[e]++;
                left--;
            }
        }
        return counts;
    }

    /** Replica counts that fill bins x perBin exactly, each count at most the number of bins. */
    static Gen<Problem> problems() {
        return r -> {
            int bins = (int) r.next(Constraint.between(1, 12));
            int perBin = (int) r.next(Constraint.between(1, 6));
            int[] counts = replicaCounts(r, bins, perBin);
            int experts = counts.length;
            double[] v = new double[experts];
            for (int e = 0; e < experts; e++) {
                v[e] = r.next(Constraint.between(0, 1000)) / 10.0;
            }
            return new Problem(v, counts, bins, perBin);
        };
    }

    @Test
    void everyBinFullNoDuplicatesAndMaxReported() {
        ReplicaPacker packer = new ReplicaPacker();
        qt().withExamples(2000).withFixedSeed(31).forAll(problems()).checkAssert(p -> {
            int slots = p.bins() * p.perBin();
            int[] out = new int[slots];
            double max = packer.pack(p.perReplica(), p.counts(), p.counts().length, p.bins(), p.perBin(), 64, out);
            int[] placed = new int[p.counts().length];
            double worst = 0;
            for (int b = 0; b < p.bins(); b++) {
                double load = 0;
                for (int j = 0; j < p.perBin(); j++) {
                    int e = out[b * p.perBin() + j];
                    placed[e]++;
                    load += p.perReplica()[e];
                    for (int k = 0; k < j; k++) {
                        assertThat(out[b * p.perBin() + k]).as("bin %d holds expert %d twice", b, e).isNotEqualTo(e);
                    }
                }
                worst = Math.max(worst, load);
            }
            assertThat(placed).containsExactly(p.counts());
            assertThat(max).isCloseTo(worst, within(1e-9 * (1 + worst)));
        });
    }

    @Test
    void matchesGrahamsLptBoundAndImprovesOnSerpentine() {
        // Largest bin <= mean + largest item (LPT's guarantee), and the swaps never make it worse than LPT alone.
        ReplicaPacker packer = new ReplicaPacker();
        qt().withExamples(1000).withFixedSeed(32).forAll(problems()).checkAssert(p -> {
            int slots = p.bins() * p.perBin();
            int[] out = new int[slots];
            double total = 0;
            double largest = 0;
            for (int e = 0; e < p.counts().length; e++) {
                total += p.counts()[e] * p.perReplica()[e];
                largest = Math.max(largest, p.perReplica()[e]);
            }
            double noSwaps = packer.pack(p.perReplica(), p.counts(), p.counts().length, p.bins(), p.perBin(), 0, out);
            double withSwaps = packer.pack(p.perReplica(), p.counts(), p.counts().length, p.bins(), p.perBin(), 64,
                    out);
            assertThat(withSwaps).isLessThanOrEqualTo(noSwaps + 1e-9);
            assertThat(withSwaps).isLessThanOrEqualTo(total / p.bins() + largest + 1e-9);
        });
    }

    @Test
    void handCase() {
        // Items 7, 5, 4, 3, 2, 1 into 2 bins of 3: LPT gives {7,3,1}=11 vs {5,4,2}=11... perfectly balanced.
        int[] out = new int[6];
        double max = new ReplicaPacker().pack(new double[] {7, 5, 4, 3, 2, 1}, new int[] {1, 1, 1, 1, 1, 1}, 6, 2, 3,
                64, out);
        assertThat(max).isEqualTo(11);
    }

    /**
     * Bins whose loads are equal as floats (so ordered by index) can come out of an item in the other order: bin 0
     * holds 1 + 2^-26, bin 1 holds 1, both 1.0f; adding v = 0.5 + 2^-24 - 2^-27 puts them either side of a float
     * rounding midpoint, 1.5 + 2^-23 against 1.5. The expert after v must then take bin 1, the lighter, whichever
     * LPT runs (the sorted one appends the re-keyed bins in the order it took them and must re-sort them).
     */
    @ParameterizedTest
    @EnumSource(ReplicaPacker.Lpt.class)
    void binsThatFloatRoundingReordersAreTakenLightestFirst(ReplicaPacker.Lpt lpt) {
        double v = 0.5 + 0x1p-24 - 0x1p-27;
        double[] perReplica = {1 + 0x1p-26, 1, v, 0.25, 0.125};
        int[] counts = {1, 1, 2, 1, 1};
        int[] out = new int[6];
        new ReplicaPacker(lpt).pack(perReplica, counts, 5, 2, 3, 0, out);
        assertThat(out).containsExactly(0, 2, 4, 1, 2, 3);
    }
}
