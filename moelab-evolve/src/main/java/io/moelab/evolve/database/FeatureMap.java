package io.moelab.evolve.database;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The MAP-Elites coordinates of programs: raw feature values, scaled by the range seen so far and cut into
 * bins. Ranges grow as programs arrive; a program keeps the cell it was placed in (OpenEvolve does the same),
 * so early cells are coarser than later ones.
 */
final class FeatureMap {
    static final String COMPLEXITY = "complexity";
    static final String DIVERSITY = "diversity";
    /** OpenEvolve's built-in fitness axis: the program's fitness, whatever the database ranks programs by. */
    static final String SCORE = "score";

    private final List<String> dimensions;
    private final int bins;
    private final double[] min;
    private final double[] max;
    private final ToDoubleFunction<Program> fitness;
    /** Token trigrams per program id: computing them is the costly part of the diversity measure. */
    private final Map<String, Set<Long>> shingles = new ConcurrentHashMap<>();

    /** @param fitness the database's scalar fitness, the value of the {@code score} dimension */
    FeatureMap(List<String> dimensions, int bins, ToDoubleFunction<Program> fitness) {
        this.dimensions = List.copyOf(dimensions);
        this.bins = bins;
        this.fitness = fitness;
        this.min = new double[dimensions.size()];
        this.max = new double[dimensions.size()];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
    }

    /**
     * Raw feature values of {@code p}, or null when it does not report a metric that is a dimension: it then has no
     * place in the grid. (Read as 0, it took a cell it had not earned, possibly an elite's, and stretched the range
     * of every later program's coordinate down to 0.)
     *
     * @param references programs the diversity measure compares against (the island's elites)
     */
    double[] raw(Program p, List<Program> references) {
        double[] v = new double[dimensions.size()];
        for (int d = 0; d < v.length; d++) {
            String name = dimensions.get(d);
            if (name.equals(COMPLEXITY)) {
                v[d] = p.code().length();
            } else if (name.equals(DIVERSITY)) {
                v[d] = diversity(p, references);
            } else if (name.equals(SCORE)) {
                // No finite fitness (a program without finite metrics): no place, as for a missing metric, rather
                // than an infinite end that would leave every later program's range infinite.
                if (!Double.isFinite(v[d] = fitness.applyAsDouble(p))) {
                    return null;
                }
            } else if (Double.isNaN(v[d] = p.metric(name))) {
                return null;
            }
        }
        return v;
    }

    /** Widens the ranges to include {@code raw}. */
    void observe(double[] raw) {
        for (int d = 0; d < raw.length; d++) {
            min[d] = Math.min(min[d], raw[d]);
            max[d] = Math.max(max[d], raw[d]);
        }
    }

    /** The cell of raw values under the current ranges, as "i,j,...". */
    String cell(double[] raw) {
        StringBuilder key = new StringBuilder();
        for (int d = 0; d < raw.length; d++) {
            double span = max[d] - min[d];
            double offset = raw[d] - min[d];
            if (Double.isInfinite(span) || Double.isInfinite(offset)) {
                // Finite ends more than a double's range apart (-1e308 and 1e308): halved, the differences fit,
                // where the infinite span put every value in bin 0. Other spans keep their exact arithmetic.
                span = max[d] / 2 - min[d] / 2;
                offset = raw[d] / 2 - min[d] / 2;
            }
            int bin = span > 0 ? (int) Math.floor(offset / span * bins) : 0;
            key.append(d == 0 ? "" : ",").append(Math.max(0, Math.min(bins - 1, bin)));
        }
        return key.toString();
    }

    /** Whether two cells are neighbours: every coordinate differs by at most one, and they differ. */
    static boolean adjacent(String a, String b) {
        if (a.equals(b)) {
            return false;
        }
        String[] x = a.split(",");
        String[] y = b.split(",");
        if (x.length != y.length) {
            return false;
        }
        for (int i = 0; i < x.length; i++) {
            if (Math.abs(Integer.parseInt(x[i]) - Integer.parseInt(y[i])) > 1) {
                return false;
            }
        }
        return true;
    }

    /** Ranges per dimension, for checkpoints. */
    double[][] ranges() {
        return new double[][] {min.clone(), max.clone()};
    }

    /** Restores ranges saved by {@link #ranges()}. */
    void restore(double[][] ranges) {
        System.arraycopy(ranges[0], 0, min, 0, min.length);
        System.arraycopy(ranges[1], 0, max, 0, max.length);
    }

    /** Mean Jaccard distance between the token trigrams of {@code p} and of each reference (0 with none). */
    private double diversity(Program p, List<Program> references) {
        Set<Long> own = shingles(p);
        double sum = 0;
        int n = 0;
        for (Program r : references) {
            if (r.id().equals(p.id())) {
                continue;
            }
            Set<Long> other = shingles(r);
            int common = 0;
            for (Long s : own) {
                common += other.contains(s) ? 1 : 0;
            }
            int union = own.size() + other.size() - common;
            sum += union == 0 ? 0 : 1 - (double) common / union;
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    /** Drops the cached trigrams of a program that can no longer be a reference (it left its island). */
    void forget(String id) {
        shingles.remove(id);
    }

    /** Ids whose trigrams are cached, for tests. */
    Set<String> cached() {
        return Set.copyOf(shingles.keySet());
    }

    private Set<Long> shingles(Program p) {
        return shingles.computeIfAbsent(p.id(), id -> {
            String[] tokens = p.code().split("\\W+");
            Set<Long> set = new HashSet<>();
            for (int i = 0; i + 2 < tokens.length; i++) {
                set.add(((long) tokens[i].hashCode() * 31 + tokens[i + 1].hashCode()) * 31 + tokens[i + 2].hashCode());
            }
            return set;
        });
    }
}
