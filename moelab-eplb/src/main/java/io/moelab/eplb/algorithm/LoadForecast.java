package io.moelab.eplb.algorithm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Forecast of the next window's expert load from the latest window and earlier ones.
 *
 * <p>Each window is turned into per-layer shares (load / layer total), so changes in traffic volume do not
 * look like changes in popularity. Three families of one-step forecasts are fitted to the history and the one
 * with the smallest one-step-ahead squared error over the recent windows wins (errors pooled over layers and
 * experts, so the hot experts that set the maximum weigh most):
 * <ul>
 *   <li>exponentially weighted means {@code f_{t+1} = a x_t + (1 - a) f_t} for a grid of decays {@code a}:
 *       {@code a = 1} is "the last window", small {@code a} averages long histories, which is what
 *       mean-reverting traffic rewards;</li>
 *   <li>seasonal differences {@code f_{t+1} = x_t + mean_k (x_{t+1-kP} - x_{t-kP})} for periods {@code P}:
 *       the last window plus the change seen one or two cycles earlier, for traffic whose mix cycles (time of
 *       day, alternating workloads) while it also drifts;</li>
 *   <li>seasonal means {@code f_{t+1} = mean_k x_{t+1-kP}}: the same phase of up to three past cycles, for
 *       cycling traffic that does not drift (less noise than the difference form).</li>
 * </ul>
 * Every candidate is scored on the same target windows, at least a third of those given; a smoothing weighted
 * mean must beat the last window by 20% ({@link #SMOOTHING_PENALTY}) and a seasonal model the best weighted mean by
 * 5%, since among several fitted candidates one fits noise by chance on few windows. The choice is made on an
 * evenly spaced sample of at most {@value #SAMPLE_CELLS} (layer, expert) cells, which estimates the pooled error
 * well at a fraction of the cost; only the winner is computed on every cell. Its per-expert root-mean-square
 * one-step error is the volatility that hedging uses.
 */
public final class LoadForecast {
    /** Decays tried, most recent-weighted first; ties go to the earlier (more reactive) one. */
    static final double[] DECAYS = {1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05};
    /** Cycles averaged by a seasonal difference; a seasonal mean averages one more. */
    private static final int SEASONS = 2;
    /** Windows scored at least, beyond the two cycles a seasonal candidate needs, before periods are tried. */
    private static final int MIN_SCORED = 3;
    /**
     * A seasonal model must beat the best exponentially weighted mean by this factor of error: there are many
     * seasonal candidates, and on few scored windows one of them fits noise by chance.
     */
    private static final double SEASONAL_PENALTY = 1.05;
    /**
     * A weighted mean that smooths ({@code a < 1}) must beat the last window by this factor of error. The last window
     * has no fitted parameter; the best of seven decays, scored on a few windows, looks better than it will do next
     * (the least of several noisy errors is biased low), and on traffic whose hot experts jump (one text genre after
     * another, docs/TRAINING.md) that chose smoothing in 8 of 20 rebalances and lost 0.011 of balancedness.
     * Measured from 1.0 to 2.0 (docs/EPLB.md): that trace gains 0.011 at any value from 1.05, the synthetic suite
     * moves by -0.003 to +0.004 with the value, and 1.2 was the best there.
     */
    static final double SMOOTHING_PENALTY = 1.2;
    /** Cells the model is chosen on, at most. */
    static final int SAMPLE_CELLS = 1024;

    private final double[][] mean;
    private final double[][] volatility;
    private final String model;

    private LoadForecast(double[][] mean, double[][] volatility, String model) {
        this.mean = mean;
        this.volatility = volatility;
        this.model = model;
    }

    /** A one-step forecast model. */
    private record Model(double decay, int period, boolean difference) {
        static Model ewma(double decay) {
            return new Model(decay, 0, false);
        }

        String describe() {
            if (period == 0) {
                return decay == 1.0 ? "last" : "ewma(" + decay + ")";
            }
            return (difference ? "seasonal-difference(" : "seasonal-mean(") + period + ")";
        }
    }

    /**
     * Forecasts from the latest window and up to {@code maxHistory} earlier ones (oldest first).
     *
     * @param latest     the latest window's loads, in tokens
     * @param history    earlier windows, oldest first, each the shape of {@code latest} (may be empty); those
     *                   with no load in any layer are skipped
     * @param maxHistory most earlier windows read (the latest ones with load), 0 or more
     * @param fixedDecay a decay in (0, 1] to use instead of choosing a model, or NaN to choose from the data
     * @throws NullPointerException     if {@code latest}, {@code history} or a window in it is null
     * @throws IllegalArgumentException for a negative {@code maxHistory} or a decay neither NaN nor in (0, 1]
     * @throws InvalidInputException    naming {@code history[i]}, a window of another shape than {@code latest}
     */
    public static LoadForecast of(LoadMatrix latest, List<LoadMatrix> history, int maxHistory, double fixedDecay) {
        return of(latest, history, maxHistory, fixedDecay, null);
    }

    /**
     * The shares of the windows a forecast read, by window, for the next forecast to reuse: in service each
     * rebalance reads the windows the one before read, shifted by one, and working out their shares again (a copy
     * and a pass over every window's loads, into a table allocated anew) took about a third of the forecast. A
     * window is known by identity ({@link LoadMatrix} is immutable), so a reused row holds exactly the values it
     * would be given again. Not thread-safe: a caller takes it for one forecast at a time.
     */
    static final class SharesCache {
        private LoadMatrix[] windows = new LoadMatrix[0];
        private double[][] rows = new double[0][];

        /** Rows for {@code windows}, reused where a window was read last time, else worked out (into a spare row). */
        double[][] shares(List<LoadMatrix> used, LoadMatrix latest, int cells) {
            int n = used.size() + 1;
            LoadMatrix[] next = new LoadMatrix[n];
            double[][] x = new double[n][];
            for (int w = 0; w < n; w++) {
                next[w] = w < used.size() ? used.get(w) : latest;
                for (int k = 0; k < windows.length && x[w] == null; k++) {
                    if (windows[k] == next[w]) {
                        x[w] = rows[k]; // rows are only read, so one window given twice may share one
                    }
                }
            }
            int spare = 0;
            for (int w = 0; w < n; w++) {
                if (x[w] != null) {
                    continue;
                }
                // A row of a window not read this time, of the right length, is overwritten; else a new one. A window
                // given twice last time left one row under two entries: it is taken once.
                double[] row = null;
                for (; spare < windows.length && row == null; spare++) {
                    if (rows[spare].length == cells && !contains(next, windows[spare]) && !contains(x, rows[spare])) {
                        row = rows[spare];
                    }
                }
                x[w] = row != null ? row : new double[cells];
                LoadForecast.shares(next[w], x[w]);
            }
            windows = next;
            rows = x;
            return x;
        }

        /** Whether {@code items} holds {@code item} itself (identity). */
        private static boolean contains(Object[] items, Object item) {
            for (Object o : items) {
                if (o == item) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * {@link #of(LoadMatrix, List, int, double)}, reusing the shares {@code cache} holds from the forecast before
     * (null: none kept).
     */
    static LoadForecast of(LoadMatrix latest, List<LoadMatrix> history, int maxHistory, double fixedDecay,
                           SharesCache cache) {
        return of(latest, history, maxHistory, fixedDecay, cache, false);
    }

    /**
     * {@link #of(LoadMatrix, List, int, double, SharesCache)}, with {@code parallel} scoring the candidate models
     * and running the chosen one over each layer's cells on the common pool: every cell's arithmetic is the one a
     * single thread does, and the choice is made in candidate order, so the forecast is the same bits.
     */
    static LoadForecast of(LoadMatrix latest, List<LoadMatrix> history, int maxHistory, double fixedDecay,
                           SharesCache cache, boolean parallel) {
        Objects.requireNonNull(latest, "latest");
        Objects.requireNonNull(history, "history");
        if (maxHistory < 0) {
            throw new IllegalArgumentException("maxHistory must be 0 or more, got " + maxHistory);
        }
        if (!Double.isNaN(fixedDecay) && !(fixedDecay > 0 && fixedDecay <= 1)) {
            throw new IllegalArgumentException("fixedDecay must be NaN or in (0, 1], got " + Numbers.plain(fixedDecay));
        }
        int layers = latest.layers();
        int experts = latest.experts();
        for (int i = 0; i < history.size(); i++) {
            // A window of another shape was copied into the first cells of the table below, or overran it.
            history.get(i).requireShape(layers, experts, "history[" + i + "]");
        }
        // A window in which no layer saw a token (an idle spell, or a recorder's buffer rows never filled) says
        // nothing about popularity; read as shares of 0 it would pull every forecast towards 0 and count as a
        // large one-step error, inflating the volatility that hedging adds. It is skipped, as if not recorded.
        List<LoadMatrix> active = history.stream().filter(LoadForecast::hasLoad).toList();
        List<LoadMatrix> used = active.subList(Math.max(0, active.size() - maxHistory), active.size());
        int windows = used.size() + 1;
        if (windows == 1) {
            return new LoadForecast(latest.toArray(), new double[layers][experts], "last");
        }
        int cells = layers * experts;
        double[][] x;
        if (cache != null) {
            x = cache.shares(used, latest, cells);
        } else {
            x = new double[windows][cells];
            for (int w = 0; w < windows; w++) {
                shares(w < used.size() ? used.get(w) : latest, x[w]);
            }
        }
        boolean choose = Double.isNaN(fixedDecay);
        // Periods need two cycles before the first scored window; at least a third of the windows are scored.
        int minScored = Math.max(MIN_SCORED, (windows - 1) / 3);
        int maxPeriod = choose ? (windows - 1 - minScored) / 2 : 1;
        int firstScored = maxPeriod >= 2 ? 2 * maxPeriod : 1;
        Model best = choose ? choose(sample(x), maxPeriod, firstScored, parallel) : Model.ewma(fixedDecay);

        double[] next = new double[cells];
        double[] squared = new double[cells];
        double[][] mean = new double[layers][];
        double[][] volatility = new double[layers][];
        int scored = windows - firstScored;
        // In parallel a part per layer; in turn one part of every layer, each window's cells in one loop (a part per
        // layer there measured within 2% of it, not resolved). Every cell's arithmetic is the same either way.
        LayerWorkers.forEach(parallel, parallel ? layers : 1, part -> {
            int from = parallel ? part : 0;
            int to = parallel ? part + 1 : layers;
            run(x, best, firstScored, next, squared, from * experts, to * experts);
            for (int l = from; l < to; l++) {
                mean[l] = new double[experts];
                volatility[l] = new double[experts];
                double total = latest.layerTotal(l);
                for (int e = 0; e < experts; e++) {
                    int i = l * experts + e;
                    // Back to the latest window's units, so loads and volatilities read as tokens.
                    mean[l][e] = Math.max(0, next[i]) * total;
                    volatility[l][e] = Math.sqrt(squared[i] / scored) * total;
                }
            }
        });
        return new LoadForecast(mean, volatility, best.describe());
    }

    private static boolean hasLoad(LoadMatrix window) {
        for (int l = 0; l < window.layers(); l++) {
            if (window.layerTotal(l) > 0) {
                return true;
            }
        }
        return false;
    }

    /** Every {@code stride}-th cell of each window, for choosing the model cheaply. */
    private static double[][] sample(double[][] x) {
        int cells = x[0].length;
        int stride = Math.max(1, (cells + SAMPLE_CELLS - 1) / SAMPLE_CELLS);
        if (stride == 1) {
            return x;
        }
        int n = (cells + stride - 1) / stride;
        double[][] s = new double[x.length][n];
        for (int w = 0; w < x.length; w++) {
            for (int j = 0, i = 0; j < n; j++, i += stride) {
                s[w][j] = x[w][i];
            }
        }
        return s;
    }

    /**
     * The candidate with the least penalized pooled error on {@code x}, the first in candidate order on a tie. With
     * {@code parallel} the candidates are scored on the common pool, each with its own arrays: the same errors, and
     * the choice is still made in order, so the same model.
     */
    private static Model choose(double[][] x, int maxPeriod, int firstScored, boolean parallel) {
        int cells = x[0].length;
        List<Model> models = new ArrayList<>();
        for (double a : DECAYS) {
            models.add(Model.ewma(a));
        }
        for (int period = 2; period <= maxPeriod; period++) {
            models.add(new Model(0, period, true));
            models.add(new Model(0, period, false));
        }
        double[] errors = new double[models.size()];
        new LayerWorkers<double[][]>(parallel, () -> new double[2][cells]).forEach(models.size(), (scratch, k) -> {
            Model m = models.get(k);
            double penalty = m.period > 0 ? SEASONAL_PENALTY : m.decay == 1.0 ? 1.0 : SMOOTHING_PENALTY;
            errors[k] = run(x, m, firstScored, scratch[0], scratch[1], 0, cells) * penalty;
        });
        Model best = null;
        double bestError = Double.POSITIVE_INFINITY;
        for (int k = 0; k < errors.length; k++) {
            if (errors[k] < bestError) {
                best = models.get(k);
                bestError = errors[k];
            }
        }
        return best;
    }

    /**
     * Runs a model over the windows' cells {@code from..to-1}: fills those of {@code next} with its forecast of the
     * window after the last and of {@code squared} with each cell's summed squared one-step error over windows
     * {@code firstScored..}; other cells are not touched.
     *
     * @return the pooled squared error of the cells
     */
    private static double run(double[][] x, Model m, int firstScored, double[] next, double[] squared, int from,
                              int to) {
        java.util.Arrays.fill(squared, from, to, 0);
        if (m.period == 0) {
            double a = m.decay;
            System.arraycopy(x[0], from, next, from, to - from);
            for (int w = 1; w < x.length; w++) {
                double[] xw = x[w];
                if (w >= firstScored) {
                    for (int i = from; i < to; i++) {
                        double diff = xw[i] - next[i];
                        squared[i] += diff * diff;
                        next[i] += a * diff;
                    }
                } else {
                    for (int i = from; i < to; i++) {
                        next[i] += a * (xw[i] - next[i]);
                    }
                }
            }
        } else {
            for (int w = firstScored; w < x.length; w++) {
                seasonal(x, w, m.period, m.difference, next, from, to);
                double[] xw = x[w];
                for (int i = from; i < to; i++) {
                    double diff = xw[i] - next[i];
                    squared[i] += diff * diff;
                }
            }
            seasonal(x, x.length, m.period, m.difference, next, from, to);
        }
        double error = 0;
        for (int i = from; i < to; i++) {
            error += squared[i];
        }
        return error;
    }

    /**
     * Seasonal forecast of window {@code w} from the windows before it, into {@code out}: the last plus the
     * average change one phase ahead in past cycles ({@code difference}), or the average of the same phase in
     * past cycles. Only cells {@code from..to-1} of {@code out} are written.
     */
    static void seasonal(double[][] x, int w, int period, boolean difference, double[] out, int from, int to) {
        if (difference) {
            System.arraycopy(x[w - 1], from, out, from, to - from);
            int seasons = 0;
            while (seasons < SEASONS && w - 1 - (seasons + 1) * period >= 0) {
                seasons++;
            }
            double weight = seasons > 0 ? 1.0 / seasons : 0;
            for (int k = 1; k <= seasons; k++) {
                double[] ahead = x[w - k * period];
                double[] before = x[w - 1 - k * period];
                for (int i = from; i < to; i++) {
                    out[i] += weight * (ahead[i] - before[i]);
                }
            }
            return;
        }
        int seasons = 0;
        while (seasons < SEASONS + 1 && w - (seasons + 1) * period >= 0) {
            seasons++;
        }
        if (seasons == 0) {
            System.arraycopy(x[w - 1], from, out, from, to - from);
            return;
        }
        java.util.Arrays.fill(out, from, to, 0);
        double weight = 1.0 / seasons;
        for (int k = 1; k <= seasons; k++) {
            double[] same = x[w - k * period];
            for (int i = from; i < to; i++) {
                out[i] += weight * same[i];
            }
        }
    }

    /** Each layer's loads divided by the layer's total, row-major into {@code out}. */
    private static void shares(LoadMatrix window, double[] out) {
        window.copyTo(out);
        int experts = window.experts();
        for (int l = 0, base = 0; l < window.layers(); l++, base += experts) {
            double total = 0;
            for (int i = base; i < base + experts; i++) {
                total += out[i];
            }
            double scale = total > 0 ? 1 / total : 0;
            if (Double.isInfinite(scale)) {
                // A total below 2^-1024 (subnormal loads): its reciprocal overflows, so divide instead.
                for (int i = base; i < base + experts; i++) {
                    out[i] /= total;
                }
                continue;
            }
            for (int i = base; i < base + experts; i++) {
                out[i] *= scale;
            }
        }
    }

    /**
     * {@code [layer][expert]}: forecast load of the next window, in the latest window's units. The forecast's own
     * array, not a copy: every call returns the same one, and a caller may change it (MoelabBalancer adds the hedge
     * in place).
     */
    public double[][] mean() {
        return mean;
    }

    /**
     * {@code [layer][expert]}: root-mean-square one-step forecast error, same units; 0 without history. The
     * forecast's own array, as {@link #mean()}'s.
     */
    public double[][] volatility() {
        return volatility;
    }

    /** The model chosen: {@code last}, {@code ewma(A)}, {@code seasonal-difference(P)} or {@code seasonal-mean(P)}. */
    public String model() {
        return model;
    }
}
