package io.moelab.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The named, trainable tensors of a model, in creation order. Initial values come from a seeded Java generator, not
 * the engine's, so that a model is the same on every machine and engine version.
 */
public final class Parameters {
    private final NDManager manager;
    private final SplittableRandom random;
    private final Map<String, NDArray> byName = new LinkedHashMap<>();

    /**
     * An empty set of parameters.
     *
     * @param manager owns the tensors
     * @param seed    seeds the initial values
     */
    public Parameters(NDManager manager, long seed) {
        this.manager = manager;
        this.random = new SplittableRandom(seed);
    }

    /** A new parameter of normally distributed values with standard deviation {@code std}. */
    public NDArray normal(String name, double std, long... shape) {
        float[] v = new float[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (gaussian() * std);
        }
        return add(name, v, shape);
    }

    /** A new parameter with every value {@code value} (norm weights). */
    public NDArray constant(String name, float value, long... shape) {
        float[] v = new float[Math.toIntExact(new Shape(shape).size())];
        java.util.Arrays.fill(v, value);
        return add(name, v, shape);
    }

    private NDArray add(String name, float[] values, long... shape) {
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("a second parameter named " + name);
        }
        NDArray a = manager.create(values, new Shape(shape));
        a.setName(name);
        a.setRequiresGradient(true);
        NDScope.unregister(a);
        byName.put(name, a);
        return a;
    }

    private double gaussian() {
        // Marsaglia's polar method: SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default,
        // whose algorithm is not specified; this one is.
        double u;
        double v;
        double s;
        do {
            u = 2 * random.nextDouble() - 1;
            v = 2 * random.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    /** All parameters by name, in creation order. */
    public Map<String, NDArray> all() {
        return Collections.unmodifiableMap(byName);
    }

    /** The parameter {@code name}. */
    public NDArray get(String name) {
        NDArray a = byName.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return a;
    }

    /** The manager that owns the parameters. */
    public NDManager manager() {
        return manager;
    }
}
