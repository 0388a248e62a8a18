package io.moelab.runtime.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy at temperature 0, otherwise softmax at the temperature restricted
 * to the nucleus (the most probable tokens whose probabilities reach {@code topP}), drawn from a seeded
 * generator so that a seed repeats a generation.
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

    /** The next token. */
    public int sample(float[] logits) {
        if (temperature == 0) {
            return argmax(logits);
        }
        int n = logits.length;
        float max = logits[argmax(logits)];
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            p[i] /= sum;
        }
        Arrays.sort(order, (a, b) -> a.equals(b) ? 0 : p[b] != p[a] ? Double.compare(p[b], p[a]) : a - b);
        // The nucleus: the smallest prefix of the sorted tokens whose mass reaches topP.
        int size = 0;
        double mass = 0;
        while (size < n && (size == 0 || mass < topP)) {
            mass += p[order[size++]];
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

    /** The index of the largest logit (the first on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
