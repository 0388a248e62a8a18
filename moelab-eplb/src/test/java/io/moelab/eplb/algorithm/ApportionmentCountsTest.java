package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;

import org.junit.jupiter.api.Test;

/**
 * The apportionment's counts, exactly, against a plain restatement of its method: the same bisection start, then
 * greedy additions by linear argmax scans instead of a heap. (The counts need not equal DeepSeek's greedy from
 * one replica each: with ties and zero loads both are optimal but may differ; {@link ApportionmentTest} checks
 * optimality.)
 */
class ApportionmentCountsTest {
    @Test
    void countsEqualThePlainRestatement() {
        Apportionment a = new Apportionment(4); // reused, growing, like a planner's
        qt().withExamples(20000).withFixedSeed(23).forAll(ApportionmentTest.problems()).checkAssert(p -> {
            int n = p.load().length;
            int[] counts = new int[n];
            a.countsOnly(p.load(), n, p.slots(), p.cap(), counts);
            assertThat(counts).containsExactly(reference(p.load(), p.slots(), p.cap()));
            int[] viaPublic = new int[n];
            a.apportion(p.load(), n, p.slots(), p.cap(), viaPublic);
            assertThat(viaPublic).containsExactly(counts);
        });
    }

    static int[] reference(double[] load, int slots, int cap) {
        int n = load.length;
        int[] counts = new int[n];
        cap = Math.max(cap, (slots + n - 1) / n);
        double total = 0;
        double max = 0;
        for (double w : load) {
            total += w;
            max = Math.max(max, w);
        }
        if (slots == n || total <= 0) {
            for (int e = 0; e < n; e++) {
                counts[e] = slots / n + (e < slots % n ? 1 : 0);
            }
            return counts;
        }
        double capBound = max / cap;
        double lo = Math.max(capBound, total / slots);
        double hi = Math.max(capBound, total / (slots - n));
        if (count(load, lo, cap) <= slots) {
            hi = lo;
            lo = 0;
        }
        for (int i = 0; i < 8 && hi - lo > 1e-12 * hi; i++) {
            double mid = 0.5 * (lo + hi);
            if (count(load, mid, cap) <= slots) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        double inverse = 1 / hi;
        int used = 0;
        boolean[] member = new boolean[n];
        for (int e = 0; e < n; e++) {
            int c = Math.min(cap, Math.max(1, (int) Math.ceil(load[e] * inverse)));
            counts[e] = c;
            used += c;
            member[e] = c < cap && load[e] >= lo * c;
        }
        int left = addGreedily(load, member, cap, counts, slots - used);
        if (left > 0) {
            java.util.Arrays.fill(member, true);
            addGreedily(load, member, cap, counts, left);
        }
        return counts;
    }

    private static int addGreedily(double[] load, boolean[] member, int cap, int[] counts, int left) {
        for (; left > 0; left--) {
            int best = -1;
            for (int e = 0; e < load.length; e++) {
                if (member[e] && counts[e] < cap
                        && (best < 0 || load[e] / counts[e] > load[best] / counts[best])) {
                    best = e;
                }
            }
            if (best < 0) {
                break;
            }
            counts[best]++;
        }
        return left;
    }

    private static int count(double[] load, double t, int cap) {
        double inverse = 1 / t;
        int sum = 0;
        for (double w : load) {
            sum += Math.min(cap, Math.max(1, (int) Math.ceil(w * inverse)));
        }
        return sum;
    }
}
