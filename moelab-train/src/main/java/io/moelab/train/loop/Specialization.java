package io.moelab.train.loop;

import io.moelab.runtime.trace.ExpertLoadRecorder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Whether experts specialize by domain, per MoE layer: the mean total-variation distance between the expert
 * distributions of two domains ({@code 0.5 * sum_e |p_e - q_e|}: 0 when they route alike, 1 when they use
 * disjoint experts), next to the same distance between two halves of one domain's text (even and odd validation
 * windows), which is what sampling noise alone gives. Routing differs by domain where the first clearly exceeds
 * the second.
 *
 * @param betweenDomains per layer, mean distance over pairs of domains (NaN for a single domain)
 * @param withinDomain   per layer, mean distance between the halves of a domain, over the domains with two or more
 *                       validation windows (NaN when none has)
 */
public record Specialization(double[] betweenDomains, double[] withinDomain) {

    /**
     * Measures specialization from the assignment counts of each domain's two halves.
     *
     * @param halvesByDomain per domain, [half][layer][expert] assignment counts
     */
    public static Specialization of(Map<String, long[][][]> halvesByDomain) {
        List<long[][][]> domains = new ArrayList<>(halvesByDomain.values());
        if (domains.isEmpty()) {
            return new Specialization(new double[0], new double[0]);
        }
        int layers = domains.getFirst()[0].length;
        double[] between = new double[layers];
        double[] within = new double[layers];
        for (int l = 0; l < layers; l++) {
            List<double[]> whole = new ArrayList<>();
            double w = 0;
            int split = 0;
            for (long[][][] d : domains) {
                whole.add(ExpertLoadRecorder.shares(sum(d[0][l], d[1][l])));
                // A domain of one window has an empty second half, whose all-zero shares are 0.5 from any
                // distribution: that is no measure of noise, so such a domain is left out.
                if (Arrays.stream(d[0][l]).sum() > 0 && Arrays.stream(d[1][l]).sum() > 0) {
                    w += distance(ExpertLoadRecorder.shares(d[0][l]), ExpertLoadRecorder.shares(d[1][l]));
                    split++;
                }
            }
            within[l] = split == 0 ? Double.NaN : w / split;
            double b = 0;
            int pairs = 0;
            for (int i = 0; i < whole.size(); i++) {
                for (int j = i + 1; j < whole.size(); j++) {
                    b += distance(whole.get(i), whole.get(j));
                    pairs++;
                }
            }
            // One domain has no pair: not 0, which would say domains route alike.
            between[l] = pairs == 0 ? Double.NaN : b / pairs;
        }
        return new Specialization(between, within);
    }

    /** Total-variation distance of two distributions over the same experts. */
    static double distance(double[] p, double[] q) {
        double d = 0;
        for (int i = 0; i < p.length; i++) {
            d += Math.abs(p[i] - q[i]);
        }
        return d / 2;
    }

    private static long[] sum(long[] a, long[] b) {
        long[] s = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }
}
