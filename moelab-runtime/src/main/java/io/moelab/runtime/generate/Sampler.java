package io.moelab.runtime.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy at temperature 0, otherwise softmax at the temperature restricted
 * to the nucleus (the most probable tokens whose probabilities reach {@code topP}; every token at top-p 1, drawn
 * by id), drawn from a seeded generator so that a seed repeats a generation. Not thread-safe: every draw advances
 * the one generator.
 */
public final class Sampler {
    private final double temperature;
    private final double topP;
    private final SplittableRandom random;

    /**
     * A sampler with the given settings and its own seeded random draws.
     *
     * @param temperature 0 for greedy decoding, else the softmax temperature
     * @param topP        nucleus mass in (0, 1]
     * @param seed        seed of the draws
     * @throws IllegalArgumentException for a negative temperature or topP outside (0, 1]
     */
    public Sampler(double temperature, double topP, long seed) {
        requireTemperature(temperature);
        requireTopP(topP);
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    /**
     * Checks a temperature as the constructor does, for callers that name the setting at fault.
     *
     * @throws IllegalArgumentException unless it is a finite number, 0 or more
     */
    public static void requireTemperature(double temperature) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number, 0 or more, got " + temperature);
        }
    }

    /**
     * Checks a nucleus mass as the constructor does.
     *
     * @throws IllegalArgumentException unless it is in (0, 1]
     */
    public static void requireTopP(double topP) {
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
    }

    /**
     * The next token. Logits of -infinity (masked tokens) get no probability; where some are +infinity, those share
     * all of it equally (the limits of the softmax).
     *
     * @throws IllegalArgumentException if {@code logits} is empty, holds NaN, or every logit is -infinity
     */
    public int sample(float[] logits) {
        int best = argmax(logits);
        float max = logits[best];
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -Infinity: no token can be drawn");
        }
        if (temperature == 0) {
            return best;
        }
        int n = logits.length;
        boolean infinite = max == Float.POSITIVE_INFINITY;
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            // At +infinity, logits[i] - max is NaN for the infinite ones and -infinity for the others. The difference
            // in double: two finite floats can differ by more than float's range (an extreme mask beside a logit).
            p[i] = infinite ? (logits[i] == max ? 1 : 0) : Math.exp(((double) logits[i] - max) / temperature);
            sum += p[i];
        }
        double pmax = 0;
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
            pmax = Math.max(pmax, p[i]);
        }
        if (topP >= 1) {
            // Every token: nothing to order, so the draw walks them by id (sorting a 151,936-token vocabulary
            // took 60 ms a token, far more than a small model's forward pass).
            double mass = 0;
            for (int i = 0; i < n; i++) {
                mass += p[i];
            }
            double u = random.nextDouble() * mass;
            double acc = 0;
            int last = best;
            for (int i = 0; i < n; i++) {
                acc += p[i];
                if (p[i] > 0) {
                    last = i;
                }
                if (u < acc) {
                    return i;
                }
            }
            return last;
        }
        // The nucleus is a prefix of the tokens by probability, so only the tokens of at least some cutoff need
        // sorting: the cutoff falls until they hold top-p, and where rounding leaves their ordered mass short, the
        // next pass takes every token. Either way the prefix is the one a full sort gives, draw for draw.
        double cutoff = pmax;
        for (int pass = 0; ; pass++) {
            cutoff = pass >= 6 ? 0 : cutoff / 16;
            double held = 0;
            int count = 0;
            for (int i = 0; i < n; i++) {
                if (p[i] >= cutoff) {
                    held += p[i];
                    count++;
                }
            }
            if (held < topP && cutoff > 0) {
                continue;
            }
            Integer[] order = new Integer[count];
            for (int i = 0, k = 0; i < n; i++) {
                if (p[i] >= cutoff) {
                    order[k++] = i;
                }
            }
            Arrays.sort(order, (a, b) -> p[b] != p[a] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
            // The nucleus: the smallest prefix of the sorted tokens whose mass reaches topP.
            int size = 0;
            double mass = 0;
            while (size < count && (size == 0 || mass < topP)) {
                mass += p[order[size++]];
            }
            if (size == count && mass < topP && count < n) {
                cutoff = 0;
                pass = 6;
                continue;
            }
            double u = random.nextDouble() * mass;
            double acc = 0;
            for (int i = 0; i < size; i++) {
                acc += p[order[i]];
                if (u < acc) {
                    return order[i];
                }
            }
            return order[size - 1];
        }
    }

    /**
     * The index of the largest logit (the first on ties).
     *
     * @throws IllegalArgumentException if {@code logits} is empty or holds NaN, which has no place in the order
     */
    public static int argmax(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("no logits to sample from");
        }
        int best = 0;
        float bestValue = logits[0];
        boolean nan = bestValue != bestValue;
        for (int i = 1; i < logits.length; i++) {
            float v = logits[i];
            if (v > bestValue) {
                best = i;
                bestValue = v;
            } else if (v != v) {
                nan = true;
            }
        }
        if (nan) {
            int at = 0;
            while (!Float.isNaN(logits[at])) {
                at++;
            }
            throw new IllegalArgumentException("logit " + at + " is NaN");
        }
        return best;
    }
}
