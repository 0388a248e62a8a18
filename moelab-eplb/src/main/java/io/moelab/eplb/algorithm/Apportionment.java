package io.moelab.eplb.algorithm;

import java.util.Arrays;

/**
 * Replica counts that minimize the largest per-replica load: integers {@code 1 <= c_e <= cap} with
 * {@code Σ c_e = slots} and {@code max_e w_e / c_e} as small as possible.
 *
 * <p>DeepSeek's EPLB reaches the same optimum by adding one replica at a time to the current argmax,
 * {@code slots - E} scans of all experts. Here: for a threshold {@code T}, {@code c_e(T) = max(1,
 * ceil(w_e / T))} is the fewest replicas that keep expert e at or below T, and the optimum {@code T*} is the
 * smallest T with {@code Σ c_e(T) <= slots}. Any {@code T >= T*} gives counts no larger than an optimal
 * solution's, so greedy argmax additions from a heap (each O(log E)) starting there reach the optimum.
 * A few bisection steps on T, each a branch-free pass over the experts at or above the first lower bound (the
 * others keep one replica at every T tried), bring the start within a few slots of the end;
 * the greedy then runs over the experts still above the bisection's lower bound (only they can be chosen),
 * usually a handful. O(E log E) at worst, not DeepSeek's O(E (R - E)). Ties between equal per-replica loads
 * go to the lower expert index, as in the reference.
 */
public final class Apportionment {
    /**
     * Bisection steps before the greedy: six measured 3-5% faster than eight on both benchmark shapes (the
     * greedy's few more additions cost less than two passes); the result is the same from any feasible start.
     */
    private static final int BISECTION_STEPS = 6;

    /**
     * Loads whose largest value is below this are planned on a copy scaled by a power of two, which multiplies
     * without rounding, so the counts are those of the loads at any scale. Below it a threshold's reciprocal
     * overflows (1 / T for a subnormal T handed every expert the cap: 12 replicas on 7 slots) and the packer's float
     * keys flush the loads to zero. Token counts and their shares lie far above it.
     */
    static final double TINY = 0x1p-64;

    private int[] heap;
    private int[] members;
    private double[] ratio;
    /** Experts at or above the bisection's first lower bound, and their loads, contiguous. */
    private int[] candidates;
    private double[] candidateLoad;
    /** Tiny loads scaled up ({@link #TINY}). */
    private double[] scaled;

    /** Scratch for up to {@code maxExperts} experts; grows on demand. */
    public Apportionment(int maxExperts) {
        allocate(Math.max(1, maxExperts));
    }

    private void allocate(int n) {
        heap = new int[n];
        members = new int[n];
        ratio = new double[n];
        candidates = new int[n];
        candidateLoad = new double[n];
        scaled = new double[n];
    }

    /**
     * Computes the counts.
     *
     * @param load   non-negative load of experts {@code 0..n-1}
     * @param n      experts
     * @param slots  replicas to hand out, at least {@code n}
     * @param cap    most replicas per expert (more replicas than GPUs cannot lower a GPU's share); raised to
     *               {@code ceil(slots / n)} when the cap could not hold every slot
     * @param counts receives the counts of experts {@code 0..n-1}
     * @return the largest per-replica load {@code max_e w_e / c_e}
     */
    public double apportion(double[] load, int n, int slots, int cap, int[] counts) {
        countsOnly(load, n, slots, cap, counts);
        return largestPerReplica(load, n, counts);
    }

