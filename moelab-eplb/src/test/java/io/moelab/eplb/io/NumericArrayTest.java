package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;
import org.quicktheories.impl.Constraint;

class NumericArrayTest {
    private static NumericArray read(String json) {
        JsonReader r = new JsonReader(new StringReader(json), "t.json");
        NumericArray a = NumericArray.read(r, "w");
        r.endDocument();
        return a;
    }

    @Test
    void readsShapeAndRowMajorValuesAtEveryDepth() {
        NumericArray one = read("[1.5]");
        assertThat(one.shape()).containsExactly(1);
        assertThat(one.depth()).isEqualTo(1);
        assertThat(one.values()).containsExactly(1.5);

        NumericArray two = read("[[1, 2, 3], [4, 5, 6]]");
        assertThat(two.shape()).containsExactly(2, 3);
        assertThat(two.depth()).isEqualTo(2);
        assertThat(two.values()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(two.block(1)).containsExactly(4, 5, 6);

        NumericArray three = read("[[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]");
        assertThat(three.shape()).containsExactly(2, 3, 2);
        assertThat(three.values()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        assertThat(three.block(0)).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(three.block(1)).containsExactly(7, 8, 9, 10, 11, 12);

        NumericArray four = read("[[[[1], [2]]], [[[3], [4]]], [[[5], [6]]]]");
        assertThat(four.shape()).containsExactly(3, 1, 2, 1);
        assertThat(four.block(2)).containsExactly(5, 6);
    }

    @Test
    void deeperThanTheInitialShapeArrayGrows() {
        int depth = 20; // the builder starts with room for 8 levels
        NumericArray a = read("[".repeat(depth) + "7, 8" + "]".repeat(depth));
        int[] expected = new int[depth];
        Arrays.fill(expected, 1);
        expected[depth - 1] = 2;
        assertThat(a.shape()).containsExactly(expected);
        assertThat(a.values()).containsExactly(7, 8);
    }

    @Test
    void nestingIsLimitedTo64Levels() {
        assertThat(read("[".repeat(64) + "1" + "]".repeat(64)).depth()).isEqualTo(64);
        String path = "w" + "[0]".repeat(64);
        assertThatThrownBy(() -> read("[".repeat(65) + "1" + "]".repeat(65))).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": arrays nested too deeply");
    }

    @Test
    void manyValuesGrowTheValueArray() {
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < 5000; i++) {
            json.append(i == 0 ? "[" : ", [").append(i).append(", ").append(-i).append("]");
        }
        NumericArray a = read(json.append("]").toString());
        assertThat(a.shape()).containsExactly(5000, 2);
        for (int i = 0; i < 5000; i++) {
            assertThat(a.values()[2 * i]).isEqualTo(i);
            assertThat(a.values()[2 * i + 1]).isEqualTo(-i);
        }
    }

    @Test
    void nonFiniteValuesAreKeptForLaterValidation() {
        NumericArray a = read("[[NaN, Infinity, -Infinity, -1]]");
        assertThat(a.values()[0]).isNaN();
        assertThat(a.values()).endsWith(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -1);
    }

    @Test
    void leavesTheReaderAfterTheArray() {
        JsonReader r = new JsonReader(new StringReader("{\"w\": [[1], [2]], \"next\": 3}"), "t.json");
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("w");
        assertThat(NumericArray.read(r, "w").values()).containsExactly(1, 2);
        assertThat(r.nextName()).isEqualTo("next");
        assertThat(r.nextDouble()).isEqualTo(3);
    }

