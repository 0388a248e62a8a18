package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A forecast that reuses the shares kept from the one before gives, bit for bit, the forecast worked out afresh,
 * whatever the windows read next: the same ones shifted (as in service), windows given twice, a window without load,
 * another shape, history cut short or reordered.
 */
class SharesCacheTest {
    @Test
    void reusedSharesGiveTheForecastWorkedOutAfresh() {
        SplittableRandom random = new SplittableRandom(20261205);
        LoadForecast.SharesCache cache = new LoadForecast.SharesCache();
        List<LoadMatrix> pool = new ArrayList<>();
        for (int call = 0; call < 400; call++) {
            int layers = call % 50 < 40 ? 2 : 3; // a change of shape now and then
            int experts = 5;
            if (pool.isEmpty() || pool.getFirst().layers() != layers || random.nextInt(10) == 0) {
                pool.clear();
            }
            pool.add(window(random, layers, experts));
            List<LoadMatrix> history = new ArrayList<>(pool.subList(0, pool.size() - 1));
            switch (random.nextInt(5)) {
                case 0 -> {
                    if (!history.isEmpty()) {
                        history.add(history.get(random.nextInt(history.size()))); // a window given twice
                    }
                }
                case 1 -> Collections.shuffle(history, new Random(random.nextLong()));
                case 2 -> history.add(LoadMatrix.of(new double[layers][experts], "idle"));
                default -> { }
            }
            LoadMatrix latest = pool.getLast();
            int maxHistory = 1 + random.nextInt(12);
            double decay = random.nextInt(3) == 0 ? 0.5 : Double.NaN;
            LoadForecast fresh = LoadForecast.of(latest, history, maxHistory, decay);
            LoadForecast reused = LoadForecast.of(latest, history, maxHistory, decay, cache);
            assertThat(reused.model()).as("call %d", call).isEqualTo(fresh.model());
            assertThat(bits(reused.mean())).as("call %d mean", call).isEqualTo(bits(fresh.mean()));
            assertThat(bits(reused.volatility())).as("call %d volatility", call).isEqualTo(bits(fresh.volatility()));
        }
    }

    @Test
    void aWindowGivenTwiceAndThenDroppedLendsItsRowToOneNewWindowOnly() {
        SplittableRandom random = new SplittableRandom(7);
        LoadMatrix w1 = window(random, 2, 5);
        LoadMatrix w2 = window(random, 2, 5);
        LoadMatrix latest = window(random, 2, 5);
        LoadForecast.SharesCache cache = new LoadForecast.SharesCache();
        LoadForecast.of(latest, List.of(w1, w2), 8, Double.NaN, cache);
        // w1 twice: both read the one row kept for it.
        LoadForecast.of(latest, List.of(w1, w1, w2), 8, Double.NaN, cache);
        // None of those windows now: their rows are reused for the new ones, the shared one for one of them only.
        List<LoadMatrix> history = List.of(window(random, 2, 5), window(random, 2, 5), window(random, 2, 5));
        LoadMatrix next = window(random, 2, 5);
        LoadForecast fresh = LoadForecast.of(next, history, 8, Double.NaN);
        LoadForecast reused = LoadForecast.of(next, history, 8, Double.NaN, cache);
        assertThat(bits(reused.mean())).isEqualTo(bits(fresh.mean()));
        assertThat(bits(reused.volatility())).isEqualTo(bits(fresh.volatility()));
    }

    private static LoadMatrix window(SplittableRandom random, int layers, int experts) {
        double[][] w = new double[layers][experts];
        for (double[] row : w) {
            for (int e = 0; e < experts; e++) {
                row[e] = random.nextInt(4) == 0 ? 0 : random.nextInt(1000);
            }
        }
        return LoadMatrix.of(w, "window");
    }

    private static long[][] bits(double[][] m) {
        long[][] b = new long[m.length][];
        for (int l = 0; l < m.length; l++) {
            b[l] = new long[m[l].length];
            for (int e = 0; e < m[l].length; e++) {
                b[l][e] = Double.doubleToRawLongBits(m[l][e]);
            }
        }
        return b;
    }
}
