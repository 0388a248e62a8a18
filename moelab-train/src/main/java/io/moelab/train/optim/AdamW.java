package io.moelab.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * AdamW (Loshchilov and Hutter) with decoupled weight decay on matrices only (not on norm weights), and
 * clipping of the global gradient norm.
 *
 * <p>Written here rather than taken from DJL's {@code Optimizer.adamW()} because an exact {@code --resume} needs
 * the moment estimates, which DJL's optimizers keep private: this one exposes them for checkpoints.
 */
public final class AdamW {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, NDArray> params;
    private final Map<String, NDArray> first = new LinkedHashMap<>();
    private final Map<String, NDArray> second = new LinkedHashMap<>();
    private long steps;

    /**
     * An optimizer for {@code params}, with zeroed moment estimates.
     *
     * @param params      the trainable tensors by name (their gradients are read and zeroed)
     * @param manager     owns the moment estimates
     * @param beta1       first-moment decay
     * @param beta2       second-moment decay
     * @param eps         added to the root of the second moment
     * @param weightDecay decoupled decay per unit of learning rate, applied to tensors of rank 2 and more
     * @throws IllegalArgumentException if a beta is outside [0, 1), {@code eps} is not a finite number above 0 or
     *                                  {@code weightDecay} not a finite number of at least 0
     */
    public AdamW(Map<String, NDArray> params, NDManager manager, double beta1, double beta2, double eps,
                 double weightDecay) {
        // Checked here, not at the first update: beta1 1 made the bias correction 0 and the weights NaN silently.
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(manager, "manager");
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must lie in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must lie in [0, 1), got " + beta2);
        }
        if (!(eps > 0 && Double.isFinite(eps))) {
            throw new IllegalArgumentException("eps must be a finite number > 0, got " + eps);
        }
        if (!(weightDecay >= 0 && Double.isFinite(weightDecay))) {
            throw new IllegalArgumentException("weight decay must be a finite number >= 0, got " + weightDecay);
        }
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        params.forEach((name, p) -> {
            NDArray m = manager.zeros(p.getShape());
            NDArray v = manager.zeros(p.getShape());
            NDScope.unregister(m, v);
            first.put(name, m);
            second.put(name, v);
        });
    }

    /**
     * The global L2 norm of all gradients, summed in float64: squared in float, a gradient above about 1.8e19
     * overflowed to an infinite norm, whose clipping scale of 0 zeroed the step instead of clipping it.
     */
    public double gradientNorm() {
        double sum = 0;
        for (NDArray p : params.values()) {
            // One scope per tensor: its float64 copies are freed before the next is made.
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                sum += p.getGradient().toType(DataType.FLOAT64, false).square().sum().getDouble();
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * One update with learning rate {@code lr}; gradients are scaled so that their global norm is at most
     * {@code clip} (0: no clipping), then zeroed.
     *
     * @return the global gradient norm before clipping
     */
    public double step(double lr, double clip) {
        double norm = gradientNorm();
        double scale = clip > 0 && norm > clip ? clip / norm : 1.0;
        steps++;
        double c1 = 1 - Math.pow(beta1, steps);
        double c2 = 1 - Math.pow(beta2, steps);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray p = e.getValue();
                NDArray g = p.getGradient();
                if (scale != 1.0) {
                    g = g.mul((float) scale);
                }
                NDArray m = first.get(e.getKey());
                NDArray v = second.get(e.getKey());
                m.muli((float) beta1).addi(g.mul((float) (1 - beta1)));
                v.muli((float) beta2).addi(g.square().mul((float) (1 - beta2)));
                if (weightDecay > 0 && p.getShape().dimension() >= 2) {
                    p.muli((float) (1 - lr * weightDecay));
                }
                NDArray update = m.div((float) c1).div(v.div((float) c2).sqrt().add((float) eps)).mul((float) lr);
                p.subi(update);
                p.getGradient().muli(0);
            }
        }
        return norm;
    }

    /** Updates taken so far (the bias corrections depend on it). */
    public long steps() {
        return steps;
    }

    /**
     * Restores the update count of a checkpoint.
     *
     * @throws IllegalArgumentException if {@code restored} is negative (the bias corrections would be negative)
     */
    public void steps(long restored) {
        if (restored < 0) {
            throw new IllegalArgumentException("an update count must be at least 0, got " + restored);
        }
        this.steps = restored;
    }

    /** First-moment estimates by parameter name (live tensors: checkpoints read and restore them). */
    public Map<String, NDArray> firstMoments() {
        return first;
    }

    /** Second-moment estimates by parameter name (live tensors). */
    public Map<String, NDArray> secondMoments() {
        return second;
    }
}
