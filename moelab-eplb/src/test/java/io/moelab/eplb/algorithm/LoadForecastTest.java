package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The forecast picks the model that fits the history's structure. */
class LoadForecastTest {

    /** Windows of one layer, expert shares from a function of the window index plus multiplicative noise. */
    private static List<LoadMatrix> windows(int n, java.util.function.BiFunction<Integer, Integer, Double> share,
                                            double noise, long seed) {
        Random rng = new Random(seed);
        List<LoadMatrix> out = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            double[] row = new double[16];
            for (int e = 0; e < 16; e++) {
                row[e] = 1000 * share.apply(w, e) * Math.exp(noise * rng.nextGaussian());
            }
            out.add(LoadMatrix.of(new double[][] {row}, "w"));
        }
        return out;
    }

    private static LoadForecast forecast(List<LoadMatrix> w) {
        return LoadForecast.of(w.getLast(), w.subList(0, w.size() - 1), 32, Double.NaN);
    }

    @Test
    void withoutHistoryTheForecastIsTheLatestWindow() {
        LoadMatrix only = LoadMatrix.of(new double[][] {{3, 1}}, "w");
        LoadForecast f = LoadForecast.of(only, List.of(), 32, Double.NaN);
        assertThat(f.mean()[0]).containsExactly(3, 1);
        assertThat(f.volatility()[0]).containsExactly(0, 0);
        assertThat(f.model()).isEqualTo("last");
    }

    @Test
    void stationaryNoiseIsAveraged() {
        List<LoadMatrix> w = windows(30, (t, e) -> 1.0 + e, 0.3, 1);
        LoadForecast f = forecast(w);
        assertThat(f.model()).startsWith("ewma(");
        // The average is closer to the true shares than the last window is.
        double errForecast = 0;
        double errLast = 0;
        double total = 0;
        double lastTotal = w.getLast().layerTotal(0);
        for (int e = 0; e < 16; e++) {
            total += f.mean()[0][e];
        }
        for (int e = 0; e < 16; e++) {
            double truth = (1.0 + e) / 136.0;
            errForecast += Math.abs(f.mean()[0][e] / total - truth);
            errLast += Math.abs(w.getLast().load(0, e) / lastTotal - truth);
        }
        assertThat(errForecast).isLessThan(errLast / 2);
        assertThat(f.volatility()[0][15]).isGreaterThan(0);
    }

    /**
     * On six windows (no seasonal candidate fits) the choice is the least one-step squared error of the shares, a
     * smoothing decay's error counted 1.2 times: a naive reference of that rule over random histories, drawn so
     * that smoothing wins outright, wins by less than the margin (then the last window is kept), or loses.
     */
    @Test
    void smoothingMustBeatTheLastWindowByTwentyPercent() {
        int keptLast = 0;
        int smoothed = 0;
        int withinMargin = 0;
        Random rng = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            double noise = 0.05 + 0.5 * rng.nextDouble();
            double drift = rng.nextDouble() * 0.6;
            double[] level = new double[16];
            for (int e = 0; e < 16; e++) {
                level[e] = 1 + e;
            }
            List<LoadMatrix> w = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                double[] row = new double[16];
                for (int e = 0; e < 16; e++) {
                    level[e] *= Math.exp(drift * rng.nextGaussian());
                    row[e] = 1000 * level[e] * Math.exp(noise * rng.nextGaussian());
                }
                w.add(LoadMatrix.of(new double[][] {row}, "w"));
            }
            // Reference: shares, then each decay's one-step errors on windows 1..5.
            double[][] x = new double[6][16];
            for (int t = 0; t < 6; t++) {
                double total = w.get(t).layerTotal(0);
                for (int e = 0; e < 16; e++) {
                    x[t][e] = w.get(t).load(0, e) / total;
                }
            }
            String expected = null;
            double best = Double.POSITIVE_INFINITY;
            double lastError = 0;
            double bestSmoothing = Double.POSITIVE_INFINITY;
            for (double a : LoadForecast.DECAYS) {
                double error = ewmaError(x, a, 1);
                if (a == 1.0) {
                    lastError = error;
                } else {
                    bestSmoothing = Math.min(bestSmoothing, error);
                }
                double counted = a == 1.0 ? error : 1.2 * error;
                if (counted < best) {
                    best = counted;
                    expected = a == 1.0 ? "last" : "ewma(" + a + ")";
                }
            }
            String model = forecast(w).model();
            assertThat(model).as("trial %d", trial).isEqualTo(expected);
            if (model.equals("last")) {
                keptLast++;
                withinMargin += bestSmoothing < lastError ? 1 : 0;
            } else {
                smoothed++;
            }
        }
        // Every branch of the rule was exercised, including a smoothing decay better, but not 20% better.
        assertThat(keptLast).isPositive();
        assertThat(smoothed).isPositive();
        assertThat(withinMargin).isPositive();
    }

    @Test
    void aRandomWalkFollowsTheLastWindow() {
        double[] level = new double[16];
        java.util.Arrays.fill(level, 1);
        Random rng = new Random(2);
        List<double[]> path = new ArrayList<>();
        for (int t = 0; t < 30; t++) {
            for (int e = 0; e < 16; e++) {
                level[e] *= Math.exp(0.4 * rng.nextGaussian());
            }
            path.add(level.clone());
        }
        LoadForecast f = forecast(windows(30, (t, e) -> path.get(t)[e], 0.0, 3));
        assertThat(f.model()).isIn("last", "ewma(0.7)");
    }

    @Test
    void aCycleIsRecognized() {
        // Shares alternate between two patterns with period 6 windows.
        List<LoadMatrix> w = windows(40, (t, e) -> 1 + 0.9 * Math.sin(2 * Math.PI * t / 6.0 + e), 0.02, 4);
        LoadForecast f = forecast(w);
        assertThat(f.model()).matches("seasonal-(mean|difference)\\((6|12)\\)"); // 12 is a period too
        // And the forecast of window 40 is close to the truth.
        double total = 0;
        for (double v : f.mean()[0]) {
            total += v;
        }
        double truthTotal = 0;
        for (int e = 0; e < 16; e++) {
            truthTotal += 1 + 0.9 * Math.sin(2 * Math.PI * 40 / 6.0 + e);
        }
        for (int e = 0; e < 16; e++) {
            double truth = (1 + 0.9 * Math.sin(2 * Math.PI * 40 / 6.0 + e)) / truthTotal;
            assertThat(f.mean()[0][e] / total).isCloseTo(truth, within(0.01));
        }
    }

    /**
     * Layer by layer on the common pool ({@code parallel}), the forecast is the bits of one thread's, for histories
     * whose best model is the last window, a weighted mean, a seasonal difference or a seasonal mean, on 2 to 13
     * layers (so that several threads share them), with zeros and a fixed decay now and then.
     */
    @Test
    void parallelForecastsAreTheSerialBits() {
        Random rng = new Random(20261206);
        java.util.Set<String> models = new java.util.TreeSet<>();
        for (int trial = 0; trial < 60; trial++) {
            int layers = 2 + rng.nextInt(12);
            int experts = 1 + rng.nextInt(40);
            int n = 2 + rng.nextInt(36);
            int period = 2 + rng.nextInt(5);
            int kind = trial % 4;
            List<LoadMatrix> w = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                double[][] rows = new double[layers][experts];
                for (int l = 0; l < layers; l++) {
                    for (int e = 0; e < experts; e++) {
                        double base = 1 + (e + l) % 7;
                        double cycle = kind == 1 ? 1 + 0.9 * Math.sin(2 * Math.PI * (t + e) / period) : 1;
                        double walk = kind == 3 ? Math.exp(0.3 * t * ((e + l) % 2 == 0 ? 1 : -1)) : 1;
                        // A cycle on a linear trend, little noise: what a seasonal difference forecasts.
                        rows[l][e] = kind == 2 ? 1000 * (8 + 0.15 * t * (e % 3 - 1)
                                + 2 * Math.sin(2 * Math.PI * (t + e) / period)) * Math.exp(0.01 * rng.nextGaussian())
                                : rng.nextInt(6) == 0 ? 0
                                : 1000 * base * cycle * walk * Math.exp(0.2 * rng.nextGaussian());
                    }
                }
                w.add(LoadMatrix.of(rows, "w"));
            }
            double decay = trial % 7 == 6 ? 0.35 : Double.NaN;
            List<LoadMatrix> history = w.subList(0, n - 1);
            LoadForecast serial = LoadForecast.of(w.getLast(), history, 32, decay, null, false);
            LoadForecast parallel = LoadForecast.of(w.getLast(), history, 32, decay, null, true);
            assertThat(parallel.model()).as("trial %d", trial).isEqualTo(serial.model());
            assertThat(parallel.mean()).as("trial %d mean", trial).isDeepEqualTo(serial.mean());
            assertThat(parallel.volatility()).as("trial %d volatility", trial).isDeepEqualTo(serial.volatility());
            models.add(serial.model().replaceAll("\\(.*", ""));
        }
        assertThat(models).contains("last", "ewma", "seasonal-difference", "seasonal-mean");
    }

    /**
     * Shares that never change are forecast without error by every candidate (each weighted mean, each seasonal
     * model): a tie of all of them, which the first candidate, the last window, wins in either mode.
     */
    @Test
    void aTieOfEveryCandidateGoesToTheFirstTheLastWindow() {
        List<LoadMatrix> w = windows(24, (t, e) -> 1.0 + e, 0, 1);
        for (boolean parallel : new boolean[] {false, true}) {
            LoadForecast f = LoadForecast.of(w.getLast(), w.subList(0, w.size() - 1), 32, Double.NaN, null, parallel);
            assertThat(f.model()).isEqualTo("last");
            assertThat(f.volatility()[0]).containsOnly(0.0);
        }
    }

    /**
     * Past {@value LoadForecast#SAMPLE_CELLS} cells the model is chosen on every {@code stride}-th cell only. Even
     * experts here are stationary noise, odd ones a clean cycle of 4 windows: over all 1,024 cells of one layer the
     * cycle's errors decide (a seasonal model), while over 2,048 cells the sample is every second cell, the even
     * experts alone, and a weighted mean wins. The forecast itself still covers every cell, in parallel the same bits.
     */
    @Test
    void pastTheSampleSizeTheModelIsChosenOnEveryStrideThCell() {
        for (int experts : new int[] {LoadForecast.SAMPLE_CELLS, 2 * LoadForecast.SAMPLE_CELLS}) {
            Random rng = new Random(7);
            List<LoadMatrix> w = new ArrayList<>();
            for (int t = 0; t < 24; t++) {
                double[] row = new double[experts];
                for (int e = 0; e < experts; e++) {
                    row[e] = e % 2 == 0 ? 1000 * (1 + e % 5) * Math.exp(0.3 * rng.nextGaussian())
                            : 1000 * (1 + 0.9 * Math.sin(2 * Math.PI * (t + e) / 4));
                }
                w.add(LoadMatrix.of(new double[][] {row}, "w"));
            }
            List<LoadMatrix> history = w.subList(0, w.size() - 1);
            LoadForecast serial = LoadForecast.of(w.getLast(), history, 32, Double.NaN, null, false);
            LoadForecast parallel = LoadForecast.of(w.getLast(), history, 32, Double.NaN, null, true);
            assertThat(serial.model()).as("%d experts", experts)
                    .startsWith(experts == LoadForecast.SAMPLE_CELLS ? "seasonal" : "ewma(");
            assertThat(parallel.model()).isEqualTo(serial.model());
            assertThat(parallel.mean()).isDeepEqualTo(serial.mean());
            assertThat(parallel.volatility()).isDeepEqualTo(serial.volatility());
            assertThat(serial.mean()[0]).hasSize(experts);
        }
    }

    @Test
    void aFixedDecayIsUsedAsGiven() {
        List<LoadMatrix> w = List.of(LoadMatrix.of(new double[][] {{0, 10}}, "w"),
                LoadMatrix.of(new double[][] {{10, 0}}, "w"));
        LoadForecast f = LoadForecast.of(w.get(1), w.subList(0, 1), 32, 0.25);
        // Shares (0, 1) then (1, 0): f = 0.75 * (0, 1) + 0.25 * (1, 0), in the latest window's total of 10.
        assertThat(f.mean()[0]).containsExactly(new double[] {2.5, 7.5}, within(1e-12));
        assertThat(f.model()).isEqualTo("ewma(0.25)");
    }

    @Test
    void subnormalLoadsAreForecastAsTheSameLoadsAtAnyScale() {
        // Shares divided by a total's reciprocal, which overflows below 2^-1024: every share became NaN or infinite,
        // no model was chosen and planning failed with a NullPointerException.
        List<LoadMatrix> w = windows(20, (t, e) -> 1 + 0.9 * Math.sin(2 * Math.PI * t / 5.0 + e), 0.1, 6);
        List<LoadMatrix> tiny = new ArrayList<>();
        for (LoadMatrix m : w) {
            double[][] rows = m.toArray();
            for (int e = 0; e < rows[0].length; e++) {
                rows[0][e] = Math.scalb(Math.rint(rows[0][e]), -1057); // whole numbers below 2^17: exact
            }
            tiny.add(LoadMatrix.of(rows, "w"));
        }
        List<LoadMatrix> whole = new ArrayList<>();
        for (LoadMatrix m : tiny) {
            double[][] rows = m.toArray();
            for (int e = 0; e < rows[0].length; e++) {
                rows[0][e] = Math.scalb(rows[0][e], 1057);
            }
            whole.add(LoadMatrix.of(rows, "w"));
        }
        LoadForecast small = forecast(tiny);
        LoadForecast expected = forecast(whole);
        assertThat(small.model()).isEqualTo(expected.model());
        // Loads of about 1000 at 2^-1057 keep about 27 bits: agreement within a thousandth of a token (1e-6).
        for (int e = 0; e < 16; e++) {
            assertThat(Math.scalb(small.mean()[0][e], 1057)).isCloseTo(expected.mean()[0][e], within(1e-3));
            assertThat(Math.scalb(small.volatility()[0][e], 1057)).isCloseTo(expected.volatility()[0][e], within(1e-3));
        }
    }

    @Test
    void seasonalForecastsByHand() {
        // One cell, windows x0..x7 = 1, 4, 2, 8, 3, 9, 5, 7; period 2.
        double[][] x = {{1}, {4}, {2}, {8}, {3}, {9}, {5}, {7}};
        double[] out = new double[1];
        // Difference, window 8: x7 + mean of the two latest cycles' changes (x6 - x5, x4 - x3) = 7 - 4.5.
        LoadForecast.seasonal(x, 8, 2, true, out, 0, out.length);
        assertThat(out[0]).isEqualTo(2.5);
        // Mean, window 8: the same phase in three cycles, (x6 + x4 + x2) / 3.
        LoadForecast.seasonal(x, 8, 2, false, out, 0, out.length);
        assertThat(out[0]).isCloseTo(10.0 / 3, within(1e-15));
        // Window 3: one cycle behind it; a difference x2 + (x1 - x0), a mean x1.
        LoadForecast.seasonal(x, 3, 2, true, out, 0, out.length);
        assertThat(out[0]).isEqualTo(5);
        LoadForecast.seasonal(x, 3, 2, false, out, 0, out.length);
        assertThat(out[0]).isEqualTo(4);
        // Too early for a cycle: the last window.
        LoadForecast.seasonal(x, 2, 2, true, out, 0, out.length);
        assertThat(out[0]).isEqualTo(4);
        LoadForecast.seasonal(x, 1, 2, false, out, 0, out.length);
        assertThat(out[0]).isEqualTo(1);
    }

    @Test
    void seasonalForecastsMatchTheirFormulas() {
        Random rng = new Random(8);
        for (int trial = 0; trial < 300; trial++) {
            int windows = 1 + rng.nextInt(20);
            int cells = 1 + rng.nextInt(4);
            double[][] x = new double[windows][cells];
            for (double[] row : x) {
                for (int i = 0; i < cells; i++) {
                    row[i] = rng.nextInt(100);
                }
            }
            int w = 1 + rng.nextInt(windows);
            int period = 2 + rng.nextInt(6);
            for (boolean difference : new boolean[] {true, false}) {
                double[] out = new double[cells];
                LoadForecast.seasonal(x, w, period, difference, out, 0, out.length);
                for (int i = 0; i < cells; i++) {
                    double expected = naiveSeasonal(x, w, period, difference, i);
                    assertThat(out[i]).as("trial %d difference %s", trial, difference)
                            .isCloseTo(expected, within(1e-9));
                }
            }
        }
    }

    /**
     * Summed squared one-step error of {@code f_{t+1} = f_t + a (x_t - f_t)}, {@code f_1 = x_0}, over windows
     * {@code firstScored..} and every cell.
     */
    private static double ewmaError(double[][] x, double a, int firstScored) {
        double error = 0;
        for (int e = 0; e < x[0].length; e++) {
            double f = x[0][e];
            for (int t = 1; t < x.length; t++) {
                if (t >= firstScored) {
                    error += (x[t][e] - f) * (x[t][e] - f);
                }
                f += a * (x[t][e] - f);
            }
        }
        return error;
    }

    /**
     * f_w = x_{w-1} + mean over k = 1..2 of (x_{w-kP} - x_{w-1-kP}), or mean over k = 1..3 of x_{w-kP}, over
     * the k whose windows exist; x_{w-1} when there is none.
     */
    private static double naiveSeasonal(double[][] x, int w, int period, boolean difference, int i) {
        double sum = 0;
        int seasons = 0;
        for (int k = 1; k <= (difference ? 2 : 3); k++) {
            int older = difference ? w - 1 - k * period : w - k * period;
            if (older >= 0) {
                sum += difference ? x[w - k * period][i] - x[older][i] : x[older][i];
                seasons++;
            }
        }
        if (difference) {
            return x[w - 1][i] + (seasons == 0 ? 0 : sum / seasons);
        }
        return seasons == 0 ? x[w - 1][i] : sum / seasons;
    }

    /**
     * On twelve windows, periods 2 to 4 are tried and windows 8 to 11 scored: the choice is the least one-step
     * squared error of the shares, a smoothing decay's counted 1.2 times and a seasonal model's 1.05 times (first
     * candidate on ties: decays, then periods with the difference form first). A naive reference of that rule
     * over random histories whose mix partly cycles.
     */
    @Test
    void seasonalModelsMustBeatTheWeightedMeansByFivePercent() {
        int seasonal = 0;
        int withinMargin = 0;
        Random rng = new Random(12);
        for (int trial = 0; trial < 300; trial++) {
            int period = 2 + rng.nextInt(3);
            double swing = rng.nextDouble();
            double noise = 0.02 + 0.3 * rng.nextDouble();
            List<LoadMatrix> w = new ArrayList<>();
            double[][] x = new double[12][16];
            for (int t = 0; t < 12; t++) {
                double[] row = new double[16];
                for (int e = 0; e < 16; e++) {
                    double phase = 2 * Math.PI * (t % period) / period + e;
                    row[e] = 1000 * (1 + e % 5) * Math.exp(swing * Math.sin(phase) + noise * rng.nextGaussian());
                }
                w.add(LoadMatrix.of(new double[][] {row}, "w"));
                double total = w.get(t).layerTotal(0);
                for (int e = 0; e < 16; e++) {
                    x[t][e] = row[e] / total;
                }
            }
            String expected = null;
            double best = Double.POSITIVE_INFINITY;
            double bestMean = Double.POSITIVE_INFINITY;
            double bestSeasonal = Double.POSITIVE_INFINITY;
            for (double a : LoadForecast.DECAYS) {
                double error = ewmaError(x, a, 8);
                double counted = a == 1.0 ? error : 1.2 * error;
                bestMean = Math.min(bestMean, counted);
                if (counted < best) {
                    best = counted;
                    expected = a == 1.0 ? "last" : "ewma(" + a + ")";
                }
            }
            for (int p = 2; p <= 4; p++) {
                for (boolean difference : new boolean[] {true, false}) {
                    double error = 0;
                    for (int t = 8; t < 12; t++) {
                        for (int e = 0; e < 16; e++) {
                            double f = naiveSeasonal(x, t, p, difference, e);
                            error += (x[t][e] - f) * (x[t][e] - f);
                        }
                    }
                    bestSeasonal = Math.min(bestSeasonal, error);
                    if (1.05 * error < best) {
                        best = 1.05 * error;
                        expected = (difference ? "seasonal-difference(" : "seasonal-mean(") + p + ")";
                    }
                }
            }
            String model = forecast(w).model();
            assertThat(model).as("trial %d", trial).isEqualTo(expected);
            seasonal += model.startsWith("seasonal") ? 1 : 0;
            withinMargin += !model.startsWith("seasonal") && bestSeasonal < bestMean ? 1 : 0;
        }
        // Seasonal models chosen, and a seasonal model better than every weighted mean but not by 5%.
        assertThat(seasonal).isPositive();
        assertThat(withinMargin).isPositive();
    }
}
