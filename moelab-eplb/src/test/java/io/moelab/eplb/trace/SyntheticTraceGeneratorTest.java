package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The synthetic generator's structure, checked statistically on fixed seeds. */
class SyntheticTraceGeneratorTest {

    private static SyntheticTraceSpec spec(int layers, int experts, int steps, long seed) {
        return SyntheticTraceSpec.defaults(layers, experts, steps, seed);
    }

    /** A spec with every field given, for tests that vary one aspect at a time. */
    private static SyntheticTraceSpec custom(double sigma, double walk, double revert, int domains, double correlation,
                                             double swing, double period, int steps) {
        return new SyntheticTraceSpec(4, 64, steps, 5, 4096, 6, SyntheticTraceSpec.Skew.LOGNORMAL, sigma, walk, revert,
                20, 0, domains, correlation, period, swing);
    }

    /** A generated trace must be one the readers read back: at most 65,536 experts and 2^24 loads a step. */
    @Test
    void aShapeTheTraceReadersRefuseIsNotGenerated() {
        assertThat(spec(1, 65_536, 1, 1).experts()).isEqualTo(65_536);
        assertThat(spec(256, 65_536, 1, 1).layers()).isEqualTo(256);
        assertThatThrownBy(() -> spec(1, 65_537, 1, 1)).isInstanceOf(InvalidInputException.class)
                .hasMessage("experts: E=65537 is more than a trace is read with (at most 65536, the slots a placement "
                        + "has per layer)");
        assertThatThrownBy(() -> spec(257, 65_536, 1, 1)).isInstanceOf(InvalidInputException.class)
                .hasMessage("experts: L x E = 257 x 65536 = 16842752 loads per step, more than a trace is read with "
                        + "(at most 16777216)");
    }

