package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import java.util.stream.IntStream;

/**
 * Generates expert-load traces with the structure seen in served MoE models, deterministically by seed.
 *
 * <p>Model, per layer (each layer has its own random stream, so layers differ and generate in parallel):
 * <ul>
 *   <li>each domain d has a log-popularity per expert, {@code g = sqrt(rho) a + sqrt(1 - rho) b_d} with shared
 *       {@code a} and domain-specific {@code b_d} standard normal: domains prefer correlated but different
 *       experts, and every layer has its own hot experts. Lognormal skew uses {@code sigma g}; Zipf skew ranks
 *       experts by {@code g} and uses {@code -s ln(rank)};</li>
 *   <li>a fixed set of dead experts receives no tokens;</li>
 *   <li>log-popularity drifts by a random walk plus a mean-reverting (Ornstein-Uhlenbeck) deviation shared by
 *       all domains;</li>
 *   <li>the domain mixture cycles: domain d's share is a softmax over domains of
 *       {@code swing sin(2 pi t / period + 2 pi d / D)}, so traffic moves between, say, chat and math;</li>
 *   <li>routing probabilities are the mixture of the domains' softmaxes; top-k routing makes the chance that
 *       a token picks expert e {@code q_e = min(1, c p_e)} with c such that {@code sum q = k}; the step's
 *       counts are a multinomial draw of {@code T k} routings with probabilities {@code q / k}, each count
 *       capped at T (an expert is picked at most once per token).</li>
 * </ul>
 */
public final class SyntheticTraceGenerator {

    /** Receives progress: layers done out of layers in total. May be called from several threads. */
    @FunctionalInterface
    public interface Progress {
        /** No reporting. */
        Progress NONE = (done, total) -> { };

        /** Called after each layer. */
        void update(int done, int total);
    }

    private SyntheticTraceGenerator() {
    }

    /** Generates the trace a spec describes. */
    public static ExpertLoadTrace generate(SyntheticTraceSpec spec) {
        return generate(spec, Progress.NONE);
    }

    /** Generates the trace a spec describes, layers in parallel, reporting progress. */
    public static ExpertLoadTrace generate(SyntheticTraceSpec spec, Progress progress) {
        int cells = spec.layers() * spec.experts();
        double[][] values = new double[spec.steps()][cells];
        double[][] mixture = domainMixture(spec);
        AtomicInteger done = new AtomicInteger();
        IntStream.range(0, spec.layers()).parallel().forEach(l -> {
            new LayerGenerator(spec, l).run(mixture, values);
            progress.update(done.incrementAndGet(), spec.layers());
        });
        List<LoadMatrix> steps = new ArrayList<>(spec.steps());
        for (int t = 0; t < spec.steps(); t++) {
            steps.add(LoadMatrix.ofFlat(spec.layers(), spec.experts(), values[t], "synthetic step " + t));
            values[t] = null; // let the copy replace it
        }
        return ExpertLoadTrace.of(steps);
    }

    /** {@code [step][domain]}: each domain's share of traffic. */
    static double[][] domainMixture(SyntheticTraceSpec spec) {
        int domains = spec.domains();
        double[][] mixture = new double[spec.steps()][domains];
        double[] logits = new double[domains];
        for (int t = 0; t < spec.steps(); t++) {
            for (int d = 0; d < domains; d++) {
                logits[d] = spec.domainSwing()
                        * Math.sin(2 * Math.PI * (t / spec.domainPeriod() + (double) d / domains));
            }
            softmax(logits, mixture[t]);
        }
        return mixture;
    }

    private static void softmax(double[] logits, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
    }

