package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.util.Arrays;
import java.util.Objects;

/**
 * A rectangular nested JSON array of numbers of any depth, read in one pass: its shape and its values in
 * row-major order. Values are not range-checked here; {@link io.moelab.eplb.LoadMatrix} validates loads. The arrays
 * are the record's own, not copied; {@code equals} compares them by identity, as for any record.
 *
 * @param shape  length at each depth, outermost first
 * @param values row-major values
 */
public record NumericArray(int[] shape, double[] values) {

    /** Nesting depth: 2 for a matrix. */
    public int depth() {
        return shape.length;
    }

    /**
     * This array as a validated {@code [layers][experts]} load matrix.
     *
     * @param path JSON path for error messages
     * @throws InvalidInputException if it is not 2-D or holds an invalid load
     */
    public LoadMatrix toLoadMatrix(String path) {
        if (depth() != 2) {
            throw new InvalidInputException(path, "expected [layers][experts] but found a " + depth()
                    + "-dimensional array");
        }
        return LoadMatrix.ofFlat(shape[0], shape[1], values, path);
    }

    /** Each top-level element as a row-major block: for a 3-D array, its matrices. */
    public double[] block(int index) {
        int size = values.length / shape[0];
        return Arrays.copyOfRange(values, index * size, (index + 1) * size);
    }

    /**
     * Reads the next value as a rectangular nested array of numbers.
     *
     * @param path JSON path of the value, for error messages, e.g. {@code load_history[3].logical_expert_load}
     * @throws InvalidInputException naming the offending element for a ragged or empty array or a value that
     *                               is not a number
     */
    public static NumericArray read(JsonReader reader, String path) {
        return read(reader, path, Limits.NONE);
    }

    /**
     * Reads the next value as {@link #read(JsonReader, String)} does, refusing it as soon as an innermost array or
     * matrix passes {@code limits}: before the rest of it is read or held.
     *
     * @throws InvalidInputException as {@link #read(JsonReader, String)}, or naming the array past a limit
     */
    public static NumericArray read(JsonReader reader, String path, Limits limits) {
        Builder b = new Builder(null, limits, path);
        b.readLevel(reader, 0);
        return new NumericArray(Arrays.copyOf(b.shape, b.depth), Arrays.copyOf(b.values, b.size));
    }

    /** Receives a nested array's top-level elements one at a time, as {@link #readElements} reads them. */
    @FunctionalInterface
    public interface ElementSink {
        /**
         * Takes the next top-level element.
         *
         * @param index  the element's index in the array
         * @param shape  the element's shape: the array's less its outermost length (empty for a number); the same
         *               array for every element, not to be changed
         * @param values the element's values, row-major: the sink's own
         */
        void accept(int index, int[] shape, double[] values);
    }

    /**
     * Reads the next value as {@link #read} does, with the same checks and errors, but hands each top-level element
     * to {@code elements} as soon as it is read (and checked against the elements before it) instead of keeping it:
     * memory grows with one element, not with the array. An error later in the array comes after the elements
     * before it were handed over.
     *
     * @return the array's shape, outermost first
     * @throws InvalidInputException as {@link #read}
     */
    public static int[] readElements(JsonReader reader, String path, ElementSink elements) {
        return readElements(reader, path, elements, Limits.NONE);
    }

    /**
     * Reads the next value as {@link #readElements(JsonReader, String, ElementSink)} does, refusing it as soon as an
     * innermost array or matrix passes {@code limits}, as {@link #read(JsonReader, String, Limits)} does.
     *
     * @return the array's shape, outermost first
     * @throws InvalidInputException as {@link #read(JsonReader, String, Limits)}
     */
    public static int[] readElements(JsonReader reader, String path, ElementSink elements, Limits limits) {
        Objects.requireNonNull(elements, "elements");
        Builder b = new Builder(elements, limits, path);
        b.readLevel(reader, 0);
        return Arrays.copyOf(b.shape, b.depth);
    }

