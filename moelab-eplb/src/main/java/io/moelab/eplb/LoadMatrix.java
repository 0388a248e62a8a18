package io.moelab.eplb;

import java.util.Arrays;
import java.util.Objects;

/**
 * Per-layer, per-logical-expert load (tokens routed to each expert) of one window of traffic: an immutable,
 * validated {@code layers × experts} matrix. Every instance is non-empty, rectangular, finite and
 * non-negative, so algorithms and evaluators never re-check their input. Loads are tokens (any non-negative
 * count, not necessarily whole). Immutable, so safe to share between threads; equal when shape and every load are.
 */
public final class LoadMatrix {
    private final int layers;
    private final int experts;
    private final double[] values; // row-major, layers * experts

    private LoadMatrix(int layers, int experts, double[] values) {
        this.layers = layers;
        this.experts = experts;
        this.values = values;
    }

    /**
     * Validates and copies a matrix given as rows.
     *
     * @param rows  {@code [layers][experts]}
     * @param field name used in error messages, e.g. {@code weight}
     * @throws InvalidInputException for an empty or ragged matrix or a negative, NaN or infinite entry,
     *                               naming the entry as {@code field[layer][expert]}
     */
    public static LoadMatrix of(double[][] rows, String field) {
        if (rows == null || rows.length == 0) {
            throw new InvalidInputException(field, "is empty (expected [layers][experts] loads)");
        }
        int experts = rows[0] == null ? 0 : rows[0].length;
        if (experts == 0) {
            throw new InvalidInputException(field + "[0]", "is empty (expected one load per expert)");
        }
        double[] flat = new double[size(rows.length, experts, field)];
        for (int l = 0; l < rows.length; l++) {
            double[] row = rows[l];
            int length = row == null ? 0 : row.length;
            if (length != experts) {
                throw new InvalidInputException(field + "[" + l + "]",
                        "has " + length + " values, expected " + experts + " like " + field + "[0] (ragged matrix)");
            }
            System.arraycopy(row, 0, flat, l * experts, experts);
        }
        return ofFlat(rows.length, experts, flat, field);
    }

    /**
     * Validates and copies a row-major matrix.
     *
     * @param rowMajor {@code layers * experts} loads, {@code [layer * experts + expert]}; copied, not kept
     * @throws NullPointerException     if {@code rowMajor} is null
     * @throws IllegalArgumentException if {@code rowMajor} does not hold {@code layers * experts} values
     * @throws InvalidInputException    as {@link #of(double[][], String)}, or naming {@code field} for a shape that
     *                                  is empty or holds more loads than an array can
     */
    public static LoadMatrix ofFlat(int layers, int experts, double[] rowMajor, String field) {
        Objects.requireNonNull(rowMajor, "rowMajor");
        if (layers <= 0 || experts <= 0) {
            throw new InvalidInputException(field, "is empty (" + Nouns.count(layers, "layer") + " x "
                    + Nouns.count(experts, "expert") + ")");
        }
        int size = size(layers, experts, field);
        if (rowMajor.length != size) {
            throw new IllegalArgumentException("expected " + size + " values, got " + rowMajor.length);
        }
        double[] copy = rowMajor.clone();
        for (int i = 0; i < copy.length; i++) {
            double v = copy[i];
            if (!(v >= 0) || v == Double.POSITIVE_INFINITY) {
                String where = field + "[" + i / experts + "][" + i % experts + "]";
                throw new InvalidInputException(where, Double.isNaN(v) ? "load is NaN"
                        : Double.isInfinite(v) ? "load is infinite" : "load is negative (" + Numbers.plain(v) + ")");
            }
            copy[i] = v + 0.0; // turns -0.0 into +0.0, so sorts by bit pattern stay monotone
        }
        return new LoadMatrix(layers, experts, copy);
    }

    /**
     * {@code layers * experts}, refused where it exceeds an array's int index: the int product wrapped around, and
     * 65,536 x 65,536 made a matrix of no values.
     */
    private static int size(int layers, int experts, String field) {
        long size = (long) layers * experts;
        if (size > Integer.MAX_VALUE) {
            throw new InvalidInputException(field, Nouns.count(layers, "layer") + " x " + Nouns.count(experts, "expert")
                    + " is more loads than one matrix holds (at most " + Integer.MAX_VALUE + ")");
        }
        return (int) size;
    }

    /**
     * Largest load a balancer plans on: 2^53 tokens, the largest count a double holds exactly. Files may hold any
     * finite load, but planning sums and squares them: loads near the largest double (1e308) made a layer's total
     * infinite and every balancedness NaN.
     */
    public static final double MAX_PLANNED_LOAD = 0x1p53;

