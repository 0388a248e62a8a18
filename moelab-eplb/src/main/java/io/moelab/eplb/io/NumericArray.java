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
        Builder b = new Builder(null);
        b.readLevel(reader, path, 0);
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
        Objects.requireNonNull(elements, "elements");
        Builder b = new Builder(elements);
        b.readLevel(reader, path, 0);
        return Arrays.copyOf(b.shape, b.depth);
    }

    private static final class Builder {
        private final ElementSink elements;
        private int[] shape = new int[8];
        private int depth = -1; // known once the first scalar is reached
        private double[] values = new double[1024];
        private int size;
        private int[] elementShape; // shape[1..depth), known once the first element is read

        Builder(ElementSink elements) {
            this.elements = elements;
        }

        void readLevel(JsonReader reader, String path, int level) {
            JsonReader.Token t = reader.peek();
            if (t != JsonReader.Token.BEGIN_ARRAY) {
                throw new InvalidInputException(path, "expected an array but found " + t.phrase());
            }
            reader.beginArray();
            int count = 0;
            while (reader.hasNext()) {
                String child = path + "[" + count + "]";
                JsonReader.Token next = reader.peek();
                boolean leafLevel = depth >= 0 ? level == depth - 1 : next != JsonReader.Token.BEGIN_ARRAY;
                if (leafLevel) {
                    if (depth < 0) {
                        depth = level + 1;
                    }
                    if (next != JsonReader.Token.NUMBER) {
                        throw new InvalidInputException(child, "expected a number but found " + next.phrase());
                    }
                    add(reader.nextDouble());
                } else {
                    if (level + 1 >= 64) {
                        throw new InvalidInputException(child, "arrays nested too deeply");
                    }
                    readLevel(reader, child, level + 1);
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
                throw new InvalidInputException(path, "is an empty array");
            }
            if (level >= shape.length) {
                // The innermost level finishes first, so the level may be more than one doubling away.
                shape = Arrays.copyOf(shape, Math.max(shape.length * 2, level + 1));
            }
            if (shape[level] == 0) {
                shape[level] = count;
            } else if (shape[level] != count) {
                throw new InvalidInputException(path, "has " + count + " elements where earlier arrays at this depth "
                        + "have " + shape[level] + " (ragged array)");
            }
        }

        private void add(double v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[size++] = v;
        }
    }
}
