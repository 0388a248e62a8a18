package io.moelab.eplb.algorithm;

import io.moelab.eplb.LoadMatrix;
import java.util.List;

/**
 * Forecast of the next window's expert load from the latest window and earlier ones.
 *
 * <p>Each window is turned into per-layer shares (load / layer total), so changes in traffic volume do not
 * look like changes in popularity. Two families of one-step forecasts are fitted to the history and the one
 * with the smallest one-step-ahead squared error over the recent windows wins (errors pooled over layers and
 * experts, so the hot experts that set the maximum weigh most):
 * <ul>
 *   <li>exponentially weighted means {@code f_{t+1} = a x_t + (1 - a) f_t} for a grid of decays {@code a}:
 *       {@code a = 1} is "the last window", small {@code a} averages long histories, which is what
 *       mean-reverting traffic rewards;</li>
 *   <li>seasonal differences {@code f_{t+1} = x_t + mean_k (x_{t+1-kP} - x_{t-kP})} for periods {@code P}:
 *       the last window plus the change seen one (or two) cycles earlier, for traffic whose mix cycles (time
 *       of day, alternating workloads) while it also drifts;</li>
 *   <li>seasonal means {@code f_{t+1} = mean_k x_{t+1-kP}}: the same phase of up to three past cycles, for
 *       cycling traffic that does not drift (less noise than the difference form).</li>
 * </ul>
 * Every candidate is scored on the same target windows. The winner's per-expert root-mean-square one-step
 * error is the volatility that hedging uses.
 */
public final class LoadForecast {
    /** Decays tried, most recent-weighted first; ties go to the earlier (more reactive) one. */
    static final double[] DECAYS = {1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05};
    /** Cycles averaged by a seasonal candidate. */
    private static final int SEASONS = 2;
    /** Windows a seasonal candidate needs beyond two periods before it is tried. */
    private static final int MIN_SCORED = 3;

    private final double[][] mean;
    private final double[][] volatility;
    private final String model;

    private LoadForecast(double[][] mean, double[][] volatility, String model) {
        this.mean = mean;
        this.volatility = volatility;
        this.model = model;
    }

    /**
     * Forecasts from the latest window and up to {@code maxHistory} earlier ones (oldest first).
     *
     * @param fixedDecay a decay in (0, 1] to use instead of choosing a model, or NaN to choose from the data
     */
    public static LoadForecast of(LoadMatrix latest, List<LoadMatrix> history, int maxHistory, double fixedDecay) {
        int layers = latest.layers();
        int experts = latest.experts();
        List<LoadMatrix> used = history.subList(Math.max(0, history.size() - maxHistory), history.size());
        int windows = used.size() + 1;
        if (windows == 1) {
            return new LoadForecast(latest.toArray(), new double[layers][experts], "last");
        }
        int cells = layers * experts;
        double[][] x = new double[windows][cells];
        for (int w = 0; w < windows; w++) {
            shares(w < used.size() ? used.get(w) : latest, x[w]);
        }
        double[] decays = Double.isNaN(fixedDecay) ? DECAYS : new double[] {fixedDecay};
        // Seasonal periods P need two cycles before the first scored window plus a few scored windows.
        int maxPeriod = Double.isNaN(fixedDecay) ? (windows - 1 - MIN_SCORED) / 2 : 1;
        int firstScored = Math.max(1, maxPeriod >= 2 ? 2 * maxPeriod : 1);

        Candidate best = null;
        for (double a : decays) {
            Candidate c = ewma(x, a, firstScored);
            if (best == null || c.error < best.error) {
                best = c;
            }
        }
        for (int period = 2; period <= maxPeriod; period++) {
            for (boolean difference : new boolean[] {true, false}) {
                Candidate c = seasonal(x, period, difference, firstScored);
                if (c.error < best.error) {
                    best = c;
                }
            }
        }
        double[][] mean = new double[layers][experts];
        double[][] volatility = new double[layers][experts];
        int scored = windows - firstScored;
        for (int l = 0; l < layers; l++) {
            double total = latest.layerTotal(l);
            for (int e = 0; e < experts; e++) {
                int i = l * experts + e;
                // Back to the latest window's units, so loads and volatilities read as tokens.
                mean[l][e] = Math.max(0, best.next[i]) * total;
                volatility[l][e] = Math.sqrt(best.squared[i] / scored) * total;
            }
        }
        return new LoadForecast(mean, volatility, best.model);
    }