    /**
     * The counts of {@link #apportion} without the largest per-replica load, for callers that divide the loads
     * themselves (the layer planner): saves a pass of divisions and a serial maximum per layer.
     *
     * @return the loads the counts are for: {@code load}, or when its largest is below {@link #TINY} this
     *         apportionment's copy of it scaled by a power of two (valid until the next call), so that the caller's
     *         per-replica loads are those the counts balance
     */
    double[] countsOnly(double[] load, int n, int slots, int cap, int[] counts) {
        // Four partial sums: one would be a serial chain of adds. The total only bounds the bisection below (and
        // the result is exact whatever the bounds), so its last bits do not matter.
        double t0 = 0;
        double t1 = 0;
        double t2 = 0;
        double t3 = 0;
        double max = 0;
        int j = 0;
        for (; j + 3 < n; j += 4) {
            double w0 = load[j];
            double w1 = load[j + 1];
            double w2 = load[j + 2];
            double w3 = load[j + 3];
            t0 += w0;
            t1 += w1;
            t2 += w2;
            t3 += w3;
            // The four by Math.max, then a predictable branch (loads are never NaN) that keeps max off the chain.
            double largest = Math.max(Math.max(w0, w1), Math.max(w2, w3));
            if (largest > max) {
                max = largest;
            }
        }
        for (; j < n; j++) {
            t0 += load[j];
            if (load[j] > max) {
                max = load[j];
            }
        }
        return countsOnly(load, n, slots, cap, counts, (t0 + t1) + (t2 + t3), max);
    }

    /**
     * {@link #countsOnly(double[], int, int, int, int[])} with the loads' sum and largest value already known (the
     * layer planner has them from its group sums): saves a pass over the loads. The sum only bounds the search, so
     * any order of adding gives the same counts.
     */
    double[] countsOnly(double[] load, int n, int slots, int cap, int[] counts, double total, double max) {
        if (slots < n) {
            throw new IllegalArgumentException(slots + " slots for " + n + " experts");
        }
        if (heap.length < n) {
            allocate(n);
        }
        cap = Math.max(cap, (slots + n - 1) / n);
        if (slots == n || total <= 0) {
            // Nothing to balance: one each, extra slots round-robin.
            for (int e = 0; e < n; e++) {
                counts[e] = slots / n + (e < slots % n ? 1 : 0);
            }
            return load;
        }
        if (max < TINY) {
            scaleUp(load, scaled, n, max);
            return countsOnly(scaled, n, slots, cap, counts);
        }
        int extra = slots - n;
        double capBound = max / cap;
        // Invariant: hi is feasible (Σ c(hi) <= slots); lo is not (or is 0), so the greedy never adds at a ratio
        // below lo.
        double lo = Math.max(capBound, total / slots);
        double hi = Math.max(capBound, total / extra);
        if (count(load, n, lo, cap) <= slots) {
            // Feasible already: the cap binds (lo = max / cap), and the greedy hands the slots left over to the
            // other experts at ratios below lo. Bisect below it, or the greedy below would add them one by one
            // (measured: 28 additions per node on 26 x 64 in hierarchical mode, a quarter of its planning time).
            hi = lo;
            lo = 0;
        }
        // At every threshold T >= lo an expert below lo keeps one replica (ceil(w / T) <= 1), so the passes below
        // run over the experts at or above lo only, stored contiguously (branch-free, like the passes themselves).
        // Measured side by side: hierarchical DeepSeek-V3 prefill 8% faster (a node's 64 experts share 8 extra
        // slots, so few pass), global mode 2-3% slower (docs/BENCHMARKS.md).
        int k = 0;
        for (int e = 0; e < n; e++) {
            double w = load[e];
            candidates[k] = e;
            candidateLoad[k] = w;
            k += w >= lo ? 1 : 0;
        }
        int singles = n - k;
        for (int i = 0; i < BISECTION_STEPS && hi - lo > 1e-12 * hi; i++) {
            double mid = 0.5 * (lo + hi);
            int needed = singles + count(candidateLoad, k, mid, cap);
            if (needed <= slots) {
                hi = mid;
                if (needed == slots) {
                    // Every slot used: the greedy would add nothing from here, so further steps cannot change hi's
                    // counts.
                    break;
                }
            } else {
                lo = mid;
            }
        }
        double inverse = 1 / hi;
        Arrays.fill(counts, 0, n, 1);
        int used = singles;
        int m = 0;
        for (int i = 0; i < k; i++) {
            int e = candidates[i];
            double w = candidateLoad[i];
            // T >= max / cap keeps c <= cap; the clamp only undoes rounding at that boundary.
            int c = Math.min(cap, Math.max(1, (int) Math.ceil(w * inverse)));
            counts[e] = c;
            used += c;
            // Only an expert still above the lower bound lo can be the argmax of a greedy step: kept branch-free,
            // since which experts pass is data, not a pattern.
            members[m] = e;
            m += c < cap & w >= lo * c ? 1 : 0;
        }
        int left = addGreedily(load, m, cap, counts, slots - used);
        if (left > 0) {
            // Rounding left slots no candidate could take: finish over every expert below the cap.
            m = 0;
            for (int e = 0; e < n; e++) {
                if (counts[e] < cap) {
                    members[m++] = e;
                }
            }
            addGreedily(load, m, cap, counts, left);
        }
        return load;
    }