    @Test
    void aSkewTooStrongToRouteTopKIsRefused() {
        // Lognormal sigma 1000: the softmax leaves a handful of the 64 experts a probability a double holds, fewer
        // than top-6, and a step held fewer than T k picks. Refused, naming the option; sigma 30 routes every pick.
        assertThatThrownBy(() -> SyntheticTraceGenerator.generate(custom(1000, 0, 0, 1, 0, 0, 100, 3)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("skew-param: 1000 is too strong to route: in layer ")
                .hasMessageContaining("fewer than top-6");
        // A random walk or mean-reverting part as wild spreads log-popularity as far, and is named instead of the
        // skew (the message said "skew-param: 1 is too strong" for a sigma left at its default).
        assertThatThrownBy(() -> SyntheticTraceGenerator.generate(custom(1, 1e308, 0.3, 1, 0, 0, 100, 3)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("walk-sigma: 1.0E308 is too strong to route: in layer ")
                .hasMessageContaining(" step 1 only ");
        assertThatThrownBy(() -> SyntheticTraceGenerator.generate(custom(1, 0.02, 1e308, 1, 0, 0, 100, 3)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("revert-std: 1.0E308 is too strong to route: in layer ")
                .hasMessageContaining(" step 0 only ");
        ExpertLoadTrace strong = SyntheticTraceGenerator.generate(custom(30, 0, 0, 1, 0, 0, 100, 3));
        for (int t = 0; t < strong.steps(); t++) {
            LoadMatrix step = strong.step(t);
            for (int l = 0; l < step.layers(); l++) {
                double picks = 0;
                for (int e = 0; e < step.experts(); e++) {
                    picks += step.load(l, e);
                }
                assertThat(picks).as("step %d layer %d", t, l).isEqualTo(4096.0 * 6);
            }
        }
    }

    @Test
    void sameSeedSameTraceOtherSeedOtherTrace() {
        ExpertLoadTrace a = SyntheticTraceGenerator.generate(spec(3, 32, 20, 1));
        ExpertLoadTrace b = SyntheticTraceGenerator.generate(spec(3, 32, 20, 1));
        ExpertLoadTrace c = SyntheticTraceGenerator.generate(spec(3, 32, 20, 2));
        assertThat(a.stepList()).isEqualTo(b.stepList());
        assertThat(a.stepList()).isNotEqualTo(c.stepList());
        assertThat(a.steps()).isEqualTo(20);
        assertThat(a.layers()).isEqualTo(3);
        assertThat(a.experts()).isEqualTo(32);
    }

    @Test
    void everyTokenPicksTopKDistinctExperts() {
        SyntheticTraceSpec s = spec(4, 64, 30, 9).withRouting(1000, 6);
        ExpertLoadTrace t = SyntheticTraceGenerator.generate(s);
        for (LoadMatrix step : t.stepList()) {
            for (int l = 0; l < step.layers(); l++) {
                // k picks per token, so T k in total; an expert is picked at most once per token. The cap at T can
                // only lose picks, and rarely does.
                assertThat(step.layerTotal(l)).isLessThanOrEqualTo(6000).isGreaterThan(0.99 * 6000);
                for (int e = 0; e < step.experts(); e++) {
                    assertThat(step.load(l, e)).isBetween(0.0, 1000.0);
                    assertThat(step.load(l, e)).isEqualTo(Math.rint(step.load(l, e)));
                }
            }
        }
    }

    @Test
    void deadExpertsNeverReceiveTokens() {
        SyntheticTraceSpec s = new SyntheticTraceSpec(3, 100, 40, 4, 4096, 8, SyntheticTraceSpec.Skew.LOGNORMAL, 1.0,
                0.02, 0.3, 20, 0.05, 2, 0.5, 200, 1.5);
        ExpertLoadTrace t = SyntheticTraceGenerator.generate(s);
        LoadMatrix total = t.sum(0, t.steps());
        for (int l = 0; l < t.layers(); l++) {
            int idle = 0;
            for (int e = 0; e < t.experts(); e++) {
                idle += total.load(l, e) == 0 ? 1 : 0;
            }
            assertThat(idle).as("idle experts in layer %d", l).isEqualTo(5);
        }
    }

    @Test
    void layersHaveDifferentHotExperts() {
        ExpertLoadTrace t = SyntheticTraceGenerator.generate(spec(8, 64, 10, 3));
        LoadMatrix total = t.sum(0, t.steps());
        Set<Integer> hottest = new HashSet<>();
        for (int l = 0; l < t.layers(); l++) {
            hottest.add(argmax(total, l));
        }
        assertThat(hottest).hasSizeGreaterThan(4);
    }

    @Test
    void largerSigmaMeansMoreSkew() {
        double mild = maxOverMean(SyntheticTraceGenerator.generate(custom(0.3, 0, 0, 1, 1, 0, 100, 20)));
        double strong = maxOverMean(SyntheticTraceGenerator.generate(custom(1.2, 0, 0, 1, 1, 0, 100, 20)));
        assertThat(mild).isLessThan(2.5);
        assertThat(strong).isGreaterThan(mild * 1.5);
    }

    @Test
    void zipfSkewFollowsRank() {
        SyntheticTraceSpec s = new SyntheticTraceSpec(2, 64, 50, 8, 100_000, 1, SyntheticTraceSpec.Skew.ZIPF, 1.0, 0, 0,
                20, 0, 1, 1, 100, 0);
        LoadMatrix total = SyntheticTraceGenerator.generate(s).sum(0, 50);
        double[] row = new double[64];
        total.copyLayer(0, row);
        java.util.Arrays.sort(row);
        // Popularity ~ 1/rank: the top expert gets about twice the second and three times the third.
        assertThat(row[63] / row[62]).isCloseTo(2.0, within(0.1));
        assertThat(row[63] / row[61]).isCloseTo(3.0, within(0.15));
    }

    @Test
    void driftMovesLoadBetweenWindows() {
        double still = windowChange(SyntheticTraceGenerator.generate(custom(1, 0, 0, 1, 1, 0, 100, 200)));
        double drifting = windowChange(SyntheticTraceGenerator.generate(custom(1, 0.05, 0.5, 1, 1, 0, 100, 200)));
        assertThat(drifting).isGreaterThan(3 * still);
    }

    @Test
    void domainMixtureCycles() {
        // Two unrelated domains swinging with period 80: steps 20 and 60 are opposite phases, 20 and 100 equal.
        ExpertLoadTrace t = SyntheticTraceGenerator.generate(custom(1, 0, 0, 2, 0, 3, 80, 120));
        LoadMatrix a = t.sum(15, 25);
        LoadMatrix opposite = t.sum(55, 65);
        LoadMatrix same = t.sum(95, 105);
        assertThat(distance(a, opposite)).isGreaterThan(3 * distance(a, same));
    }

    @Test
    void mixtureSharesSumToOne() {
        double[][] mix = SyntheticTraceGenerator.domainMixture(custom(1, 0, 0, 3, 0, 2, 50, 100), 0, 50);
        for (double[] shares : mix) {
            assertThat(shares[0] + shares[1] + shares[2]).isCloseTo(1.0, within(1e-12));
        }
    }

    @Test
    void pickProbabilitiesSumToKAndStayBelowOne() {
        qt().withExamples(500).withFixedSeed(1)
                .forAll(lists().of(doubles().between(0, 1)).ofSizeBetween(1, 40), integers().between(1, 40))
                .assuming((weights, k) -> k <= weights.stream().filter(w -> w > 0).count())
                .checkAssert((weights, k) -> {
                    double sum = weights.stream().mapToDouble(Double::doubleValue).sum();
                    double[] p = weights.stream().mapToDouble(w -> w / sum).toArray();
                    double[] q = new double[p.length];
                    SyntheticTraceGenerator.topKPickProbabilities(p, k, q);
                    double total = 0;
                    for (int i = 0; i < q.length; i++) {
                        assertThat(q[i]).isBetween(0.0, 1.0);
                        total += q[i];
                        for (int j = 0; j < q.length; j++) {
                            if (p[i] > p[j]) {
                                assertThat(q[i]).isGreaterThanOrEqualTo(q[j]);
                            }
                        }
                    }
                    assertThat(total).isCloseTo(k, within(1e-9));
                });
    }

    /**
     * Strong skew by hand: one expert holds all but 6e-20 of the mass, so 1 + 6e-20 is 1 in double. It is capped at
     * 1 and the second pick spreads over the rest in proportion, 1/6, 2/6 and 3/6; subtracting the capped mass from
     * the total (the old way) left 0 and gave the others nothing.
     */
    @Test
    void pickProbabilitiesUnderExtremeSkewByHand() {
        double[] q = new double[4];
        SyntheticTraceGenerator.topKPickProbabilities(new double[] {1.0, 1e-20, 2e-20, 3e-20}, 2, q);
        assertThat(q[0]).isEqualTo(1.0);
        assertThat(q[1]).isCloseTo(1 / 6.0, within(1e-12));
        assertThat(q[2]).isCloseTo(2 / 6.0, within(1e-12));
        assertThat(q[3]).isCloseTo(3 / 6.0, within(1e-12));
        // Every expert of four, top-4: each is picked by every token whatever the skew.
        SyntheticTraceGenerator.topKPickProbabilities(new double[] {1.0, 1e-30, 1e-31, 1e-32}, 4, q);
        for (double v : q) {
            assertThat(v).isCloseTo(1.0, within(1e-12));
        }
    }

    @Test
    void binomialDrawsHaveTheRightMoments() {
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(17);
        for (long[] np : List.of(new long[] {100, 10}, new long[] {1_000_000, 300}, new long[] {50, 900})) {
            long n = np[0];
            double p = np[1] / 1000.0;
            int draws = 20_000;
            double sum = 0;
            double sumSq = 0;
            for (int i = 0; i < draws; i++) {
                long x = SyntheticTraceGenerator.binomial(rng, n, p);
                assertThat(x).isBetween(0L, n);
                sum += x;
                sumSq += (double) x * x;
            }
            double mean = sum / draws;
            double variance = sumSq / draws - mean * mean;
            double sd = Math.sqrt(n * p * (1 - p));
            assertThat(mean).as("mean of Bin(%d, %f)", n, p).isCloseTo(n * p, within(5 * sd / Math.sqrt(draws)));
            assertThat(variance).as("variance of Bin(%d, %f)", n, p).isCloseTo(sd * sd, within(0.05 * sd * sd));
        }
    }

    @Test
    void invalidSpecsNameTheOption() {
        assertThatThrownBy(() -> spec(0, 8, 1, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("layers:");
        assertThatThrownBy(() -> spec(1, 8, 1, 0).withRouting(10, 9)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("top-k:");
        assertThatThrownBy(() -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, SyntheticTraceSpec.Skew.LOGNORMAL, 1, 0, 0,
                1, 0.7, 1, 0, 1, 0)).isInstanceOf(InvalidInputException.class).hasMessageStartingWith("zero-fraction:");
        assertThatThrownBy(() -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, SyntheticTraceSpec.Skew.LOGNORMAL,
                Double.NaN, 0, 0, 1, 0, 1, 0, 1, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("skew-param:");
        // Every other range, one field out of range at a time on a valid spec (1, 8, 1, 0, 10, 4, ...).
        var lognormal = SyntheticTraceSpec.Skew.LOGNORMAL;
        Map<String, ThrowingCallable> bad = new LinkedHashMap<>();
        bad.put("experts:", () -> new SyntheticTraceSpec(1, 0, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 0, 1, 0));
        bad.put("steps:", () -> new SyntheticTraceSpec(1, 8, 0, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 0, 1, 0));
        bad.put("tokens-per-step:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 0, 4, lognormal, 1, 0, 0, 1, 0, 1, 0, 1,
                0));
        bad.put("top-k:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 0, lognormal, 1, 0, 0, 1, 0, 1, 0, 1, 0));
        bad.put("domains:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 0, 0, 1, 0));
        bad.put("walk-sigma:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, -1, 0, 1, 0, 1, 0, 1, 0));
        bad.put("revert-std:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, -1, 1, 0, 1, 0, 1, 0));
        bad.put("revert-half-life:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 0, 0, 1, 0, 1,
                0));
        bad.put("domain-period:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 0,
                Double.POSITIVE_INFINITY, 0));
        bad.put("domain-swing:", () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 0, 1,
                -0.5));
        new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 0, 1, 0); // the valid base
        bad.forEach((field, call) -> assertThatThrownBy(call).as(field).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(field));
    }

    @Test
    void invalidSpecsQuoteTheValueAsWritten() {
        // Values were quoted as Java doubles ("got -1.0", "got 0.0", "1.0 leaves...") where the option said -1, 0, 1.
        var lognormal = SyntheticTraceSpec.Skew.LOGNORMAL;
        Map<String, ThrowingCallable> bad = new LinkedHashMap<>();
        bad.put("walk-sigma: must be a finite number >= 0, got -1",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, -1, 0, 1, 0, 1, 0, 1, 0));
        bad.put("skew-param: must be a finite number >= 0, got -0.25",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, -0.25, 0, 0, 1, 0, 1, 0, 1, 0));
        bad.put("revert-half-life: must be a positive number of steps, got 0",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 0, 0, 1, 0, 1, 0));
        bad.put("domain-period: must be a positive number of steps, got -200",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 0, -200, 0));
        bad.put("zero-fraction: must be in [0, 1), got 1",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 1, 1, 0, 1, 0));
        bad.put("zero-fraction: 0.7 leaves fewer live experts than top-k=4",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0.7, 1, 0, 1, 0));
        bad.put("domain-correlation: must be in [0, 1], got 2",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 2, 1, 0));
        bad.put("domain-swing: must be a finite number >= 0, got Infinity",
                () -> new SyntheticTraceSpec(1, 8, 1, 0, 10, 4, lognormal, 1, 0, 0, 1, 0, 1, 0, 1,
                        Double.POSITIVE_INFINITY));
        bad.forEach((message, call) -> assertThatThrownBy(call).isInstanceOf(InvalidInputException.class)
                .hasMessage(message));
    }

    private static int argmax(LoadMatrix m, int layer) {
        int best = 0;
        for (int e = 1; e < m.experts(); e++) {
            if (m.load(layer, e) > m.load(layer, best)) {
                best = e;
            }
        }
        return best;
    }

    private static double maxOverMean(ExpertLoadTrace t) {
        LoadMatrix total = t.sum(0, t.steps());
        double ratio = 0;
        for (int l = 0; l < total.layers(); l++) {
            ratio += total.load(l, argmax(total, l)) / (total.layerTotal(l) / total.experts());
        }
        return ratio / total.layers();
    }

    /** Mean relative change of expert shares between consecutive windows of 20 steps. */
    private static double windowChange(ExpertLoadTrace t) {
        List<LoadMatrix> windows = t.windows(20);
        double change = 0;
        for (int i = 1; i < windows.size(); i++) {
            change += distance(windows.get(i - 1), windows.get(i));
        }
        return change / (windows.size() - 1);
    }

    /** Total-variation distance between the expert shares of two matrices, averaged over layers. */
    private static double distance(LoadMatrix a, LoadMatrix b) {
        double d = 0;
        for (int l = 0; l < a.layers(); l++) {
            double ta = a.layerTotal(l);
            double tb = b.layerTotal(l);
            for (int e = 0; e < a.experts(); e++) {
                d += Math.abs(a.load(l, e) / ta - b.load(l, e) / tb) / 2;
            }
        }
        return d / a.layers();
    }
}