    /** One candidate model: its forecast of the next window, per-cell and pooled one-step errors. */
    private record Candidate(String model, double[] next, double[] squared, double error) {
    }

    private static Candidate ewma(double[][] x, double a, int firstScored) {
        int cells = x[0].length;
        double[] f = x[0].clone();
        double[] squared = new double[cells];
        double error = 0;
        for (int w = 1; w < x.length; w++) {
            double[] xw = x[w];
            boolean scored = w >= firstScored;
            for (int i = 0; i < cells; i++) {
                double diff = xw[i] - f[i];
                if (scored) {
                    squared[i] += diff * diff;
                }
                f[i] += a * diff;
            }
        }
        for (double s : squared) {
            error += s;
        }
        return new Candidate(a == 1.0 ? "last" : "ewma(" + a + ")", f, squared, error);
    }

    private static Candidate seasonal(double[][] x, int period, boolean difference, int firstScored) {
        int cells = x[0].length;
        double[] squared = new double[cells];
        double error = 0;
        for (int w = firstScored; w < x.length; w++) {
            for (int i = 0; i < cells; i++) {
                double diff = x[w][i] - seasonalForecast(x, w, period, difference, i);
                squared[i] += diff * diff;
            }
        }
        for (double s : squared) {
            error += s;
        }
        double[] next = new double[cells];
        for (int i = 0; i < cells; i++) {
            next[i] = seasonalForecast(x, x.length, period, difference, i);
        }
        return new Candidate((difference ? "seasonal-difference(" : "seasonal-mean(") + period + ")", next, squared,
                error);
    }

    /**
     * Forecast of window {@code w} from the windows before it: the last plus the average change one phase
     * ahead in past cycles ({@code difference}), or the average of the same phase in past cycles.
     */
    private static double seasonalForecast(double[][] x, int w, int period, boolean difference, int i) {
        double sum = 0;
        int seasons = 0;
        if (difference) {
            for (int k = 1; k <= SEASONS && w - 1 - k * period >= 0; k++) {
                sum += x[w - k * period][i] - x[w - 1 - k * period][i];
                seasons++;
            }
            return x[w - 1][i] + (seasons > 0 ? sum / seasons : 0);
        }
        for (int k = 1; k <= SEASONS + 1 && w - k * period >= 0; k++) {
            sum += x[w - k * period][i];
            seasons++;
        }
        return seasons > 0 ? sum / seasons : x[w - 1][i];
    }

    private static void shares(LoadMatrix window, double[] out) {
        int experts = window.experts();
        double[] row = new double[experts];
        for (int l = 0; l < window.layers(); l++) {
            window.copyLayer(l, row);
            double total = window.layerTotal(l);
            double scale = total > 0 ? 1 / total : 0;
            for (int e = 0; e < experts; e++) {
                out[l * experts + e] = row[e] * scale;
            }
        }
    }

    /** {@code [layer][expert]}: forecast load of the next window, in the latest window's units. */
    public double[][] mean() {
        return mean;
    }

    /** {@code [layer][expert]}: root-mean-square one-step forecast error, same units; 0 without history. */
    public double[][] volatility() {
        return volatility;
    }

    /** The model chosen: {@code last}, {@code ewma(A)}, {@code seasonal-difference(P)} or {@code seasonal-mean(P)}. */
    public String model() {
        return model;
    }
}
