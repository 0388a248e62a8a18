package io.moelab.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.moelab.train.engine.Pytorch;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** AdamW against a scalar float64 implementation written out from the paper. */
class AdamWTest {
    @Test
    void matchesAScalarReferenceWithClippingAndDecoupledDecay() {
        double lr = 0.1;
        double b1 = 0.9;
        double b2 = 0.95;
        double eps = 1e-8;
        double wd = 0.1;
        double clip = 1.0;
        double[] w = {0.5, -1.0, 2.0, 0.25}; // a 2x2 matrix: decayed
        double[] n = {1.0, 1.0};              // a vector (norm weight): not decayed
        double[][] gw = {{3, 4, 0, 0}, {0.1, -0.2, 0.3, 0.0}};
        double[][] gn = {{0, 0}, {0.05, -0.05}};
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            NDArray pw = m.create(toFloat(w), new Shape(2, 2));
            NDArray pn = m.create(toFloat(n), new Shape(2));
            pw.setRequiresGradient(true);
            pn.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", pw);
            params.put("n", pn);
            AdamW opt = new AdamW(params, m, b1, b2, eps, wd);
            double[] mw = new double[4];
            double[] vw = new double[4];
            double[] mn = new double[2];
            double[] vn = new double[2];
            for (int step = 0; step < 2; step++) {
                // loss = sum(w * Gw) + sum(n * Gn) has exactly the gradients Gw and Gn.
                try (NDScope scope = new NDScope();
                     GradientCollector gc = Pytorch.engine().newGradientCollector()) {
                    scope.suppressNotUsedWarning();
                    NDArray loss = pw.mul(m.create(toFloat(gw[step]), new Shape(2, 2))).sum()
                            .add(pn.mul(m.create(toFloat(gn[step]))).sum());
                    gc.backward(loss);
                }
                double norm = Math.sqrt(sq(gw[step]) + sq(gn[step]));
                double scale = norm > clip ? clip / norm : 1;
                double reportedNorm = opt.step(lr, clip);
                assertThat(reportedNorm).isCloseTo(norm, within(1e-5));
                int t = step + 1;
                update(w, gw[step], mw, vw, scale, lr, b1, b2, eps, wd, t);
                update(n, gn[step], mn, vn, scale, lr, b1, b2, eps, 0, t);
                float[] aw = pw.toFloatArray();
                float[] an = pn.toFloatArray();
                for (int i = 0; i < 4; i++) {
                    assertThat((double) aw[i]).isCloseTo(w[i], within(1e-5));
                }
                for (int i = 0; i < 2; i++) {
                    assertThat((double) an[i]).isCloseTo(n[i], within(1e-5));
                }
                assertThat(pw.getGradient().abs().sum().getFloat()).isZero(); // zeroed for the next step
            }
            assertThat(opt.steps()).isEqualTo(2);
        }
    }

    /**
     * Gradients of 1e20 square to 1e40, beyond float: the norm was infinite, the clipping scale clip / norm was 0 and
     * the step did nothing. Summed in float64, the norm is 2e20 and the step is clipped as any other.
     */
    @Test
    void aGradientTooLargeToSquareInFloatIsClippedNotZeroed() {
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            NDArray p = m.create(new float[] {1, 1, 1, 1});
            p.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("p", p);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0);
            try (NDScope scope = new NDScope();
                 GradientCollector gc = Pytorch.engine().newGradientCollector()) {
                scope.suppressNotUsedWarning();
                gc.backward(p.mul(m.create(new float[] {1e20f, 1e20f, 1e20f, 1e20f})).sum());
            }
            // sqrt(4 x 1e40) = 2e20.
            assertThat(opt.step(0.1, 1.0)).isCloseTo(2e20, within(1e14));
            // Clipped to 0.5 each; AdamW's first step moves each weight by lr: m / sqrt(v) after bias correction
            // is 0.5 / 0.5.
            for (float w : p.toFloatArray()) {
                assertThat((double) w).isCloseTo(0.9, within(1e-6));
            }
        }
    }

    private static void update(double[] p, double[] g, double[] m, double[] v, double scale, double lr, double b1,
                               double b2, double eps, double wd, int t) {
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] * scale;
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            double mh = m[i] / (1 - Math.pow(b1, t));
            double vh = v[i] / (1 - Math.pow(b2, t));
            p[i] = p[i] * (1 - lr * wd) - lr * mh / (Math.sqrt(vh) + eps);
        }
    }

    private static double sq(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return s;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    /**
     * Hyper-parameters that cannot be an AdamW were taken and failed at the first update, silently: beta1 1 divides
     * the first moment by its bias correction 0 (infinite or NaN weights), a negative update count makes the
     * corrections negative and the root of the second moment NaN.
     */
    @Test
    void refusesSettingsThatCannotBeAnAdamW() {
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> none = Map.of();
            String[][] cases = {
                {"1", "0.95", "1e-8", "0.1", "beta1 must lie in [0, 1), got 1.0"},
                {"0.9", "-0.5", "1e-8", "0.1", "beta2 must lie in [0, 1), got -0.5"},
                {"0.9", "NaN", "1e-8", "0.1", "beta2 must lie in [0, 1), got NaN"},
                {"0.9", "0.95", "0", "0.1", "eps must be a finite number > 0, got 0.0"},
                {"0.9", "0.95", "1e-8", "-1", "weight decay must be a finite number >= 0, got -1.0"},
                {"0.9", "0.95", "1e-8", "Infinity", "weight decay must be a finite number >= 0, got Infinity"}};
            for (String[] c : cases) {
                assertThatThrownBy(() -> new AdamW(none, m, Double.parseDouble(c[0]), Double.parseDouble(c[1]),
                        Double.parseDouble(c[2]), Double.parseDouble(c[3])))
                        .as(c[4]).isInstanceOf(IllegalArgumentException.class).hasMessage(c[4]);
            }
            AdamW ok = new AdamW(none, m, 0.9, 0.95, 1e-8, 0.1);
            assertThatThrownBy(() -> ok.steps(-5)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("an update count must be at least 0, got -5");
            assertThatThrownBy(() -> new AdamW(null, m, 0.9, 0.95, 1e-8, 0.1))
                    .isInstanceOf(NullPointerException.class).hasMessage("params");
        }
    }
}
