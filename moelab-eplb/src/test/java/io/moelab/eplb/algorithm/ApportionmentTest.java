package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;

import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

/** The exact apportionment against the one-replica-at-a-time greedy that DeepSeek's EPLB runs. */
class ApportionmentTest {

    record Problem(double[] load, int slots, int cap) {
        @Override
        public String toString() {
            return "slots=" + slots + " cap=" + cap + " load=" + java.util.Arrays.toString(load);
        }
    }

    /** Loads with ties and zeros, slots from E to 6E, caps from 1 to 40. */
    static Gen<Problem> problems() {
        return r -> {
            int n = (int) r.next(Constraint.between(1, 40));
            boolean ties = r.next(Constraint.between(0, 1)) == 1;
            double[] load = new double[n];
            for (int e = 0; e < n; e++) {
                load[e] = ties ? r.next(Constraint.between(0, 5)) : r.next(Constraint.between(0, 100_000)) / 7.0;
            }
            int slots = n + (int) r.next(Constraint.between(0, 5L * n));
            int cap = (int) r.next(Constraint.between(1, 40));
            return new Problem(load, slots, cap);
        };
    }

    /** DeepSeek's way: start at one replica each, add to the argmax of load / count (first on ties). */
    static int[] naiveGreedy(double[] load, int slots, int cap) {
        int n = load.length;
        int effectiveCap = Math.max(cap, (slots + n - 1) / n);
        int[] counts = new int[n];
        java.util.Arrays.fill(counts, 1);
        for (int added = n; added < slots; added++) {
            int best = -1;
            for (int e = 0; e < n; e++) {
                if (counts[e] < effectiveCap && (best < 0 || load[e] / counts[e] > load[best] / counts[best])) {
                    best = e;
                }
            }
            counts[best]++;
        }
        return counts;
    }

    private static double largest(double[] load, int[] counts) {
        double max = 0;
        for (int e = 0; e < load.length; e++) {
            max = Math.max(max, load[e] / counts[e]);
        }
        return max;
    }

    @Test
    void reachesTheGreedyOptimumWithValidCounts() {
        qt().withExamples(3000).withFixedSeed(21).forAll(problems()).checkAssert(p -> {
            int n = p.load().length;
            int[] counts = new int[n];
            double result = new Apportionment(4).apportion(p.load(), n, p.slots(), p.cap(), counts);
            int effectiveCap = Math.max(p.cap(), (p.slots() + n - 1) / n);
            int sum = 0;
            for (int c : counts) {
                assertThat(c).isBetween(1, effectiveCap);
                sum += c;
            }
            assertThat(sum).isEqualTo(p.slots());
            double optimum = largest(p.load(), naiveGreedy(p.load(), p.slots(), p.cap()));
            assertThat(result).isEqualTo(largest(p.load(), counts));
            // The greedy is optimal for the largest per-replica load; so must this be (to rounding).
            assertThat(result).isCloseTo(optimum, within(1e-9 * (1 + optimum)));
        });
    }

    @Test
    void equalsTheGreedyCountsWhenNoRatiosTie() {
        // Distinct random loads: no two per-replica loads tie, so the greedy's counts are unique and the
        // apportionment must reproduce them exactly, also when the cap binds the hottest expert and the slots left
        // over go to the others (the case an earlier start at max / cap got wrong: it stayed optimal in the largest
        // load but handed the leftovers to the experts at the cap bound first).
        qt().withExamples(3000).withFixedSeed(24).forAll(problems()).checkAssert(p -> {
            int n = p.load().length;
            java.util.SplittableRandom random = new java.util.SplittableRandom(p.slots() * 31L + n);
            double[] load = new double[n];
            for (int e = 0; e < n; e++) {
                load[e] = 1 + random.nextDouble() * 1000;
            }
            load[0] *= 20; // often hot enough for the cap to bind
            int[] counts = new int[n];
            new Apportionment(4).apportion(load, n, p.slots(), p.cap(), counts);
            assertThat(counts).containsExactly(naiveGreedy(load, p.slots(), p.cap()));
        });
    }

    @Test
    void slotsLeftBelowABindingCapAreNotDumpedOnATiedExpert() {
        // One node's 16 experts on 72 slots, cap 8 (recorded from the 26 x 64 golden sequence). The cap binds
        // expert 14 (1096 / 8 = 137), and 274 = 2 x 137 ties that bound exactly. An earlier start at the bound
        // handed all the slots left over to expert 1 (counts 5, 8, 7, 8, ...: 274 over 8 replicas while 288 had 5),
        // optimal in the largest load but not in the rest. Now: the greedy's counts.
        double[] load = {288, 274, 502, 729, 184, 127, 350, 165, 184, 172, 232, 295, 62, 291, 1096, 136};
        int[] counts = new int[load.length];
        new Apportionment(load.length).apportion(load, load.length, 72, 8, counts);
        assertThat(counts).containsExactly(naiveGreedy(load, 72, 8));
        assertThat(counts).containsExactly(5, 5, 8, 8, 3, 2, 6, 3, 3, 3, 4, 5, 1, 5, 8, 3);
    }

