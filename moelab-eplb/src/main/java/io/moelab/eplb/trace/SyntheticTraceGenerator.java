package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Numbers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** Receives progress: steps done out of steps in total. Called from the generating thread. */
    @FunctionalInterface
    public interface Progress {
        /** No reporting. */
        Progress NONE = (done, total) -> { };

        /**
         * Called after each block of steps.
         *
         * @param done  steps generated so far
         * @param total steps in the trace
         */
        void update(int done, int total);
    }

    /** About the bytes of loads one block of steps holds: a few dozen steps of DeepSeek-V3's 58 x 256. */
    private static final long BLOCK_BYTES = 16L << 20;

    private SyntheticTraceGenerator() {
    }

    /** Generates the trace a spec describes. */
    public static ExpertLoadTrace generate(SyntheticTraceSpec spec) {
        return generate(spec, Progress.NONE);
    }

    /**
     * Generates the trace a spec describes, layers in parallel, reporting progress.
     *
     * @param progress told of the work done; {@link Progress#NONE} for no reporting, not null
     */
    public static ExpertLoadTrace generate(SyntheticTraceSpec spec, Progress progress) {
        List<LoadMatrix> steps = new ArrayList<>(spec.steps());
        generate(spec, progress, steps::add);
        return ExpertLoadTrace.of(steps);
    }

    /**
     * Generates the trace a spec describes step by step, giving each step to {@code sink} as it is made and holding
     * only a block of steps: the steps are those {@link #generate(SyntheticTraceSpec)} returns.
     *
     * @param progress told of the work done; {@link Progress#NONE} for no reporting, not null
     */
    public static void generate(SyntheticTraceSpec spec, Progress progress, StepSink sink) {
        generate(spec, blockSteps(spec), progress, sink);
    }

    /**
     * Writes the trace a spec describes atomically, generating it block by block (see
     * {@link TraceFiles#write(Path, TraceFormat, int, int, int, boolean, TraceFiles.Steps)}): the bytes are those of
     * writing {@link #generate(SyntheticTraceSpec)}'s trace, and memory does not grow with the steps.
     *
     * @param progress told of the work done; {@link Progress#NONE} for no reporting, not null
     * @throws InvalidInputException as {@link #generate(SyntheticTraceSpec)}, leaving no file
     * @throws IOException as {@link TraceFiles#write(Path, TraceFormat, int, int, int, boolean, TraceFiles.Steps)}
     */
    public static void write(SyntheticTraceSpec spec, Path path, TraceFormat format, Progress progress)
            throws IOException {
        // Loads are multinomial counts, whole numbers of at most T tokens: the compact format's integer encoding,
        // which its header names before the first value, is known without seeing the trace.
        TraceFiles.write(path, format, spec.layers(), spec.experts(), spec.steps(), true,
                sink -> generate(spec, progress, sink));
    }

    /**
     * Steps generated together, which {@link #generate(SyntheticTraceSpec, Progress, StepSink)} holds besides what its
     * sink keeps: as many as fit in about 16 MiB of loads, at least one, at most the trace's.
     */
    public static int blockSteps(SyntheticTraceSpec spec) {
        long stepBytes = (long) spec.layers() * spec.experts() * Double.BYTES;
        return (int) Math.max(1, Math.min(spec.steps(), BLOCK_BYTES / stepBytes));
    }

    /**
     * Generates in blocks of {@code block} steps: each layer's generator keeps its state and random stream from block
     * to block, so the block size does not change a value.
     */
    static void generate(SyntheticTraceSpec spec, int block, Progress progress, StepSink sink) {
        int layers = spec.layers();
        int experts = spec.experts();
        LayerGenerator[] generators = new LayerGenerator[layers];
        IntStream.range(0, layers).parallel().forEach(l -> generators[l] = new LayerGenerator(spec, l));
        double[][] values = new double[Math.min(block, spec.steps())][layers * experts];
        for (int start = 0; start < spec.steps(); start += block) {
            int from = start;
            int to = Math.min(spec.steps(), from + block);
            double[][] mixture = domainMixture(spec, from, to);
            IntStream.range(0, layers).parallel().forEach(l -> generators[l].run(from, to, mixture, values));
            for (int t = from; t < to; t++) {
                sink.accept(LoadMatrix.ofFlat(layers, experts, values[t - from], "synthetic step " + t));
            }
            progress.update(to, spec.steps());
        }
    }

    /** {@code [step - from][domain]}: each domain's share of traffic in steps {@code [from, to)}. */
    static double[][] domainMixture(SyntheticTraceSpec spec, int from, int to) {
        int domains = spec.domains();
        double[][] mixture = new double[to - from][domains];
        double[] logits = new double[domains];
        for (int t = from; t < to; t++) {
            for (int d = 0; d < domains; d++) {
                logits[d] = spec.domainSwing()
                        * Math.sin(2 * Math.PI * (t / spec.domainPeriod() + (double) d / domains));
            }
            softmax(logits, mixture[t - from]);
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
        private final double decay;
        private final double innovation;
        // Drift carried from step to step, and scratch arrays.
        private final double[] walk;
        private final double[] revert;
        private final double[] shifted;
        private final double[] domainProbs;
        private final double[] probs;
        private final double[] pick;

        LayerGenerator(SyntheticTraceSpec spec, int layer) {
            this.spec = spec;
            this.layer = layer;
            this.rng = RandomGeneratorFactory.of("L64X128MixRandom").create(layerSeed(spec.seed(), layer));
            this.domainLogits = popularity();
            int experts = spec.experts();
            this.decay = Math.pow(2, -1 / spec.revertHalfLife());
            this.innovation = spec.revertStd() * Math.sqrt(1 - decay * decay);
            this.walk = new double[experts];
            this.revert = gaussians(experts);
            for (int e = 0; e < experts; e++) {
                revert[e] *= spec.revertStd(); // start in the stationary distribution
            }
            this.shifted = new double[experts];
            this.domainProbs = new double[experts];
            this.probs = new double[experts];
            this.pick = new double[experts];
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

        /** Steps {@code [from, to)}, continuing from the last step run; {@code out[t - from]} gets step t. */
        void run(int from, int to, double[][] mixture, double[][] out) {
            int experts = spec.experts();
            int domains = spec.domains();
            int base = layer * experts;
            for (int t = from; t < to; t++) {
                java.util.Arrays.fill(probs, 0);
                for (int d = 0; d < domains; d++) {
                    for (int e = 0; e < experts; e++) {
                        shifted[e] = domainLogits[d][e] + walk[e] + revert[e];
                    }
                    softmax(shifted, domainProbs);
                    for (int e = 0; e < experts; e++) {
                        probs[e] += mixture[t - from][d] * domainProbs[e];
                    }
                }
                requireTopKRoutable(probs, t, walk, revert);
                topKPickProbabilities(probs, spec.topK(), pick);
                sampleCounts(pick, out[t - from], base);
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