    /**
     * Checks that every load is at most {@link #MAX_PLANNED_LOAD}.
     *
     * @param field names the matrix in the error, e.g. {@code weight}
     * @throws InvalidInputException naming the first load above it
     */
    public void requirePlannable(String field) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] > MAX_PLANNED_LOAD) {
                throw new InvalidInputException(field + "[" + i / experts + "][" + i % experts + "]", "load "
                        + values[i] + " is above 2^53 tokens, which planning cannot sum or square reliably");
            }
        }
    }

    /** Sums matrices of equal shape entry by entry, e.g. the steps of one window. */
    public static LoadMatrix sum(Iterable<LoadMatrix> matrices) {
        Sum sum = null;
        for (LoadMatrix m : matrices) {
            if (sum == null) {
                sum = new Sum(m.layers, m.experts);
            }
            sum.add(m);
        }
        if (sum == null) {
            throw new IllegalArgumentException("nothing to sum");
        }
        return sum.take();
    }

    /**
     * A running entry-by-entry sum of matrices of one shape, added one at a time: the same additions in the same
     * order as {@link #sum(Iterable)} of them, so the same bits, without holding the matrices (a trace's steps
     * summed into windows as they are read). Not thread-safe.
     */
    public static final class Sum {
        private final int layers;
        private final int experts;
        private double[] acc;
        private int added;

        /** An empty sum of {@code layers x experts} matrices. */
        public Sum(int layers, int experts) {
            this.layers = layers;
            this.experts = experts;
            this.acc = new double[layers * experts];
        }

        /**
         * Adds a matrix.
         *
         * @throws InvalidInputException if its shape differs
         */
        public void add(LoadMatrix m) {
            m.requireShape(layers, experts, "summed matrix");
            for (int i = 0; i < acc.length; i++) {
                acc[i] += m.values[i];
            }
            added++;
        }

        /** Matrices added since the last {@link #take()}. */
        public int added() {
            return added;
        }

        /**
         * The sum of the matrices added, after which this sum starts again from none.
         *
         * @throws IllegalStateException if none was added
         */
        public LoadMatrix take() {
            if (added == 0) {
                throw new IllegalStateException("nothing to sum");
            }
            LoadMatrix result = new LoadMatrix(layers, experts, acc);
            acc = new double[acc.length];
            added = 0;
            return result;
        }
    }

    /** MoE layers (rows). */
    public int layers() {
        return layers;
    }

    /** Logical experts per layer (columns). */
    public int experts() {
        return experts;
    }

    /**
     * The load of {@code expert} in {@code layer}, in tokens.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= layer < layers()} and {@code 0 <= expert < experts()}
     */
    public double load(int layer, int expert) {
        // Checked apart: in the row-major array (0, E) is (1, 0), which read the next layer's load without a word.
        return values[Objects.checkIndex(layer, layers) * experts + Objects.checkIndex(expert, experts)];
    }

    /** Sum of the loads of one layer. */
    public double layerTotal(int layer) {
        double total = 0;
        for (int e = 0, base = layer * experts; e < experts; e++) {
            total += values[base + e];
        }
        return total;
    }

    /** Copies one layer's loads into {@code dst}, which must hold {@link #experts()} values. */
    public void copyLayer(int layer, double[] dst) {
        System.arraycopy(values, layer * experts, dst, 0, experts);
    }

    /** Copies every load, row-major ({@code layer * experts + expert}), into {@code dst}. */
    public void copyTo(double[] dst) {
        System.arraycopy(values, 0, dst, 0, values.length);
    }

    /** A fresh {@code [layers][experts]} copy. */
    public double[][] toArray() {
        double[][] rows = new double[layers][];
        for (int l = 0; l < layers; l++) {
            rows[l] = Arrays.copyOfRange(values, l * experts, (l + 1) * experts);
        }
        return rows;
    }

    /**
     * Throws unless this matrix is {@code layers × experts}.
     *
     * @param field name of this matrix in the error message
     */
    public void requireShape(int layers, int experts, String field) {
        if (this.layers != layers || this.experts != experts) {
            throw new InvalidInputException(field, "is " + shape() + ", expected "
                    + Nouns.count(layers, "layer") + " x " + Nouns.count(experts, "expert"));
        }
    }

    /** The shape as {@code "L layers x E experts"}. */
    public String shape() {
        return Nouns.count(layers, "layer") + " x " + Nouns.count(experts, "expert");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LoadMatrix m && m.layers == layers && m.experts == experts
                && Arrays.equals(m.values, values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * layers + experts) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "LoadMatrix[" + shape() + "]";
    }
}