    static Stream<Arguments> badArrays() {
        return Stream.of(
                Arguments.of("[[1, 2], [3, 4], [5, 6, 7]]",
                        "w[2]: has 3 elements where earlier arrays at this depth have 2 (ragged array)"),
                Arguments.of("[[1, 2], [3]]",
                        "w[1]: has 1 elements where earlier arrays at this depth have 2 (ragged array)"),
                Arguments.of("[[[1, 2], [3, 4]], [[5, 6]]]",
                        "w[1]: has 1 elements where earlier arrays at this depth have 2 (ragged array)"),
                Arguments.of("[[[1, 2], [3, 4]], [[5, 6], [7]]]",
                        "w[1][1]: has 1 elements where earlier arrays at this depth have 2 (ragged array)"),
                Arguments.of("[[[1, 2]], [[3, 4]], [[5, 6], [7, 8]]]",
                        "w[2]: has 2 elements where earlier arrays at this depth have 1 (ragged array)"),
                Arguments.of("[[1, 2], [3, [4]]]", "w[1][1]: expected a number but found an array"),
                Arguments.of("[1, [2]]", "w[1]: expected a number but found an array"),
                Arguments.of("[[1, 2], 3]", "w[1]: expected an array but found a number"),
                Arguments.of("[[[1]], [2]]", "w[1][0]: expected an array but found a number"),
                Arguments.of("[[1, null]]", "w[0][1]: expected a number but found null"),
                Arguments.of("[[1, \"2\"]]", "w[0][1]: expected a number but found a string"),
                Arguments.of("[[true]]", "w[0][0]: expected a number but found a boolean"),
                Arguments.of("[[1], {}]", "w[1]: expected an array but found an object"),
                Arguments.of("[{\"a\": 1}]", "w[0]: expected a number but found an object"),
                Arguments.of("[]", "w: is an empty array"),
                Arguments.of("[[]]", "w[0]: is an empty array"),
                Arguments.of("[[1], []]", "w[1]: is an empty array"),
                Arguments.of("[[[]]]", "w[0][0]: is an empty array"),
                Arguments.of("{}", "w: expected an array but found an object"),
                Arguments.of("5", "w: expected an array but found a number"),
                Arguments.of("null", "w: expected an array but found null"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badArrays")
    void errorsNameTheJsonPath(String json, String message) {
        assertThatThrownBy(() -> read(json)).isInstanceOf(InvalidInputException.class).hasMessage(message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badArrays")
    void readingElementByElementGivesTheSameErrors(String json, String message) {
        JsonReader r = new JsonReader(new StringReader(json), "t.json");
        assertThatThrownBy(() -> NumericArray.readElements(r, "w", (index, shape, values) -> { }))
                .isInstanceOf(InvalidInputException.class).hasMessage(message);
    }

    private static final NumericArray.Limits THREE_BY_SIX = new NumericArray.Limits(3, 6, "row too long",
            "matrix too large");

    /**
     * Limits: a row of at most 3 numbers and a matrix (the two innermost levels) of at most 6, exactly at the limit
     * read, one number past it refused, naming the row or matrix, with the reader just after that number (peeked,
     * not held) and nothing after it read.
     */
    @Test
    void limitsRefuseARowOrMatrixAtTheFirstNumberPastThem() {
        record Case(String json, String message, String at) {
        }
        for (Case c : List.of(
                new Case("[1, 2, 3, 4, 5]", "w: row too long", "line 1, column 12"),
                new Case("[[1, 2, 3], [4, 5, 6], [7]]", "w: matrix too large", "line 1, column 26"),
                new Case("[[[1], [2]], [[1], [2], [3], [4], [5], [6], [7], [8]]]", "w[1]: matrix too large",
                        "line 1, column 47"),
                new Case("[[[1, 2, 3]], [[1, 2, 3, 4]]]", "w[1][0]: row too long", "line 1, column 27"))) {
            JsonReader whole = new JsonReader(new StringReader(c.json()), "t.json");
            assertThatThrownBy(() -> NumericArray.read(whole, "w", THREE_BY_SIX)).as(c.json())
                    .isInstanceOf(InvalidInputException.class).hasMessage(c.message());
            assertThat(whole.location()).as(c.json()).isEqualTo(c.at());
            JsonReader elements = new JsonReader(new StringReader(c.json()), "t.json");
            assertThatThrownBy(() -> NumericArray.readElements(elements, "w", (index, shape, values) -> { },
                    THREE_BY_SIX)).as(c.json()).isInstanceOf(InvalidInputException.class).hasMessage(c.message());
        }
        JsonReader atLimits = new JsonReader(new StringReader("[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [1, 2, 3]]]"),
                "t.json");
        assertThat(NumericArray.read(atLimits, "w", THREE_BY_SIX).shape()).containsExactly(2, 2, 3);
        JsonReader column = new JsonReader(new StringReader("[[1], [2], [3], [4], [5], [6]]"), "t.json");
        assertThat(NumericArray.read(column, "w", THREE_BY_SIX).values()).containsExactly(1, 2, 3, 4, 5, 6);
    }

    /**
     * A total of at most 10 numbers over all levels, with rows and matrices within theirs: the 11th number is
     * refused naming the whole array, before it is held; exactly 10 read. (Without it, a three-level array's
     * matrices added up without end.)
     */
    @Test
    void aTotalLimitRefusesTheWholeArrayAtTheFirstNumberPastIt() {
        NumericArray.Limits total = THREE_BY_SIX.withTotal(10, "too many in all");
        JsonReader past = new JsonReader(new StringReader("[[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]], [[9, 10]], "
                + "[[11, 12]]]"), "t.json");
        assertThatThrownBy(() -> NumericArray.read(past, "w", total)).isInstanceOf(InvalidInputException.class)
                .hasMessage("w: too many in all");
        assertThat(past.location()).isEqualTo("line 1, column 57");
        JsonReader atLimit = new JsonReader(new StringReader("[[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]], [[9, 10]]]"),
                "t.json");
        assertThat(NumericArray.read(atLimit, "w", total).values()).hasSize(10);
        // The row and matrix limits still come first where both are passed at one number.
        JsonReader matrix = new JsonReader(new StringReader("[[1], [2], [3], [4], [5], [6], [7]]"), "t.json");
        assertThatThrownBy(() -> NumericArray.read(matrix, "w", THREE_BY_SIX.withTotal(6, "too many in all")))
                .hasMessage("w: matrix too large");
        assertThatThrownBy(() -> new NumericArray.Limits(3, 6, 0, "", "", "")).isInstanceOf(
                IllegalArgumentException.class);
    }

    @Test
    void elementsAreHandedOverAsTheyAreRead() {
        // Element 1 is handed over before element 2 is found ragged; the reader is then past element 1 only.
        JsonReader r = new JsonReader(new StringReader("[[[1, 2]], [[3, 4]], [[5, 6], [7, 8]]]"), "t.json");
        List<String> seen = new ArrayList<>();
        assertThatThrownBy(() -> NumericArray.readElements(r, "w", (index, shape, values) ->
                seen.add(index + " " + Arrays.toString(shape) + " " + Arrays.toString(values) + " " + r.location())))
                .hasMessage("w[2]: has 2 elements where earlier arrays at this depth have 1 (ragged array)");
        assertThat(seen).containsExactly("0 [1, 2] [1.0, 2.0] line 1, column 10",
                "1 [1, 2] [3.0, 4.0] line 1, column 20");
    }

    @Test
    void anyRectangularArrayReadsElementByElementAsWhole() {
        qt().withExamples(300).withFixedSeed(10).forAll(samples()).checkAssert(s -> {
            NumericArray whole = read(s.json());
            JsonReader r = new JsonReader(new StringReader(s.json()), "t.json");
            List<double[]> elements = new ArrayList<>();
            int[] shape = NumericArray.readElements(r, "w", (index, inner, values) -> {
                assertThat(index).isEqualTo(elements.size());
                assertThat(inner).containsExactly(Arrays.copyOfRange(whole.shape(), 1, whole.depth()));
                elements.add(values);
            });
            r.endDocument();
            assertThat(shape).containsExactly(whole.shape());
            assertThat(elements).hasSize(whole.shape()[0]);
            for (int b = 0; b < elements.size(); b++) {
                assertThat(elements.get(b)).containsExactly(whole.block(b));
            }
        });
    }

    @Test
    void syntaxErrorsInsideTheArrayComeFromTheReader() {
        assertThatThrownBy(() -> read("[[1, 2], [3 4]]")).isInstanceOf(InvalidInputException.class)
                .hasMessage("t.json: malformed JSON at line 1, column 13: expected ',' or ']' in an array");
    }

    @Test
    void toLoadMatrixValidatesShapeAndLoads() {
        LoadMatrix m = read("[[1, 2], [3, 4.5]]").toLoadMatrix("w");
        assertThat(m.toArray()).isDeepEqualTo(new double[][] {{1, 2}, {3, 4.5}});
        assertThatThrownBy(() -> read("[1, 2]").toLoadMatrix("w")).isInstanceOf(InvalidInputException.class)
                .hasMessage("w: expected [layers][experts] but found a 1-dimensional array");
        assertThatThrownBy(() -> read("[[[1]]]").toLoadMatrix("w"))
                .hasMessage("w: expected [layers][experts] but found a 3-dimensional array");
        assertThatThrownBy(() -> read("[[1, -2]]").toLoadMatrix("w")).hasMessage("w[0][1]: load is negative (-2)");
        assertThatThrownBy(() -> read("[[1, 2], [NaN, 1]]").toLoadMatrix("w")).hasMessage("w[1][0]: load is NaN");
        assertThatThrownBy(() -> read("[[Infinity]]").toLoadMatrix("w")).hasMessage("w[0][0]: load is infinite");
        assertThatThrownBy(() -> read("[[1e999]]").toLoadMatrix("w")).hasMessage("w[0][0]: load is infinite");
    }

    /** A random rectangular array: its shape and its JSON text, values i * 0.5 in row-major order. */
    record Sample(int[] shape, String json) {
        @Override
        public String toString() {
            return Arrays.toString(shape);
        }
    }

    private static Gen<Sample> samples() {
        return (RandomnessSource r) -> {
            int[] shape = new int[(int) r.next(Constraint.between(1, 4))];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = (int) r.next(Constraint.between(1, 5));
            }
            StringBuilder sb = new StringBuilder();
            appendLevel(sb, shape, 0, new int[] {0});
            return new Sample(shape, sb.toString());
        };
    }

    private static void appendLevel(StringBuilder sb, int[] shape, int level, int[] counter) {
        sb.append('[');
        for (int i = 0; i < shape[level]; i++) {
            sb.append(i == 0 ? "" : ", ");
            if (level == shape.length - 1) {
                sb.append(counter[0]++ * 0.5);
            } else {
                appendLevel(sb, shape, level + 1, counter);
            }
        }
        sb.append(']');
    }

    @Test
    void anyRectangularArrayReadsBackInRowMajorOrder() {
        qt().withExamples(300).withFixedSeed(9).forAll(samples()).checkAssert(s -> {
            NumericArray a = read(s.json());
            assertThat(a.shape()).containsExactly(s.shape());
            int size = Arrays.stream(s.shape()).reduce(1, (x, y) -> x * y);
            assertThat(a.values()).hasSize(size);
            for (int i = 0; i < size; i++) {
                assertThat(a.values()[i]).isEqualTo(i * 0.5);
            }
            int blockSize = size / s.shape()[0];
            for (int b = 0; b < s.shape()[0]; b++) {
                assertThat(a.block(b)).hasSize(blockSize);
                assertThat(a.block(b)[0]).isEqualTo(b * blockSize * 0.5);
            }
        });
    }
}