    /** A stream seed for one layer: SplitMix64 of the spec's seed and the layer. */
    static long layerSeed(long seed, int layer) {
        long z = seed + 0x9E3779B97F4A7C15L * (layer + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** One layer's state and random stream. */
    private static final class LayerGenerator {
        private final SyntheticTraceSpec spec;
        private final int layer;
        private final RandomGenerator rng;
        private final double[][] domainLogits; // [domain][expert], -inf for dead experts

        LayerGenerator(SyntheticTraceSpec spec, int layer) {
            this.spec = spec;
            this.layer = layer;
            this.rng = RandomGeneratorFactory.of("L64X128MixRandom").create(layerSeed(spec.seed(), layer));
            this.domainLogits = popularity();
        }

        private double[][] popularity() {
            int experts = spec.experts();
            double rho = spec.domainCorrelation();
            double[] shared = gaussians(experts);
            double[][] logits = new double[spec.domains()][experts];
            for (int d = 0; d < spec.domains(); d++) {
                double[] own = gaussians(experts);
                double[] g = new double[experts];
                for (int e = 0; e < experts; e++) {
                    g[e] = Math.sqrt(rho) * shared[e] + Math.sqrt(1 - rho) * own[e];
                }
                switch (spec.skew()) {
                    case LOGNORMAL -> {
                        for (int e = 0; e < experts; e++) {
                            logits[d][e] = spec.skewParameter() * g[e];
                        }
                    }
                    case ZIPF -> {
                        Integer[] order = new Integer[experts];
                        for (int e = 0; e < experts; e++) {
                            order[e] = e;
                        }
                        java.util.Arrays.sort(order, (x, y) -> Double.compare(g[y], g[x]));
                        for (int r = 0; r < experts; r++) {
                            logits[d][order[r]] = -spec.skewParameter() * Math.log(r + 1.0);
                        }
                    }
                }
            }
            // Dead experts: a random subset, the same in every domain.
            int[] perm = new int[experts];
            for (int e = 0; e < experts; e++) {
                perm[e] = e;
            }
            for (int i = 0; i < spec.deadExperts(); i++) {
                int j = i + rng.nextInt(experts - i);
                int tmp = perm[i];
                perm[i] = perm[j];
                perm[j] = tmp;
                for (double[] row : logits) {
                    row[perm[i]] = Double.NEGATIVE_INFINITY;
                }
            }
            return logits;
        }

        private double[] gaussians(int n) {
            double[] g = new double[n];
            for (int i = 0; i < n; i++) {
                g[i] = rng.nextGaussian();
            }
            return g;
        }

        void run(double[][] mixture, double[][] out) {
            int experts = spec.experts();
            int domains = spec.domains();
            double decay = Math.pow(2, -1 / spec.revertHalfLife());
            double innovation = spec.revertStd() * Math.sqrt(1 - decay * decay);
            double[] walk = new double[experts];
            double[] revert = gaussians(experts);
            for (int e = 0; e < experts; e++) {
                revert[e] *= spec.revertStd(); // start in the stationary distribution
            }
            double[] shifted = new double[experts];
            double[] domainProbs = new double[experts];
            double[] probs = new double[experts];
            double[] pick = new double[experts];
            int base = layer * experts;
            for (int t = 0; t < spec.steps(); t++) {
                java.util.Arrays.fill(probs, 0);
                for (int d = 0; d < domains; d++) {
                    for (int e = 0; e < experts; e++) {
                        shifted[e] = domainLogits[d][e] + walk[e] + revert[e];
                    }
                    softmax(shifted, domainProbs);
                    for (int e = 0; e < experts; e++) {
                        probs[e] += mixture[t][d] * domainProbs[e];
                    }
                }
                requireTopKRoutable(probs, t, walk, revert);
                topKPickProbabilities(probs, spec.topK(), pick);
                sampleCounts(pick, out[t], base);
                for (int e = 0; e < experts; e++) {
                    walk[e] += spec.walkSigma() * rng.nextGaussian();
                    revert[e] = decay * revert[e] + innovation * rng.nextGaussian();
                }
            }
        }

        /**
         * Refuses a step whose routing probabilities underflowed to zero for all but fewer than k experts: its tokens
         * could not pick k distinct experts, and the step would hold fewer than T k picks (a lognormal skew of 1000
         * kept 2 live experts of 16 under top-8). Only such extreme skews reach it; every other trace is unchanged.
         */
        private void requireTopKRoutable(double[] probs, int step, double[] walk, double[] revert) {
            int live = 0;
            for (double p : probs) {
                live += p > 0 ? 1 : 0;
            }
            if (live < spec.topK()) {
                // Named after the part of log-popularity that spreads the experts the most: a huge walk or revert
                // std was blamed on the skew, which the user had left at its default.
                double skew = 0;
                for (double[] logits : domainLogits) {
                    skew = Math.max(skew, spread(logits, logits));
                }
                double walked = spread(walk, domainLogits[0]);
                double reverted = spread(revert, domainLogits[0]);
                String field = "skew-param";
                double value = spec.skewParameter();
                if (walked > skew && walked >= reverted) {
                    field = "walk-sigma";
                    value = spec.walkSigma();
                } else if (reverted > skew && reverted > walked) {
                    field = "revert-std";
                    value = spec.revertStd();
                }
                throw new InvalidInputException(field, Numbers.plain(value)
                        + " is too strong to route: in layer " + layer + " step " + step + " only " + live + " of "
                        + probs.length + " experts have a routing probability a double holds, fewer than top-"
                        + spec.topK());
            }
        }

        /**
         * Max minus min of {@code values} over the live experts (finite in {@code logits}; dead ones are -inf in every
         * domain); infinite where a value is not finite.
         */
        private static double spread(double[] values, double[] logits) {
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int e = 0; e < values.length; e++) {
                if (logits[e] == Double.NEGATIVE_INFINITY) {
                    continue;
                }
                if (!Double.isFinite(values[e])) {
                    return Double.POSITIVE_INFINITY;
                }
                min = Math.min(min, values[e]);
                max = Math.max(max, values[e]);
            }
            return max >= min ? max - min : 0;
        }

        /** Multinomial draw of T k routings with probabilities pick / k, each expert capped at T. */
        private void sampleCounts(double[] pick, double[] out, int base) {
            long remaining = (long) spec.tokensPerStep() * spec.topK();
            double mass = spec.topK();
            for (int e = 0; e < pick.length; e++) {
                if (pick[e] <= 0 || remaining == 0) {
                    out[base + e] = 0;
                    continue;
                }
                double p = mass > pick[e] ? pick[e] / mass : 1.0;
                long n = Math.min(binomial(rng, remaining, p), spec.tokensPerStep());
                out[base + e] = n;
                remaining -= n;
                mass -= pick[e];
            }
        }
    }

    /**
     * The chance that a token routed to k distinct experts picks each expert: {@code min(1, c p_e)} with c
     * chosen so that the chances sum to k (water-filling: an expert cannot be picked twice by one token).
     */
    static void topKPickProbabilities(double[] p, int k, double[] out) {
        int n = p.length;
        boolean[] capped = new boolean[n];
        int cappedCount = 0;
        double freeMass = 0;
        for (double v : p) {
            freeMass += v;
        }
        double total = freeMass;
        double c;
        boolean changed;
        do {
            changed = false;
            c = cappedCount >= k || freeMass <= 0 ? 0 : (k - cappedCount) / freeMass;
            for (int e = 0; e < n; e++) {
                if (!capped[e] && p[e] > 0 && c * p[e] >= 1) {
                    capped[e] = true;
                    cappedCount++;
                    freeMass -= p[e];
                    changed = true;
                }
            }
            if (changed && freeMass < total * 0x1p-20) {
                // Under strong skew the capped experts hold nearly all the mass and the subtraction cancels to
                // zero or below, which gave every other expert c = 0 (a zipf 40 trace kept 12,095-16,451 of 32,768
                // picks a step): sum the rest afresh. Only then, because any change to c in its last bits changes
                // the draws that follow, and every synthetic trace in the docs and tests would be drawn anew.
                freeMass = 0;
                for (int e = 0; e < n; e++) {
                    if (!capped[e]) {
                        freeMass += p[e];
                    }
                }
            }
        } while (changed);
        for (int e = 0; e < n; e++) {
            out[e] = capped[e] ? 1 : c * p[e];
        }
    }

    /**
     * A Binomial(n, p) draw: exact inversion when the mean is small, the normal approximation (rounded,
     * clamped) otherwise.
     */
    static long binomial(RandomGenerator rng, long n, double p) {
        if (n <= 0 || p <= 0) {
            return 0;
        }
        if (p >= 1) {
            return n;
        }
        if (p > 0.5) {
            return n - binomial(rng, n, 1 - p);
        }
        double mean = n * p;
        if (mean < 30) {
            double q = 1 - p;
            double s = p / q;
            double a = (n + 1) * s;
            double r = Math.pow(q, n);
            double u = rng.nextDouble();
            long x = 0;
            while (u > r && x < n) {
                u -= r;
                x++;
                r *= a / x - s;
            }
            return x;
        }
        double x = Math.rint(mean + Math.sqrt(mean * (1 - p)) * rng.nextGaussian());
        return (long) Math.max(0, Math.min(n, x));
    }
}