    /** Up to 4 experts and 10 slots, small enough to enumerate every composition. */
    static Gen<Problem> tinyProblems() {
        return r -> {
            int n = (int) r.next(Constraint.between(1, 4));
            double[] load = new double[n];
            for (int e = 0; e < n; e++) {
                load[e] = r.next(Constraint.between(0, 50));
            }
            return new Problem(load, n + (int) r.next(Constraint.between(0, 10 - n)),
                    (int) r.next(Constraint.between(1, 6)));
        };
    }

    @Test
    void noSolutionHasASmallerLargestPerReplicaLoad() {
        // Brute force over every composition for tiny cases: the result is the true minimum.
        qt().withExamples(500).withFixedSeed(22).forAll(tinyProblems()).checkAssert(p -> {
                    int n = p.load().length;
                    int[] counts = new int[n];
                    double result = new Apportionment(n).apportion(p.load(), n, p.slots(), p.cap(), counts);
                    int cap = Math.max(p.cap(), (p.slots() + n - 1) / n);
                    double best = bruteForce(p.load(), new int[n], 0, p.slots(), cap);
                    assertThat(result).isCloseTo(best, within(1e-12 * (1 + best)));
                });
    }

    private static double bruteForce(double[] load, int[] counts, int e, int left, int cap) {
        if (e == load.length) {
            return left == 0 ? largest(load, counts) : Double.POSITIVE_INFINITY;
        }
        double best = Double.POSITIVE_INFINITY;
        for (int c = 1; c <= Math.min(cap, left); c++) {
            counts[e] = c;
            best = Math.min(best, bruteForce(load, counts, e + 1, left - c, cap));
        }
        return best;
    }

    @Test
    void handCase() {
        // Loads 8, 4, 1 on 6 slots: 8/3 and 4/2 beat 8/2 and 4/3; the largest per-replica load is 8/3.
        int[] counts = new int[3];
        double largest = new Apportionment(3).apportion(new double[] {8, 4, 1}, 3, 6, 8, counts);
        assertThat(counts).containsExactly(3, 2, 1);
        assertThat(largest).isCloseTo(8.0 / 3, within(1e-12));
    }

    @Test
    void capSpreadsTheRestAndZeroLoadRoundRobins() {
        int[] counts = new int[3];
        new Apportionment(3).apportion(new double[] {100, 1, 1}, 3, 9, 4, counts);
        assertThat(counts[0]).isEqualTo(4); // capped at one replica per GPU
        assertThat(counts[1] + counts[2]).isEqualTo(5);
        new Apportionment(3).apportion(new double[] {0, 0, 0}, 3, 7, 4, counts);
        assertThat(counts).containsExactly(3, 2, 2);
    }

    @Test
    void tinyLoadsGetTheCountsOfTheSameLoadsAtAnyScale() {
        // Loads that are small integers times the smallest double: 1 / T overflowed for such a threshold and handed
        // every expert its cap (12 replicas for 7 slots), and float keys flush them to zero; they are now planned
        // scaled up by a power of two, which is exact, so they get the counts of the integers themselves.
        double[] integers = {1, 1, 1};
        double[] tiny = {2e-323, 2e-323, 2e-323};
        assertThat(tiny[0]).isEqualTo(4 * Double.MIN_VALUE);
        int[] counts = new int[3];
        new Apportionment(3).apportion(tiny, 3, 7, 4, counts);
        assertThat(counts).containsExactly(3, 2, 2).containsExactly(naiveGreedy(integers, 7, 4));
        int[] one = new int[1];
        new Apportionment(1).apportion(new double[] {Double.MIN_VALUE}, 1, 2, 3, one);
        assertThat(one).containsExactly(2);
        // Integer loads up to 2^17 scaled by powers of two down to 2^-1057 are exact doubles, subnormal at the end.
        int[] exponents = {-60, -70, -300, -1000, -1057};
        qt().withExamples(300).forAll(integerProblems()).checkAssert(p -> {
            int n = p.load().length;
            int[] expected = naiveGreedy(p.load(), p.slots(), p.cap());
            for (int exponent : exponents) {
                double[] scaled = new double[n];
                for (int e = 0; e < n; e++) {
                    scaled[e] = Math.scalb(p.load()[e], exponent);
                    assertThat(Math.scalb(scaled[e], -exponent)).isEqualTo(p.load()[e]);
                }
                int[] got = new int[n];
                double largest = new Apportionment(1).apportion(scaled, n, p.slots(), p.cap(), got);
                assertThat(got).as("2^%d x %s", exponent, p).containsExactly(expected);
                assertThat(largest).isEqualTo(largest(scaled, got));
            }
        });
    }

    /** Up to 40 integer loads from 0 to 2^17, slots from E to 4E, caps from 1 to 8. */
    private static Gen<Problem> integerProblems() {
        return r -> {
            int n = (int) r.next(Constraint.between(1, 40));
            double[] load = new double[n];
            for (int e = 0; e < n; e++) {
                load[e] = r.next(Constraint.between(0, 1 << 17));
            }
            return new Problem(load, n + (int) r.next(Constraint.between(0, 3L * n)),
                    (int) r.next(Constraint.between(1, 8)));
        };
    }
}
