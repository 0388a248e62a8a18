package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The forecast's exponentially weighted mean and volatility worked by hand on a tiny history and against a naive
 * reference of the documented recurrence, and its edge cases: one window of history, windows without load.
 */
class LoadForecastByHandTest {
    private static LoadMatrix row(double... loads) {
        return LoadMatrix.of(new double[][] {loads}, "w");
    }

    @Test
    void ewmaAndVolatilityByHand() {
        // Shares (0.25, 0.75), (0.5, 0.5), latest (0.75, 0.25) of 8 tokens. Decay 0.5: f1 = 0.25,
        // f2 = 0.25 + 0.5 (0.5 - 0.25) = 0.375, next = 0.375 + 0.5 (0.75 - 0.375) = 0.5625: 4.5 tokens (3.5 for
        // expert 1). One-step errors of expert 0: 0.25 and 0.375; RMS sqrt((0.0625 + 0.140625) / 2) = 0.3186887,
        // times 8 = 2.5495098 (expert 1's errors are the negatives).
        LoadForecast f = LoadForecast.of(row(6, 2), List.of(row(1, 3), row(2, 2)), 32, 0.5);
        assertThat(f.mean()[0]).containsExactly(new double[] {4.5, 3.5}, within(1e-12));
        double rms = Math.sqrt((0.0625 + 0.140625) / 2) * 8;
        assertThat(f.volatility()[0]).containsExactly(new double[] {rms, rms}, within(1e-12));
        assertThat(f.model()).isEqualTo("ewma(0.5)");
        // maxHistory 1 reads only the latest earlier window: f = 0.5 + 0.5 (0.75 - 0.5) = 0.625, error 0.25.
        LoadForecast one = LoadForecast.of(row(6, 2), List.of(row(1, 3), row(2, 2)), 1, 0.5);
        assertThat(one.mean()[0]).containsExactly(new double[] {5, 3}, within(1e-12));
        assertThat(one.volatility()[0]).containsExactly(new double[] {2, 2}, within(1e-12));
    }

    @Test
    void withOneEarlierWindowEveryDecayErrsAlikeAndTheLastWindowIsKept() {
        // One scored window, forecast by the earlier window whatever the decay: a tie, which goes to the last window
        // (smoothing must beat it by 20%).
        LoadForecast f = LoadForecast.of(row(6, 2), List.of(row(1, 3)), 32, Double.NaN);
        assertThat(f.model()).isEqualTo("last");
        assertThat(f.mean()[0]).containsExactly(new double[] {6, 2}, within(1e-12));
        // Error 0.5 of the shares on each expert, in the latest window's 8 tokens.
        assertThat(f.volatility()[0]).containsExactly(new double[] {4, 4}, within(1e-12));
    }

    @Test
    void aLatestWindowWithoutLoadForecastsNoLoad() {
        LoadForecast f = LoadForecast.of(LoadMatrix.of(new double[][] {{0, 0}, {3, 1}}, "w"),
                List.of(LoadMatrix.of(new double[][] {{1, 3}, {0, 0}}, "w"), LoadMatrix.of(new double[][] {{2, 2},
                        {1, 1}}, "w")), 32, Double.NaN);
        // Layer 0 had load before but none now: forecasts are in the latest window's units, zero.
        assertThat(f.mean()[0]).containsExactly(0, 0);
        assertThat(f.volatility()[0]).containsExactly(0, 0);
        for (double v : f.mean()[1]) {
            assertThat(v).isFinite().isNotNegative();
        }
        for (double v : f.volatility()[1]) {
            assertThat(v).isFinite().isNotNegative();
        }
    }

    /**
     * A window with no load anywhere is skipped. Shares (0.25, 0.75), then latest (0.75, 0.25) of 4 tokens at decay
     * 0.5: f = 0.25 + 0.5 (0.75 - 0.25) = 0.5, i.e. (2, 2) summing to the latest window's 4 tokens; error 0.5, i.e.
     * 2 tokens. Read as shares of 0 the idle window made it (1.75, 1.25), 3 tokens, with volatility 1.8 and 1.5.
     */
    @Test
    void aWindowWithoutAnyLoadIsSkipped() {
        LoadForecast f = LoadForecast.of(row(3, 1), List.of(row(1, 3), row(0, 0)), 32, 0.5);
        assertThat(f.mean()[0]).containsExactly(new double[] {2, 2}, within(1e-12));
        assertThat(f.volatility()[0]).containsExactly(new double[] {2, 2}, within(1e-12));
        // maxHistory counts windows with load: 1 reads (1, 3), not the idle window after it.
        LoadForecast one = LoadForecast.of(row(3, 1), List.of(row(1, 3), row(0, 0), row(0, 0)), 1, 0.5);
        assertThat(one.mean()[0]).containsExactly(new double[] {2, 2}, within(1e-12));
        // Only idle windows before the latest: as with no history, the latest window, model "last".
        LoadForecast none = LoadForecast.of(row(3, 1), List.of(row(0, 0)), 32, Double.NaN);
        assertThat(none.model()).isEqualTo("last");
        assertThat(none.mean()[0]).containsExactly(new double[] {3, 1}, within(1e-12));
        assertThat(none.volatility()[0]).containsExactly(0, 0);
    }

    @Test
    void aFixedDecayFollowsTheRecurrence() {
        qt().withExamples(300).withFixedSeed(53).forAll(integers().all()).checkAssert(s -> {
            SplittableRandom random = new SplittableRandom(s);
            int layers = 1 + random.nextInt(3);
            int experts = 1 + random.nextInt(5);
            int windows = 2 + random.nextInt(8);
            int maxHistory = random.nextInt(windows + 1);
            double decay = 0.05 + random.nextDouble(0.95);
            List<LoadMatrix> all = new ArrayList<>();
            for (int w = 0; w < windows; w++) {
                double[][] x = new double[layers][experts];
                for (double[] r : x) {
                    for (int e = 0; e < experts; e++) {
                        r[e] = random.nextInt(4) == 0 ? 0 : random.nextDouble(100);
                    }
                }
                x[0][0] += 1; // a nonzero total in each layer 0
                all.add(LoadMatrix.of(x, "w"));
            }
            LoadMatrix latest = all.getLast();
            List<LoadMatrix> history = all.subList(0, windows - 1);
            LoadForecast f = LoadForecast.of(latest, history, maxHistory, decay);
            List<LoadMatrix> used = all.subList(windows - 1 - Math.min(maxHistory, windows - 1), windows);
            for (int l = 0; l < layers; l++) {
                for (int e = 0; e < experts; e++) {
                    // f = share of the first window used; then f += a (x - f), the error x - f summed squared.
                    double next = share(used.get(0), l, e);
                    double squared = 0;
                    for (int w = 1; w < used.size(); w++) {
                        double x = share(used.get(w), l, e);
                        squared += (x - next) * (x - next);
                        next += decay * (x - next);
                    }
                    double total = latest.layerTotal(l);
                    assertThat(f.mean()[l][e]).isCloseTo(next * total, within(1e-9 * (1 + total)));
                    double volatility = used.size() > 1 ? Math.sqrt(squared / (used.size() - 1)) * total : 0;
                    assertThat(f.volatility()[l][e]).isCloseTo(volatility, within(1e-9 * (1 + total)));
                }
            }
        });
    }

    private static double share(LoadMatrix m, int l, int e) {
        double total = m.layerTotal(l);
        return total > 0 ? m.load(l, e) / total : 0;
    }
}
