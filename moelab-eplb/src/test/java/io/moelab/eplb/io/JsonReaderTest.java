package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.JsonReader.Token;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonReaderTest {

    private static JsonReader reader(String json) {
        return new JsonReader(new StringReader(json), "test.json");
    }

    private static double number(String json) {
        JsonReader r = reader(json);
        double v = r.nextDouble();
        r.endDocument();
        return v;
    }

    @Test
    void walksNestedStructures() {
        JsonReader r = reader(" {\"a\": [1, -2.5, true, false, null, \"s\"], \"b\": {\"c\": []}} ");
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("a");
        r.beginArray();
        assertThat(r.nextDouble()).isEqualTo(1);
        assertThat(r.nextDouble()).isEqualTo(-2.5);
        assertThat(r.nextBoolean()).isTrue();
        assertThat(r.nextBoolean()).isFalse();
        assertThat(r.peek()).isEqualTo(Token.NULL);
        r.nextNull();
        assertThat(r.nextString()).isEqualTo("s");
        assertThat(r.hasNext()).isFalse();
        r.endArray();
        assertThat(r.nextName()).isEqualTo("b");
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("c");
        r.beginArray();
        assertThat(r.hasNext()).isFalse();
        r.endArray();
        r.endObject();
        r.endObject();
        assertThat(r.peek()).isEqualTo(Token.END_DOCUMENT);
        r.endDocument();
    }

    @Test
    void skipValueSkipsWholeSubtrees() {
        JsonReader r = reader("{\"skip\": {\"x\": [1, [2, {\"y\": \"]\"}]], \"z\": null}, \"keep\": 7}");
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("skip");
        r.skipValue();
        assertThat(r.nextName()).isEqualTo("keep");
        assertThat(r.nextDouble()).isEqualTo(7);
        r.endObject();
        r.endDocument();
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "-0, -0.0", "7, 7", "-12, -12", "1e3, 1000", "1.5E-2, 0.015", "2.5e+2, 250",
            "123456789012345678, 123456789012345678", "12345678901234567890123, 1.2345678901234568E22",
            "1e308, 1e308", "4.9e-324, 4.9e-324", "0.1, 0.1"})
    void readsNumbers(String json, double expected) {
        assertThat(number(json)).isEqualTo(expected);
    }

    @Test
    void negativeZeroKeepsItsSign() {
        assertThat(Double.doubleToRawLongBits(number("-0"))).isEqualTo(Double.doubleToRawLongBits(-0.0));
    }

    @Test
    void readsPythonsNonFiniteLiterals() {
        assertThat(number("NaN")).isNaN();
        assertThat(number("Infinity")).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(number("-Infinity")).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(number("[NaN]".substring(1, 4))).isNaN();
    }

    @ParameterizedTest
    @ValueSource(strings = {"01", "1.", "-", ".5", "+1", "1e", "1e+", "--1", "1.2.3", "0x10", "Nan", "Inf", "tru",
            "nul"})
    void rejectsMalformedNumbersAndLiterals(String json) {
        assertThatThrownBy(() -> number(json)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("test.json: malformed JSON at line 1, column ");
    }

    @Test
    void readsStringEscapes() {
        JsonReader r = reader("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\"");
        assertThat(r.nextString()).isEqualTo("a\"b\\c/d\b\f\n\r\té€");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"abc|unterminated string",
            "\"a\\qb\"|unknown escape",
            "\"\\u12G4\"|malformed \\u escape",
            "[1 2]|expected ',' or ']'",
            "{\"a\" 1}|expected ':'",
            "{\"a\": 1 \"b\": 2}|expected ',' or '}'",
            "{a: 1}|expected a member name",
            "[1] [2]|unexpected data after the top-level value",
            "|unexpected end of input",
            "[1,|unexpected end of input",
            "@|unexpected character '@'"})
    void syntaxErrorsSayWhatIsWrong(String json, String problem) {
        assertThatThrownBy(() -> {
            JsonReader r = reader(json == null ? "" : json);
            r.skipValue();
            r.endDocument();
        }).isInstanceOf(InvalidInputException.class).hasMessageContaining(problem);
    }

    @Test
    void controlCharactersInStringsAreRejected() {
        assertThatThrownBy(() -> reader("\"a\tb\"").nextString()).hasMessageContaining("control character");
    }

    @Test
    void typeMismatchesNameBothTypes() {
        assertThatThrownBy(() -> reader("[1]").beginObject()).hasMessageContaining("expected an object but found an array");
        assertThatThrownBy(() -> reader("\"x\"").nextDouble()).hasMessageContaining("expected a number but found a string");
    }

    @Test
    void errorPositionsAreLineAndColumn() {
        assertThatThrownBy(() -> reader("{\n  \"a\": [1,\n        2 x]}").skipValue())
                .hasMessage("test.json: malformed JSON at line 3, column 11: expected ',' or ']' in an array");
    }

    @Test
    void columnsStayRightBeyondTheBuffer() {
        // A first line far longer than the 64 KiB buffer: the column must count across refills.
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < 30_000; i++) {
            json.append(i % 10).append(',');
        }
        int column = json.length() + 1;
        json.append("oops]");
        assertThatThrownBy(() -> reader(json.toString()).skipValue())
                .hasMessageContaining("line 1, column " + column + ":");
        // And on a later line after the refill.
        String twoLines = json.substring(0, json.length() - 5) + "1,\n  x]";
        assertThatThrownBy(() -> reader(twoLines).skipValue()).hasMessageContaining("line 2, column 3:");
    }

    @Test
    void readsLargeArraysAcrossBufferRefills() {
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < 100_000; i++) {
            json.append(i == 0 ? "" : ", ").append(i).append(".5");
        }
        JsonReader r = reader(json.append(']').toString());
        r.beginArray();
        List<Double> values = new ArrayList<>();
        while (r.hasNext()) {
            values.add(r.nextDouble());
        }
        r.endArray();
        assertThat(values).hasSize(100_000);
        assertThat(values.get(99_999)).isEqualTo(99_999.5);
    }

    @Test
    void anyFiniteDoubleWrittenByJsonWriterReadsBackExactly() {
        qt().withExamples(2000).withFixedSeed(5).forAll(doubles().any())
                .assuming(Double::isFinite)
                .checkAssert(v -> {
                    double back = number(JsonWriter.format(v));
                    // format writes -0.0 as an integral "0" (no sign); everything else is bit-exact.
                    double expected = v == 0 ? 0.0 : v;
                    assertThat(Double.doubleToRawLongBits(back)).isEqualTo(Double.doubleToRawLongBits(expected));
                });
    }

    @Test
    void writerOutputIsReadable() {
        StringWriter out = new StringWriter();
        new JsonWriter(out).beginObject().name("n\"ame").value("v\\al\n").name("rows").beginArray()
                .numbers(new double[] {1, 2.5}).numbers(new int[] {3}).endArray().name("x").value(1e300)
                .endObject().finish();
        JsonReader r = reader(out.toString());
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("n\"ame");
        assertThat(r.nextString()).isEqualTo("v\\al\n");
        assertThat(r.nextName()).isEqualTo("rows");
        r.beginArray();
        r.beginArray();
        assertThat(r.nextDouble()).isEqualTo(1);
        assertThat(r.nextDouble()).isEqualTo(2.5);
        r.endArray();
        r.beginArray();
        assertThat(r.nextDouble()).isEqualTo(3);
        r.endArray();
        r.endArray();
        assertThat(r.nextName()).isEqualTo("x");
        assertThat(r.nextDouble()).isEqualTo(1e300);
        r.endObject();
        r.endDocument();
        assertThat(out.toString()).contains("[1, 2.5]").contains("[3]");
    }

    @Test
    void writerFormatsNumbersCompactly() {
        assertThat(JsonWriter.format(3.0)).isEqualTo("3");
        assertThat(JsonWriter.format(-42)).isEqualTo("-42");
        assertThat(JsonWriter.format(0.5)).isEqualTo("0.5");
        assertThat(JsonWriter.format(0x1p53)).isEqualTo("9.007199254740992E15");
        assertThatThrownBy(() -> JsonWriter.format(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }
}
