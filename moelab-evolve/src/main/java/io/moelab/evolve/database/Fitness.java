package io.moelab.evolve.database;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Scalar fitness and Pareto dominance of programs, as the settings define them. */
final class Fitness {
    private final String metric;
    private final List<String> pareto;
    private final Set<String> dimensions;

    Fitness(DatabaseSettings settings) {
        this.metric = settings.fitnessMetric();
        this.pareto = settings.paretoMetrics();
        this.dimensions = Set.copyOf(settings.featureDimensions());
    }

    /**
     * The scalar fitness: the fitness metric, else the mean of the finite metrics that are not grid dimensions (of
     * all of them when every one is), finite however large they are; negative infinity for a failed or unscored
     * program, so that it never wins a comparison.
     */
    double of(Program p) {
        if (!p.valid()) {
            return Double.NEGATIVE_INFINITY;
        }
        double v = p.metric(metric);
        if (!Double.isNaN(v)) {
            return v;
        }
        // A dimension is an axis of diversity, not an objective: counted, a task's memory_kb = 5000 beside
        // accuracy = 0.9 made the run evolve toward more memory. OpenEvolve leaves them out alike.
        List<Double> objectives = p.metrics().entrySet().stream().filter(e -> !dimensions.contains(e.getKey()))
                .map(Map.Entry::getValue).filter(Double::isFinite).toList();
        if (objectives.isEmpty()) {
            objectives = p.metrics().values().stream().filter(Double::isFinite).toList();
        }
        double sum = 0;
        for (double m : objectives) {
            sum += m;
        }
        int n = objectives.size();
        if (n == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        // Finite metrics summing past a double's range (1e308 twice) have a finite mean all the same: summed
        // exactly, else the program was infinitely fit. Other sums keep their plain mean, bit for bit.
        return Double.isInfinite(sum) ? exactMean(objectives, n) : sum / n;
    }

    private static double exactMean(List<Double> metrics, int n) {
        BigDecimal sum = BigDecimal.ZERO;
        for (double m : metrics) {
            sum = sum.add(new BigDecimal(m));
        }
        return sum.divide(BigDecimal.valueOf(n), MathContext.DECIMAL128).doubleValue();
    }

    /** Whether {@code a} is better than {@code b}: dominates it in Pareto mode, has higher fitness otherwise. */
    boolean better(Program a, Program b) {
        if (pareto.isEmpty()) {
            return of(a) > of(b);
        }
        return dominates(a, b);
    }

    /** Pareto dominance over the chosen metrics: no worse in any, better in one. Failed programs never dominate. */
    boolean dominates(Program a, Program b) {
        if (!a.valid()) {
            return false;
        }
        if (!b.valid()) {
            return true;
        }
        boolean strictly = false;
        for (String spec : pareto) {
            double x = objective(a, spec);
            double y = objective(b, spec);
            if (x < y) {
                return false;
            }
            strictly |= x > y;
        }
        return strictly;
    }

    /** A Pareto objective, oriented so that larger is better; a missing metric is the worst value. */
    static double objective(Program p, String spec) {
        boolean minimize = spec.startsWith("-");
        double v = p.metric(minimize ? spec.substring(1) : spec);
        if (Double.isNaN(v)) {
            return Double.NEGATIVE_INFINITY;
        }
        return minimize ? -v : v;
    }
}
