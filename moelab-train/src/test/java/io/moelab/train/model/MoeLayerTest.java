package io.moelab.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.moelab.train.engine.Pytorch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The gather-compute-gather MoE layer against a dense float64 reference that runs every expert on every token. */
class MoeLayerTest {
    private static final int N = 40;
    private static final int D = 8;
    private static final int F = 12;
    private static final int E = 5;

    @ParameterizedTest(name = "top-{0}, norm {1}, capacity {2}")
    @CsvSource({"1, false, 0", "1, true, 0", "1, true, 1.0", "2, true, 0", "2, false, 0", "3, true, 0",
        "1, false, 1.0", "2, true, 0.75"})
    void matchesADenseReference(int k, boolean norm, double capacity) {
        SplittableRandom rnd = new SplittableRandom(11L * k + (norm ? 1 : 0));
        double[] x = gaussian(rnd, N * D);
        double[] router = gaussian(rnd, E * D);
        double[] gate = gaussian(rnd, E * F * D);
        double[] up = gaussian(rnd, E * F * D);
        double[] down = gaussian(rnd, E * D * F);
        try (NDManager m = Pytorch.engine().newBaseManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            MoeLayer layer = new MoeLayer(new LinearRouter(m.create(f(router), new Shape(E, D))),
                    new SwiGluExperts(m.create(f(gate), new Shape(E, F, D)), m.create(f(up), new Shape(E, F, D)),
                            m.create(f(down), new Shape(E, D, F))), k, norm);
            MoeLayer.Result r = layer.forward(m.create(f(x), new Shape(N, D)), capacity);
            float[] out = r.output().toFloatArray();

            double[][] probs = new double[N][E];
            int[][] chosen = new int[N][k];
            int[] counts = new int[E];
            for (int t = 0; t < N; t++) {
                double max = Double.NEGATIVE_INFINITY;
                double[] logit = new double[E];
                for (int e = 0; e < E; e++) {
                    for (int i = 0; i < D; i++) {
                        logit[e] += router[e * D + i] * x[t * D + i];
                    }
                    max = Math.max(max, logit[e]);
                }
                double sum = 0;
                for (int e = 0; e < E; e++) {
                    sum += Math.exp(logit[e] - max);
                }
                for (int e = 0; e < E; e++) {
                    probs[t][e] = Math.exp(logit[e] - max) / sum;
                }
                Integer[] order = {0, 1, 2, 3, 4};
                final int tt = t;
                java.util.Arrays.sort(order, (a, b) -> Double.compare(probs[tt][b], probs[tt][a]));
                for (int j = 0; j < k; j++) {
                    chosen[t][j] = order[j];
                    counts[order[j]]++;
                }
            }
            // Capacity: ranks first, then tokens, each expert up to ceil(capacity * N * k / E).
            boolean[][] kept = new boolean[N][k];
            long cap = capacity > 0 ? (long) Math.ceil(capacity * N * k / E) : Long.MAX_VALUE;
            int[] used = new int[E];
            int dropped = 0;
            for (int j = 0; j < k; j++) {
                for (int t = 0; t < N; t++) {
                    if (used[chosen[t][j]] < cap) {
                        used[chosen[t][j]]++;
                        kept[t][j] = true;
                    } else {
                        dropped++;
                    }
                }
            }
            assertThat(r.counts()).containsExactly(counts);
            assertThat(r.dropped()).isEqualTo(dropped);
            if (capacity > 0) {
                assertThat(dropped).isPositive();
            }
            for (int t = 0; t < N; t++) {
                double gsum = 0;
                for (int j = 0; j < k; j++) {
                    gsum += probs[t][chosen[t][j]];
                }
                double[] expect = new double[D];
                for (int j = 0; j < k; j++) {
                    if (!kept[t][j]) {
                        continue;
                    }
                    int e = chosen[t][j];
                    double g = norm ? probs[t][e] / gsum : probs[t][e];
                    double[] y = expert(x, t, gate, up, down, e);
                    for (int i = 0; i < D; i++) {
                        expect[i] += g * y[i];
                    }
                }
                for (int i = 0; i < D; i++) {
                    assertThat((double) out[t * D + i]).isCloseTo(expect[i], within(1e-4 * (1 + Math.abs(expect[i]))));
                }
            }
            double aux = 0;
            for (int e = 0; e < E; e++) {
                double meanP = 0;
                for (int t = 0; t < N; t++) {
                    meanP += probs[t][e] / N;
                }
                aux += counts[e] / (double) (N * k) * meanP;
            }
            assertThat((double) r.auxLoss().getFloat()).isCloseTo(aux * E, within(1e-5));
            // Router z-loss (ST-MoE): the mean over tokens of the squared log-sum-exp of the router logits.
            double z = 0;
            for (int t = 0; t < N; t++) {
                double[] logit = new double[E];
                double max = Double.NEGATIVE_INFINITY;
                for (int e = 0; e < E; e++) {
                    for (int i = 0; i < D; i++) {
                        logit[e] += router[e * D + i] * x[t * D + i];
                    }
                    max = Math.max(max, logit[e]);
                }
                double sum = 0;
                for (double l : logit) {
                    sum += Math.exp(l - max);
                }
                double lse = max + Math.log(sum);
                z += lse * lse / N;
            }
            assertThat(z).isGreaterThan(1); // far from 0, so that a missing square or mean shows
            assertThat((double) r.zLoss().getFloat()).isCloseTo(z, within(1e-4 * z));
        }
    }

    @Test
    void gradientsReachTheRouterThroughTheGatesEvenWithTopOne() {
        SplittableRandom rnd = new SplittableRandom(3);
        try (NDManager m = Pytorch.engine().newBaseManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray router = m.create(f(gaussian(rnd, E * D)), new Shape(E, D));
            router.setRequiresGradient(true);
            MoeLayer layer = new MoeLayer(new LinearRouter(router),
                    new SwiGluExperts(m.create(f(gaussian(rnd, E * F * D)), new Shape(E, F, D)),
                            m.create(f(gaussian(rnd, E * F * D)), new Shape(E, F, D)),
                            m.create(f(gaussian(rnd, E * D * F)), new Shape(E, D, F))), 1, false);
            try (var gc = Pytorch.engine().newGradientCollector()) {
                gc.backward(layer.forward(m.create(f(gaussian(rnd, N * D)), new Shape(N, D)), 0).output().sum());
            }
            assertThat(router.getGradient().abs().sum().getFloat()).isGreaterThan(0f);
        }
    }

    private static double[] expert(double[] x, int t, double[] gate, double[] up, double[] down, int e) {
        double[] h = new double[F];
        for (int j = 0; j < F; j++) {
            double g = 0;
            double u = 0;
            for (int i = 0; i < D; i++) {
                g += gate[(e * F + j) * D + i] * x[t * D + i];
                u += up[(e * F + j) * D + i] * x[t * D + i];
            }
            h[j] = g / (1 + Math.exp(-g)) * u;
        }
        double[] y = new double[D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < F; j++) {
                y[i] += down[(e * D + i) * F + j] * h[j];
            }
        }
        return y;
    }

    private static double[] gaussian(SplittableRandom rnd, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rnd.nextDouble() * 2 - 1) * 0.8;
        }
        return v;
    }

    private static float[] f(double[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (float) a[i];
            a[i] = r[i]; // the reference sees exactly the float32 inputs
        }
        return r;
    }
}