    /**
     * Bounds on an array's size, checked as it is read so that a small (compressed) document cannot make the reader
     * hold more than the caller can use: a row of 2^28 zeros is a 256 KiB gzip file and 2 GB of doubles.
     *
     * @param row          the most numbers an innermost array may hold
     * @param matrix       the most numbers an innermost matrix (the two innermost levels) may hold
     * @param total        the most numbers the whole array may hold, all levels together: rows and matrices within
     *                     their bounds can still add up without end in an array of three levels or more
     * @param rowExcess    the problem with a row past {@code row}, after its path, e.g. {@code "has more than ..."}
     * @param matrixExcess the problem with a matrix past {@code matrix}, after its path
     * @param totalExcess  the problem with an array past {@code total}, after the whole array's path
     */
    public record Limits(int row, long matrix, long total, String rowExcess, String matrixExcess,
                         String totalExcess) {
        /** No bounds but what an array can hold. */
        public static final Limits NONE = new Limits(Integer.MAX_VALUE, Long.MAX_VALUE, "", "");

        /** Validates the bounds. */
        public Limits {
            if (row < 1 || matrix < 1 || total < 1) {
                throw new IllegalArgumentException("limits must be positive: " + row + ", " + matrix + ", " + total);
            }
            Objects.requireNonNull(rowExcess, "rowExcess");
            Objects.requireNonNull(matrixExcess, "matrixExcess");
            Objects.requireNonNull(totalExcess, "totalExcess");
        }

        /** Bounds on rows and matrices only (an array read element by element holds one element at a time). */
        public Limits(int row, long matrix, String rowExcess, String matrixExcess) {
            this(row, matrix, Long.MAX_VALUE, rowExcess, matrixExcess, "");
        }

        /** These bounds with the whole array's at {@code total}, past which {@code totalExcess} is the problem. */
        public Limits withTotal(long total, String totalExcess) {
            return new Limits(row, matrix, total, rowExcess, matrixExcess, totalExcess);
        }
    }

    private static final class Builder {
        private final ElementSink elements;
        private final Limits limits;
        /** Numbers read so far, in all. */
        private long added;
        /** The whole array's path. */
        private final String root;
        /** Per level being read, the numbers read before it began ({@link #added} then), and its element's index. */
        private long[] starts = new long[8];
        private int[] indices = new int[8];
        private int[] shape = new int[8];
        private int depth = -1; // known once the first scalar is reached
        private double[] values = new double[1024];
        private int size;
        private int[] elementShape; // shape[1..depth), known once the first element is read

        Builder(ElementSink elements, Limits limits, String root) {
            this.elements = elements;
            this.root = root;
            this.limits = Objects.requireNonNull(limits, "limits");
        }

        /**
         * The path of the array being read at {@code level}: made only for an error, not as a string per number read
         * (a step of 2^24 numbers is parsed before it is refused).
         */
        private String path(int level) {
            StringBuilder path = new StringBuilder(root);
            for (int l = 0; l < level; l++) {
                path.append('[').append(indices[l]).append(']');
            }
            return path.toString();
        }

        /** The path of element {@code index} of the array being read at {@code level}. */
        private String path(int level, int index) {
            return path(level) + "[" + index + "]";
        }

        void readLevel(JsonReader reader, int level) {
            JsonReader.Token t = reader.peek();
            if (t != JsonReader.Token.BEGIN_ARRAY) {
                throw new InvalidInputException(path(level), "expected an array but found " + t.phrase());
            }
            reader.beginArray();
            if (level >= starts.length) {
                starts = Arrays.copyOf(starts, 2 * starts.length);
                indices = Arrays.copyOf(indices, 2 * indices.length);
            }
            starts[level] = added;
            int count = 0;
            while (reader.hasNext()) {
                indices[level] = count;
                JsonReader.Token next = reader.peek();
                boolean leafLevel = depth >= 0 ? level == depth - 1 : next != JsonReader.Token.BEGIN_ARRAY;
                if (leafLevel) {
                    if (depth < 0) {
                        depth = level + 1;
                    }
                    if (next != JsonReader.Token.NUMBER) {
                        throw new InvalidInputException(path(level, count), "expected a number but found "
                                + next.phrase());
                    }
                    // Refused before the number is held, so a refused array never holds more than a limit's worth.
                    if (count == limits.row()) {
                        throw new InvalidInputException(path(level), limits.rowExcess());
                    }
                    if (depth >= 2 && added - starts[depth - 2] == limits.matrix()) {
                        throw new InvalidInputException(path(depth - 2), limits.matrixExcess());
                    }
                    if (added == limits.total()) {
                        throw new InvalidInputException(root, limits.totalExcess());
                    }
                    add(reader.nextDouble());
                } else {
                    if (level + 1 >= 64) {
                        throw new InvalidInputException(path(level, count), "arrays nested too deeply");
                    }
                    readLevel(reader, level + 1);
                }
                if (level == 0 && elements != null) {
                    if (elementShape == null) {
                        elementShape = Arrays.copyOfRange(shape, 1, depth);
                    }
                    elements.accept(count, elementShape, Arrays.copyOf(values, size));
                    size = 0;
                }
                count++;
            }
            reader.endArray();
            if (count == 0) {
                throw new InvalidInputException(path(level), "is an empty array");
            }
            if (level >= shape.length) {
                // The innermost level finishes first, so the level may be more than one doubling away.
                shape = Arrays.copyOf(shape, Math.max(shape.length * 2, level + 1));
            }
            if (shape[level] == 0) {
                shape[level] = count;
            } else if (shape[level] != count) {
                throw new InvalidInputException(path(level), "has " + count + " elements where earlier arrays at this "
                        + "depth have " + shape[level] + " (ragged array)");
            }
        }

        private void add(double v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[size++] = v;
            added++;
        }
    }
}
