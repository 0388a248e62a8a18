package io.moelab.runtime.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.longs;

import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1.0f, 3.0f, 2.0f, -1.0f, 3.0f};

    @Test
    void temperatureZeroIsGreedyWithFirstOnTies() {
        assertThat(new Sampler(0, 1, 1).sample(LOGITS)).isEqualTo(1);
        assertThat(Sampler.argmax(new float[] {-5, -2, -2})).isEqualTo(1);
    }

    @Test
    void sameSeedSameDraws() {
        Sampler a = new Sampler(1.0, 0.9, 42);
        Sampler b = new Sampler(1.0, 0.9, 42);
        for (int i = 0; i < 100; i++) {
            assertThat(a.sample(LOGITS)).isEqualTo(b.sample(LOGITS));
        }
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        Sampler s = new Sampler(1.0, 1.0, 7);
        int[] counts = new int[LOGITS.length];
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            counts[s.sample(LOGITS)]++;
        }
        double z = 0;
        for (float v : LOGITS) {
            z += Math.exp(v);
        }
        for (int i = 0; i < LOGITS.length; i++) {
            assertThat(counts[i] / (double) n).isCloseTo(Math.exp(LOGITS[i]) / z,
                    org.assertj.core.data.Offset.offset(0.005));
        }
    }

    /**
     * Other temperatures and nuclei: frequencies follow the softmax of logits / T, cut to the smallest prefix of
     * the tokens by probability whose mass reaches top-p and renormalized there (a naive reference; at T = 1 and
     * top-p = 1 a temperature multiplied instead of divided, or a nucleus left unnormalized, would not show).
     */
    @Test
    void frequenciesFollowTheTemperedNucleus() {
        double[][] settings = {{0.5, 1.0}, {2.0, 1.0}, {0.7, 0.9}, {1.5, 0.95}, {3.0, 0.6}};
        for (double[] setting : settings) {
            double temperature = setting[0];
            double topP = setting[1];
            double[] p = new double[LOGITS.length];
            double z = 0;
            for (int i = 0; i < p.length; i++) {
                p[i] = Math.exp(LOGITS[i] / temperature);
                z += p[i];
            }
            // Tokens by descending probability, lower index first on ties: 1, 4, 2, 0, 3.
            int[] order = {1, 4, 2, 0, 3};
            double[] expected = new double[p.length];
            double mass = 0;
            for (int k = 0; k < order.length && (k == 0 || mass < topP); k++) {
                expected[order[k]] = p[order[k]] / z;
                mass += p[order[k]] / z;
            }
            Sampler s = new Sampler(temperature, topP, 11);
            int[] counts = new int[LOGITS.length];
            int n = 200_000;
            for (int i = 0; i < n; i++) {
                counts[s.sample(LOGITS)]++;
            }
            for (int i = 0; i < LOGITS.length; i++) {
                assertThat(counts[i] / (double) n).as("T=%s top-p=%s token %d", temperature, topP, i)
                        .isCloseTo(expected[i] / mass, org.assertj.core.data.Offset.offset(0.005));
            }
        }
    }

    @Test
    void drawsStayInTheNucleus() {
        // Probabilities at T=1: tokens 1 and 4 hold e^3 each, token 2 e^2; top-p 0.5 keeps just the first of
        // the two most probable, up to 0.79 (their mass is 0.793) keeps tokens 1 and 4.
        qt().forAll(longs().all(), doubles().between(0.01, 0.79)).checkAssert((seed, p) -> {
            int t = new Sampler(1.0, p, seed).sample(LOGITS);
            double z = Math.exp(1) + 2 * Math.exp(3) + Math.exp(2) + Math.exp(-1);
            double top = Math.exp(3) / z;
            if (p <= top) {
                assertThat(t).isEqualTo(1);
            } else {
                assertThat(t).isIn(1, 4);
            }
        });
    }

    /**
     * A nucleus whose mass reaches top-p exactly stops there: four equal logits give probabilities of exactly 1/4,
     * so top-p 1/2 keeps tokens 0 and 1 (equal ones by index) and top-p 3/4 the first three. Going on while the mass
     * was at most top-p took one more token each time; the other cases' masses never hit top-p exactly.
     */
    @Test
    void aNucleusThatReachesTopPExactlyStopsThere() {
        float[] equal = {0.5f, 0.5f, 0.5f, 0.5f};
        for (int size = 1; size <= 4; size++) {
            Sampler s = new Sampler(1.0, size / 4.0, 5);
            int[] counts = new int[equal.length];
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                counts[s.sample(equal)]++;
            }
            for (int t = 0; t < equal.length; t++) {
                if (t < size) {
                    assertThat(counts[t] / (double) n).as("top-p %d/4 token %d", size, t)
                            .isCloseTo(1.0 / size, org.assertj.core.data.Offset.offset(0.02));
                } else {
                    assertThat(counts[t]).as("top-p %d/4 token %d", size, t).isZero();
                }
            }
        }
    }

    /**
     * Logits that define no distribution are refused by name in both modes: greedy decoding of no logits returned
     * token 0, which does not exist; a NaN was skipped by argmax unless it came first (then it won), and at a
     * temperature made every probability NaN, which drew token 0 whatever the logits; every logit at -infinity drew
     * token 0 as well.
     */
    @Test
    void logitsWithoutADistributionAreRefused() {
        for (double temperature : new double[] {0, 1}) {
            Sampler s = new Sampler(temperature, 1, 3);
            assertThatThrownBy(() -> s.sample(new float[0])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("no logits to sample from");
            assertThatThrownBy(() -> s.sample(new float[] {1, Float.NaN, 2}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("logit 1 is NaN");
            assertThatThrownBy(() -> s.sample(new float[] {Float.NaN, 1, 2}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("logit 0 is NaN");
            float[] impossible = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
            assertThatThrownBy(() -> s.sample(impossible)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("every logit is -Infinity: no token can be drawn");
        }
        assertThatThrownBy(() -> Sampler.argmax(new float[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Sampler.argmax(new float[] {Float.NaN, 1}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Infinite logits are the limits of the softmax: tokens at +infinity share all the mass equally (they drew
     * token 0, whose logit was finite, through NaN probabilities), tokens at -infinity (masked) get none.
     */
    /**
     * Logits at the ends of float's range: their difference, past float's range, is taken in double, so a large
     * temperature still gives the lower one its softmax share (subtracted in float it overflowed to -infinity, a
     * share of 0). Here p(1) = 1 / (1 + e^0.6).
     */
    @Test
    void differencesPastFloatRangeKeepTheirShare() {
        float[] logits = {3e38f, -3e38f};
        Sampler s = new Sampler(1e39, 1.0, 11);
        int n = 100_000;
        int ones = 0;
        for (int i = 0; i < n; i++) {
            ones += s.sample(logits);
        }
        assertThat(ones / (double) n).isCloseTo(1 / (1 + Math.exp(0.6)), org.assertj.core.data.Offset.offset(0.01));
    }

    @Test
    void infiniteLogitsAreTheSoftmaxLimits() {
        float inf = Float.POSITIVE_INFINITY;
        qt().forAll(longs().all()).checkAssert(seed -> {
            assertThat(new Sampler(1.0, 1.0, seed).sample(new float[] {1, inf, 2})).isEqualTo(1);
            assertThat(new Sampler(0.5, 0.9, seed).sample(new float[] {-inf, 3, -inf, 2})).isIn(1, 3);
        });
        Sampler s = new Sampler(2.0, 1.0, 9);
        int[] counts = new int[4];
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            counts[s.sample(new float[] {inf, 5, inf, -inf})]++;
        }
        assertThat(counts[1] + counts[3]).isZero();
        assertThat(counts[0] / (double) n).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.02));
        assertThat(new Sampler(0, 1, 1).sample(new float[] {1, inf, inf})).isEqualTo(1);
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new Sampler(-1, 1, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new Sampler(Double.POSITIVE_INFINITY, 1, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> Sampler.requireTemperature(Double.NaN)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> Sampler.requireTopP(Double.NaN)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> new Sampler(1, 0, 0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> new Sampler(1, 1.5, 0)).hasMessageContaining("top-p");
    }
}
