package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class JsonWriterTest {
    private static final JsonMapper JACKSON = JsonMapper.builder().build();
    /** RFC 8259's number grammar, written independently of JsonReader. */
    private static final Pattern JSON_NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    private static String write(Consumer<JsonWriter> body) {
        StringWriter out = new StringWriter();
        JsonWriter json = new JsonWriter(out);
        body.accept(json);
        json.finish();
        return out.toString();
    }

    private static double readBack(String text) {
        JsonReader r = new JsonReader(new StringReader(text), "t");
        double v = r.nextDouble();
        r.endDocument();
        return v;
    }

    // ---------------------------------------------------------------- layout

    @Test
    void objectsAndArraysOfArraysGoOneMemberPerLineNumberArraysStayOnOne() {
        String text = write(json -> json.beginObject()
                .name("a").value(1)
                .name("rows").beginArray().numbers(new double[] {1, 2.5}).numbers(new int[] {3, -4}).endArray()
                .name("empty").beginArray().endArray()
                .name("nested").beginArray().beginArray().numbers(new int[] {5}).endArray().endArray()
                .name("none").beginObject().endObject()
                .name("s").value("x")
                .endObject());
        assertThat(text).isEqualTo("""
                {
                  "a": 1,
                  "rows": [
                    [1, 2.5],
                    [3, -4]
                  ],
                  "empty": [],
                  "nested": [
                    [
                      [5]
                    ]
                  ],
                  "none": {},
                  "s": "x"
                }
                """);
        // And a conforming parser agrees on the content.
        JsonNode node = JACKSON.readTree(text);
        assertThat(node.get("rows").get(0).get(1).asDouble()).isEqualTo(2.5);
        assertThat(node.get("rows").get(1).get(1).asInt()).isEqualTo(-4);
        assertThat(node.get("nested").get(0).get(0).get(0).asInt()).isEqualTo(5);
        assertThat(node.get("none").isObject()).isTrue();
        assertThat(node.get("empty").isEmpty()).isTrue();
    }

    @Test
    void topLevelArraysAndScalars() {
        assertThat(write(json -> json.beginArray().value(1).value("s").value(-0.5).endArray()))
                .isEqualTo("[\n  1,\n  \"s\",\n  -0.5\n]\n");
        assertThat(write(json -> json.value(2.5))).isEqualTo("2.5\n");
        assertThat(write(json -> json.numbers(new double[0]))).isEqualTo("[]\n");
        assertThat(write(json -> json.numbers(new int[0]))).isEqualTo("[]\n");
        assertThat(write(json -> json.numbers(new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE})))
                .isEqualTo("[-2147483648, 0, 2147483647]\n");
        assertThat(write(json -> json.numbers(new double[] {0.1, -0.0, 1e300, 7})))
                .isEqualTo("[0.1, 0, 1.0E300, 7]\n");
    }

    // ---------------------------------------------------------------- strings

    @Test
    void escapesWhatJsonRequires() {
        String raw = "q\"b\\n\nr\rt\t\b\f\u0001\u001f\u007f/é😀";
        String text = write(json -> json.value(raw));
        assertThat(text).isEqualTo("\"q\\\"b\\\\n\\nr\\rt\\t\\u0008\\u000c\\u0001\\u001f\u007f/é😀\"\n");
        assertThat(JACKSON.readTree(text).asString()).isEqualTo(raw);
    }

    @Test
    void namesAreEscapedLikeValues() {
        String text = write(json -> json.beginObject().name("a\"b\n").value("v").endObject());
        assertThat(text).isEqualTo("{\n  \"a\\\"b\\n\": \"v\"\n}\n");
        assertThat(JACKSON.readTree(text).get("a\"b\n").asString()).isEqualTo("v");
    }

    @Test
    void anyStringReadsBack() {
        // JsonReader reads back every UTF-16 string, lone surrogates included.
        qt().withExamples(1000).withFixedSeed(3).forAll(strings().allPossible().ofLengthBetween(0, 40))
                .checkAssert(s -> {
                    String text = write(json -> json.beginObject().name(s).value(s).endObject());
                    JsonReader r = new JsonReader(new StringReader(text), "t");
                    r.beginObject();
                    assertThat(r.nextName()).isEqualTo(s);
                    assertThat(r.nextString()).isEqualTo(s);
                    r.endObject();
                    r.endDocument();
                });
        // Jackson, an independent parser, on well-formed text (no surrogates).
        qt().withExamples(500).withFixedSeed(4).forAll(strings().betweenCodePoints(0, 0xD7FF).ofLengthBetween(0, 40))
                .checkAssert(s -> assertThat(JACKSON.readTree(write(json -> json.value(s))).asString()).isEqualTo(s));
    }

    // ---------------------------------------------------------------- numbers

    static Stream<Arguments> formats() {
        return Stream.of(
                Arguments.of(0.0, "0"),
                Arguments.of(-0.0, "0"), // integral, so written without a fraction, and "-0" is not used
                Arguments.of(3.0, "3"),
                Arguments.of(-42.0, "-42"),
                Arguments.of(0.5, "0.5"),
                Arguments.of(-0.1, "-0.1"),
                Arguments.of(123.456, "123.456"),
                Arguments.of(1e15, "1000000000000000"),
                Arguments.of(0x1p53 - 1, "9007199254740991"),
                Arguments.of(-(0x1p53 - 1), "-9007199254740991"),
                Arguments.of(0x1p53, "9.007199254740992E15"), // from 2^53 on, integers lose exactness: Java's form
                Arguments.of(-0x1p53, "-9.007199254740992E15"),
                Arguments.of(1.5e16, "1.5E16"),
                Arguments.of(1e300, "1.0E300"),
                Arguments.of(1e-7, "1.0E-7"),
                Arguments.of(0.001, "0.001"),
                Arguments.of(Double.MIN_VALUE, "4.9E-324"),
                Arguments.of(Double.MAX_VALUE, "1.7976931348623157E308"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("formats")
    void formatsNumbers(double value, String expected) {
        assertThat(JsonWriter.format(value)).isEqualTo(expected);
        assertThat(write(json -> json.value(value))).isEqualTo(expected + "\n");
    }

    @Test
    void nonFiniteNumbersAreRefused() {
        for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            assertThatThrownBy(() -> JsonWriter.format(v)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("JSON has no representation for " + v);
            assertThatThrownBy(() -> new JsonWriter(new StringWriter()).value(v))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> new JsonWriter(new StringWriter()).numbers(new double[] {1, v}))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void anyFiniteDoubleReadsBackBitIdentical() {
        // Random bit patterns (subnormals, huge exponents, both zeros) and ordinary magnitudes.
        qt().withExamples(5000).withFixedSeed(5)
                .forAll(longs().all().map(Double::longBitsToDouble).mix(doubles().between(-1e6, 1e6)))
                .assuming(Double::isFinite)
                .checkAssert(v -> {
                    String text = JsonWriter.format(v);
                    assertThat(text).matches(JSON_NUMBER);
                    // Documented: integral values (-0.0 among them) are written as integers, so -0.0 becomes 0.
                    double expected = v == 0 ? 0.0 : v;
                    assertThat(Double.doubleToRawLongBits(readBack(text))).as(text)
                            .isEqualTo(Double.doubleToRawLongBits(expected));
                    assertThat(JACKSON.readTree(text).asDouble()).as(text).isEqualTo(expected);
                });
    }

    @Test
    void integralValuesBelowTwoToThe53HaveNoFractionOrExponent() {
        qt().withExamples(2000).withFixedSeed(6).forAll(longs().between(-(1L << 53) + 1, (1L << 53) - 1))
                .checkAssert(v -> assertThat(JsonWriter.format(v)).isEqualTo(Long.toString(v)));
    }

    // ---------------------------------------------------------------- finishing and errors

    @Test
    void finishAddsANewlineAndFlushes() {
        StringWriter target = new StringWriter();
        BufferedWriter buffered = new BufferedWriter(target, 1 << 16);
        JsonWriter json = new JsonWriter(buffered);
        json.beginArray().value(1).endArray();
        assertThat(target.toString()).as("still buffered").isEmpty();
        json.finish();
        assertThat(target.toString()).isEqualTo("[\n  1\n]\n");
    }

    @Test
    void finishRefusesOpenScopes() {
        JsonWriter json = new JsonWriter(new StringWriter()).beginObject().name("a").beginArray();
        assertThatThrownBy(json::finish).isInstanceOf(IllegalStateException.class).hasMessage("unclosed scopes: 2");
    }

    @Test
    void writeFailuresAreUnchecked() {
        Writer broken = new Writer() {
            @Override
            public void write(char[] cbuf, int off, int len) throws IOException {
                throw new IOException("disk full");
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        assertThatThrownBy(() -> new JsonWriter(broken).value(1)).isInstanceOf(UncheckedIOException.class)
                .hasRootCauseMessage("disk full");
    }
}
