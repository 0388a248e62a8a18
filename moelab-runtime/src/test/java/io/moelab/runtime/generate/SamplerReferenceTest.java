package io.moelab.runtime.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The sampler against a naive float64 reference written here from the documented rule: softmax of logits / T, the
 * nucleus as transformers' TopPLogitsWarper keeps it (by probability, equal ones by lower id, up to and including
 * the token that brings the mass to top-p, at least one), one {@code SplittableRandom.nextDouble()} per token over
 * the nucleus's mass. Top-p 1 keeps every token, as transformers, which skips the warper then; the draw walks the
 * tokens by id, there being no nucleus to order.
 */
class SamplerReferenceTest {
    /** The reference's draw, naive: every token's probability, a full sort, a linear walk. */
    private static int reference(float[] logits, double t, double topP, SplittableRandom random) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(((double) logits[i] - max) / t);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        int size = n;
        if (topP < 1) {
            Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
            double mass = 0;
            size = 0;
            while (size < n && (size == 0 || mass < topP)) {
                mass += p[order[size++]];
            }
        }
        double mass = 0;
        for (int i = 0; i < size; i++) {
            mass += p[order[i]];
        }
        double u = random.nextDouble() * mass;
        double acc = 0;
        int last = order[0];
        for (int i = 0; i < size; i++) {
            acc += p[order[i]];
            if (p[order[i]] > 0) {
                last = order[i];
            }
            if (u < acc) {
                return order[i];
            }
        }
        return last;
    }

    /** Random logits of a vocabulary large and peaked enough that the nucleus is a small part of it, ties too. */
    private static float[] logits(Random r, int n) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (r.nextGaussian() * 3);
        }
        for (int i = 0; i < n / 10; i++) {
            l[r.nextInt(n)] = l[r.nextInt(n)];
        }
        l[r.nextInt(n)] = Float.NEGATIVE_INFINITY;
        return l;
    }

    @Test
    void drawsAreTheReferencesForTheSameSeed() {
        Random r = new Random(3);
        for (double topP : new double[] {0.05, 0.5, 0.9, 0.999, 1}) {
            for (double t : new double[] {0.3, 1, 4}) {
                Sampler s = new Sampler(t, topP, 17);
                SplittableRandom ref = new SplittableRandom(17);
                for (int k = 0; k < 40; k++) {
                    float[] l = logits(r, 2 + r.nextInt(3000));
                    assertThat(s.sample(l)).as("top-p %s, T %s, draw %d", topP, t, k)
                            .isEqualTo(reference(l, t, topP, ref));
                }
            }
        }
    }

    @Test
    void logitsFarFromZeroDrawAsTheReferencesDo() {
        // Logits near +-1000 overflow exp() unless the largest is taken off first; the draws must not change.
        Random r = new Random(5);
        for (float offset : new float[] {1000, -1000}) {
            for (double topP : new double[] {0.5, 1}) {
                for (double t : new double[] {0.3, 1}) {
                    Sampler s = new Sampler(t, topP, 23);
                    SplittableRandom ref = new SplittableRandom(23);
                    for (int k = 0; k < 20; k++) {
                        float[] l = logits(r, 2 + r.nextInt(500));
                        for (int i = 0; i < l.length; i++) {
                            l[i] += offset;
                        }
                        assertThat(s.sample(l)).as("offset %s, top-p %s, T %s, draw %d", offset, topP, t, k)
                                .isEqualTo(reference(l, t, topP, ref));
                    }
                }
            }
        }
    }

    /**
     * Top-p values where rounding decides: each the mass of the tokens down to some probability summed in id order
     * (the order a search over the vocabulary adds them in, which the sorted nucleus's sum can miss by an ulp), one
     * ulp either side, and the largest double below 1 (the whole vocabulary's rounded mass can fall short of it).
     * The nucleus must still be the full sort's, draw for draw, and a draw must come out.
     */
    @Test
    void topPAtTheRoundedMassesDrawsAsTheReferenceDoes() {
        Random r = new Random(11);
        int cases = 0;
        for (int k = 0; k < 400; k++) {
            float[] l = logits(r, 2 + r.nextInt(400));
            double t = k % 2 == 0 ? 1 : 2.5;
            double[] p = probabilities(l, t);
            double[] sorted = p.clone();
            Arrays.sort(sorted);
            List<Double> topPs = new ArrayList<>(List.of(Math.nextDown(1.0)));
            for (int j = 0; j < 4; j++) {
                double cutoff = sorted[sorted.length - 1 - r.nextInt(Math.min(sorted.length, 60))];
                double held = 0;
                for (double v : p) {
                    if (v >= cutoff) {
                        held += v;
                    }
                }
                for (double topP : new double[] {held, Math.nextDown(held), Math.nextUp(held)}) {
                    if (topP > 0 && topP <= 1) {
                        topPs.add(topP);
                    }
                }
            }
            for (double topP : topPs) {
                long seed = r.nextLong();
                Sampler s = new Sampler(t, topP, seed);
                SplittableRandom ref = new SplittableRandom(seed);
                for (int d = 0; d < 3; d++) {
                    assertThat(s.sample(l)).as("case %d, top-p %s, draw %d", k, topP, d)
                            .isEqualTo(reference(l, t, topP, ref));
                    cases++;
                }
            }
        }
        assertThat(cases).isGreaterThan(10_000);
    }

    /** Softmax of logits / T in float64, as {@link #reference} computes it. */
    private static double[] probabilities(float[] logits, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(((double) logits[i] - max) / t);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * Chi-square over 200,000 draws with a fixed seed against the probabilities worked out by hand-sized steps: a
     * hand-made vector of seven logits, one masked, two tied. The statistic must stay under the 0.1% critical value
     * for its degrees of freedom (so a wrong distribution fails, and this seed's sample does not).
     */
    @Test
    void frequenciesPassAChiSquareTest() {
        float[] l = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f, Float.NEGATIVE_INFINITY, 1.0f};
        // 0.1% critical values of chi-square for 1 to 6 degrees of freedom.
        double[] critical = {10.828, 13.816, 16.266, 18.467, 20.515, 22.458};
        for (double topP : new double[] {0.5, 0.8, 0.95, 1}) {
            double t = 0.7;
            double[] w = new double[l.length];
            double z = 0;
            for (int i = 0; i < l.length; i++) {
                w[i] = Math.exp(l[i] / t);
                z += w[i];
            }
            // Order by probability: 0, then 1 and 6 (tied, lower id first), 2, 3, 4, and the masked 5.
            int[] byP = {0, 1, 6, 2, 3, 4, 5};
            double kept = 0;
            int size = 0;
            while (size < byP.length && (size == 0 || kept < topP)) {
                kept += w[byP[size++]] / z;
            }
            double[] expected = new double[l.length];
            for (int i = 0; i < size; i++) {
                expected[byP[i]] = w[byP[i]] / z / kept;
            }
            Sampler s = new Sampler(t, topP, 2026);
            int n = 200_000;
            long[] counts = new long[l.length];
            for (int i = 0; i < n; i++) {
                counts[s.sample(l)]++;
            }
            double chi = 0;
            int cells = 0;
            for (int i = 0; i < l.length; i++) {
                if (expected[i] == 0) {
                    assertThat(counts[i]).as("top-p %s token %d outside the nucleus", topP, i).isZero();
                } else {
                    double e = expected[i] * n;
                    chi += (counts[i] - e) * (counts[i] - e) / e;
                    cells++;
                }
            }
            if (cells > 1) {
                assertThat(chi).as("top-p %s: %s", topP, Arrays.toString(counts)).isLessThan(critical[cells - 2]);
            }
        }
    }
}