    /**
     * Writes {@code src[0..n)} times the power of two that brings {@code max} (their largest, positive) into
     * [1, 2) to {@code dst}, exactly. Applied in two steps: the power can exceed the largest double (2^1074 for the
     * smallest subnormal).
     */
    static void scaleUp(double[] src, double[] dst, int n, double max) {
        // The exponent of max, subnormal or not: max * 2^200 is a normal number for every positive double below 1.
        int k = 200 - Math.getExponent(max * 0x1p200);
        double first = Math.scalb(1.0, Math.min(k, 1000));
        double second = Math.scalb(1.0, k - Math.min(k, 1000));
        for (int e = 0; e < n; e++) {
            dst[e] = src[e] * first * second;
        }
    }

    /**
     * Adds {@code left} replicas one at a time to the member with the highest load per replica (lowest index
     * on ties), from a max-heap of {@code members[0..m)} ordered by the exact double ratios.
     *
     * @return replicas that found no member below the cap
     */
    private int addGreedily(double[] load, int m, int cap, int[] counts, int left) {
        int size = 0;
        for (int i = 0; i < m; i++) {
            int e = members[i];
            if (counts[e] < cap) {
                ratio[e] = load[e] / counts[e];
                heap[size++] = e;
            }
        }
        for (int i = (size >>> 1) - 1; i >= 0; i--) {
            siftDown(i, heap[i], size);
        }
        for (; left > 0 && size > 0; left--) {
            int e = heap[0];
            counts[e]++;
            if (counts[e] < cap) {
                ratio[e] = load[e] / counts[e];
                siftDown(0, e, size);
            } else {
                size--;
                siftDown(0, heap[size], size);
            }
        }
        return left;
    }

    /** True when expert a comes before b: higher ratio, or equal ratio and lower index. */
    private boolean before(int a, int b) {
        return ratio[a] > ratio[b] || (ratio[a] == ratio[b] && a < b);
    }

    private void siftDown(int i, int e, int size) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < size && before(heap[child + 1], heap[child])) {
                child++;
            }
            if (!before(heap[child], e)) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = e;
    }

    private static double largestPerReplica(double[] load, int n, int[] counts) {
        double worst = 0;
        for (int e = 0; e < n; e++) {
            worst = Math.max(worst, load[e] / counts[e]);
        }
        return worst;
    }

    /**
     * Σ min(cap, max(1, ceil(w_e / t))): the fewest slots (at most {@code cap} each) that keep every expert's
     * per-replica load at most t. The int cast saturates and each term is clamped to {@code cap} before the sum,
     * so int arithmetic (which the JIT vectorizes) cannot overflow even for tiny t.
     */
    private static int count(double[] load, int n, double t, int cap) {
        double inverse = 1 / t;
        int sum = 0;
        for (int e = 0; e < n; e++) {
            sum += Math.min(cap, Math.max(1, (int) Math.ceil(load[e] * inverse)));
        }
        return sum;
    }
}
