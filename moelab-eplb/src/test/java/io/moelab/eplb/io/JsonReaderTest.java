package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.JsonReader.Token;
import java.io.FilterReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;
import org.quicktheories.impl.Constraint;

class JsonReaderTest {
    private static final String SOURCE = "test.json";
    private static final int BUFFER = 1 << 16; // JsonReader's internal buffer, in chars

    private static JsonReader reader(String json) {
        return new JsonReader(new StringReader(json), SOURCE);
    }

    /** A reader that hands out at most {@code chunk} characters per read, so refills fall anywhere. */
    private static Reader chunked(String text, int chunk) {
        return new FilterReader(new StringReader(text)) {
            @Override
            public int read(char[] cbuf, int off, int len) throws IOException {
                return super.read(cbuf, off, Math.min(len, chunk));
            }
        };
    }

    /** Parses a whole document, keeping nothing. */
    private static void parseAll(JsonReader r) {
        r.skipValue();
        r.endDocument();
    }

    private static String errorOf(JsonReader r) {
        return catchThrowableOfType(InvalidInputException.class, () -> parseAll(r)).getMessage();
    }

    private static double number(String json) {
        JsonReader r = reader(json);
        double v = r.nextDouble();
        r.endDocument();
        return v;
    }

    /** Independent of the reader: 1-based line and column of {@code text.charAt(index)}. */
    private static String locationOf(String text, int index) {
        long line = 1 + text.substring(0, index).chars().filter(c -> c == '\n').count();
        int column = index - text.lastIndexOf('\n', index - 1);
        return "line " + line + ", column " + column;
    }

    private static String message(int line, int column, String problem) {
        return SOURCE + ": malformed JSON at line " + line + ", column " + column + ": " + problem;
    }

    // ---------------------------------------------------------------- structure

    @Test
    void walksNestedStructures() {
        JsonReader r = reader(" {\"a\": [1, -2.5, true, false, null, \"s\"], \"b\": {\"c\": [], \"d\": {}}} ");
        assertThat(r.peek()).isEqualTo(Token.BEGIN_OBJECT);
        assertThat(r.peek()).as("peek does not consume").isEqualTo(Token.BEGIN_OBJECT);
        r.beginObject();
        assertThat(r.hasNext()).isTrue();
        assertThat(r.peek()).isEqualTo(Token.NAME);
        assertThat(r.nextName()).isEqualTo("a");
        r.beginArray();
        assertThat(r.peek()).isEqualTo(Token.NUMBER);
        assertThat(r.nextDouble()).isEqualTo(1);
        assertThat(r.nextDouble()).isEqualTo(-2.5);
        assertThat(r.peek()).isEqualTo(Token.BOOLEAN);
        assertThat(r.nextBoolean()).isTrue();
        assertThat(r.nextBoolean()).isFalse();
        assertThat(r.peek()).isEqualTo(Token.NULL);
        r.nextNull();
        assertThat(r.peek()).isEqualTo(Token.STRING);
        assertThat(r.nextString()).isEqualTo("s");
        assertThat(r.hasNext()).isFalse();
        assertThat(r.peek()).isEqualTo(Token.END_ARRAY);
        r.endArray();
        assertThat(r.nextName()).isEqualTo("b");
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("c");
        r.beginArray();
        assertThat(r.hasNext()).isFalse();
        r.endArray();
        assertThat(r.nextName()).isEqualTo("d");
        r.beginObject();
        assertThat(r.hasNext()).isFalse();
        assertThat(r.peek()).isEqualTo(Token.END_OBJECT);
        r.endObject(); // "d"
        r.endObject(); // "b"
        r.endObject();
        assertThat(r.hasNext()).isFalse();
        assertThat(r.peek()).isEqualTo(Token.END_DOCUMENT);
        r.endDocument();
        assertThat(r.source()).isEqualTo(SOURCE);
    }

    @Test
    void scalarsAreDocumentsToo() {
        JsonReader r = reader(" \"only\" \n");
        assertThat(r.nextString()).isEqualTo("only");
        r.endDocument();
        JsonReader n = reader("null");
        n.nextNull();
        n.endDocument();
    }

    @Test
    void deepNestingGrowsTheScopeStack() {
        // Far deeper than the initial scope stack of 32.
        int depth = 5_000;
        String json = "[".repeat(depth) + "{\"k\": 1}" + "]".repeat(depth);
        JsonReader r = reader(json);
        for (int i = 0; i < depth; i++) {
            r.beginArray();
        }
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("k");
        assertThat(r.nextDouble()).isEqualTo(1);
        r.endObject();
        for (int i = 0; i < depth; i++) {
            assertThat(r.hasNext()).isFalse();
            r.endArray();
        }
        r.endDocument();

        parseAll(reader(json)); // and skipValue, which is iterative, copes too
    }

    // ---------------------------------------------------------------- skipValue

    @Test
    void skipValueSkipsWholeSubtrees() {
        JsonReader r = reader("{\"skip\": {\"x\": [1, [2, {\"y\": \"]}\"}]], \"z\": null}, \"keep\": 7,"
                + " \"s\": \"str\", \"t\": true, \"n\": null, \"last\": [[]]}");
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("skip");
        r.skipValue();
        assertThat(r.nextName()).isEqualTo("keep");
        assertThat(r.nextDouble()).isEqualTo(7);
        assertThat(r.nextName()).isEqualTo("s");
        r.skipValue();
        assertThat(r.nextName()).isEqualTo("t");
        r.skipValue();
        assertThat(r.nextName()).isEqualTo("n");
        r.skipValue();
        assertThat(r.nextName()).isEqualTo("last");
        r.skipValue();
        assertThat(r.hasNext()).isFalse();
        r.endObject();
        r.endDocument();
    }

    @Test
    void skipValueInsideAnArrayLeavesTheNextElement() {
        JsonReader r = reader("[[1, [2]], {\"a\": {}}, \"s\", -Infinity, 3]");
        r.beginArray();
        r.skipValue();
        r.skipValue();
        assertThat(r.nextString()).isEqualTo("s");
        r.skipValue();
        assertThat(r.nextDouble()).isEqualTo(3);
        r.endArray();
        r.endDocument();
    }

    @Test
    void skipValueStillChecksSyntax() {
        assertThat(errorOf(reader("{\"a\": [1, 2 3], \"b\": 1}")))
                .isEqualTo(message(1, 13, "expected ',' or ']' in an array"));
        assertThat(errorOf(reader("[{\"a\" 1}]"))).isEqualTo(message(1, 7, "expected ':' after a member name"));
    }

    @Test
    void skipValueAtTheEndOfTheDocumentFails() {
        JsonReader r = reader("1 ");
        r.skipValue();
        assertThatThrownBy(r::skipValue).isInstanceOf(InvalidInputException.class)
                .hasMessage(message(1, 3, "unexpected end of the document"));
    }

    // ---------------------------------------------------------------- numbers

    static Stream<Arguments> numbers() {
        return Stream.of(
                Arguments.of("0", 0.0),
                Arguments.of("-0", -0.0),
                Arguments.of("-0.0", -0.0),
                Arguments.of("0.0", 0.0),
                Arguments.of("0e0", 0.0),
                Arguments.of("7", 7.0),
                Arguments.of("-12", -12.0),
                Arguments.of("0.1", 0.1),
                Arguments.of("1e3", 1000.0),
                Arguments.of("1E3", 1000.0),
                Arguments.of("1e+3", 1000.0),
                Arguments.of("1e-3", 0.001),
                Arguments.of("1e007", 1e7), // RFC 8259 allows leading zeros in the exponent
                Arguments.of("1.5E-2", 0.015),
                Arguments.of("2.5e+2", 250.0),
                Arguments.of("-1.25e2", -125.0),
                Arguments.of("0.000001", 1e-6),
                // Longest integers on the fast path (18 characters) ...
                Arguments.of("123456789012345678", 1.23456789012345678e17),
                Arguments.of("999999999999999999", 1e18),
                Arguments.of("-12345678901234567", -12345678901234567.0),
                // ... and beyond it.
                Arguments.of("1234567890123456789", 1.234567890123456768e18),
                Arguments.of("-123456789012345678", -1.23456789012345678e17),
                Arguments.of("-9223372036854775808", -0x1p63),
                Arguments.of("9223372036854775808", 0x1p63),
                Arguments.of("12345678901234567890123", 1.2345678901234568E22),
                Arguments.of("100000000000000000000000000000", 1e29),
                Arguments.of("9007199254740993", 0x1p53), // 2^53 + 1 rounds to even
                Arguments.of("1.7976931348623157e308", Double.MAX_VALUE),
                Arguments.of("1e308", 1e308),
                Arguments.of("4.9e-324", Double.MIN_VALUE),
                Arguments.of("2.5e-324", Double.MIN_VALUE),
                Arguments.of("2.2250738585072014E-308", Double.MIN_NORMAL),
                // Out of range: overflow to infinity (rejected later as a load), underflow to a signed zero.
                Arguments.of("1e309", Double.POSITIVE_INFINITY),
                Arguments.of("-1e400", Double.NEGATIVE_INFINITY),
                Arguments.of("1e99999999999", Double.POSITIVE_INFINITY),
                Arguments.of("1e-400", 0.0),
                Arguments.of("-1e-400", -0.0),
                Arguments.of("1e-99999999999", 0.0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("numbers")
    void readsEveryNumberForm(String json, double expected) {
        assertThat(Double.doubleToRawLongBits(number(json))).as(json)
                .isEqualTo(Double.doubleToRawLongBits(expected));
        // The same inside an array, where a delimiter (not the end of input) ends the number.
        JsonReader r = reader("[" + json + ",1]");
        r.beginArray();
        assertThat(Double.doubleToRawLongBits(r.nextDouble())).isEqualTo(Double.doubleToRawLongBits(expected));
        assertThat(r.nextDouble()).isEqualTo(1);
        r.endArray();
    }

    @Test
    void everyLongReadsAsItsNearestDouble() {
        // Both the integer fast path (up to 18 characters) and the general path; (double) v is the oracle.
        qt().withExamples(3000).withFixedSeed(17)
                .forAll(longs().all().mix(longs().between(-1_000_000_000_000_000_000L, 1_000_000_000_000_000_000L)))
                .checkAssert(v -> assertThat(number(Long.toString(v))).isEqualTo((double) v));
    }

    @Test
    void everyFiniteDoubleInJavasNotationReadsBackExactly() {
        // Random bit patterns cover subnormals and both zeros; Double.toString writes e.g. "1.0E-5", "-0.0".
        qt().withExamples(3000).withFixedSeed(23)
                .forAll(longs().all().map(Double::longBitsToDouble))
                .assuming(Double::isFinite)
                .checkAssert(v -> assertThat(Double.doubleToRawLongBits(number(Double.toString(v))))
                        .isEqualTo(Double.doubleToRawLongBits(v)));
    }

    /** Random RFC 8259 numbers: long mantissas, fractions and exponents. */
    private static Gen<String> jsonNumbers() {
        return (RandomnessSource r) -> {
            StringBuilder sb = new StringBuilder();
            if (pick(r, 0, 3) == 0) {
                sb.append('-');
            }
            if (pick(r, 0, 4) == 0) {
                sb.append('0');
            } else {
                sb.append((char) ('1' + pick(r, 0, 8)));
                int more = (int) pick(r, 0, 30);
                for (int i = 0; i < more; i++) {
                    sb.append((char) ('0' + pick(r, 0, 9)));
                }
            }
            if (pick(r, 0, 1) == 0) {
                sb.append('.');
                int digits = (int) pick(r, 1, 20);
                for (int i = 0; i < digits; i++) {
                    sb.append((char) ('0' + pick(r, 0, 9)));
                }
            }
            if (pick(r, 0, 1) == 0) {
                sb.append(pick(r, 0, 1) == 0 ? 'e' : 'E');
                long sign = pick(r, 0, 2);
                sb.append(sign == 0 ? "" : sign == 1 ? "+" : "-");
                sb.append(pick(r, 0, 400));
            }
            return sb.toString();
        };
    }

    private static long pick(RandomnessSource r, long lo, long hi) {
        return r.next(Constraint.between(lo, hi));
    }

    @Test
    void randomNumbersReadAsTheirCorrectlyRoundedValue() {
        // BigDecimal is an independent, exact oracle (it has no sign of zero, hence the abs).
        qt().withExamples(3000).withFixedSeed(29).forAll(jsonNumbers()).checkAssert(text -> {
            double v = number(text);
            double expected = new BigDecimal(text).abs().doubleValue();
            assertThat(Math.abs(v)).as(text).isEqualTo(expected);
            assertThat(Math.copySign(1.0, v)).as(text).isEqualTo(text.startsWith("-") ? -1.0 : 1.0);
        });
    }

    static Stream<Arguments> malformedNumbers() {
        // The column of a malformed number is just past its text; a bad first character is itself the column.
        return Stream.of(
                Arguments.of("01", 3, "malformed number '01'"),
                Arguments.of("00", 3, "malformed number '00'"),
                Arguments.of("-01", 4, "malformed number '-01'"),
                Arguments.of("1.", 3, "malformed number '1.'"),
                Arguments.of("1.e5", 5, "malformed number '1.e5'"),
                Arguments.of("-", 2, "malformed number '-'"),
                Arguments.of("- 1", 2, "malformed number '-'"),
                Arguments.of("--1", 4, "malformed number '--1'"),
                Arguments.of("-.5", 4, "malformed number '-.5'"),
                Arguments.of(".5", 1, "unexpected character '.'"),
                Arguments.of("+1", 1, "unexpected character '+'"),
                Arguments.of("1e", 3, "malformed number '1e'"),
                Arguments.of("1e+", 4, "malformed number '1e+'"),
                Arguments.of("1E--2", 6, "malformed number '1E--2'"),
                Arguments.of("1e5.0", 6, "malformed number '1e5.0'"),
                Arguments.of("1.2.3", 6, "malformed number '1.2.3'"),
                Arguments.of("1-2", 4, "malformed number '1-2'"),
                Arguments.of("12+", 4, "malformed number '12+'"),
                Arguments.of("0x10", 2, "unexpected data after the top-level value"),
                Arguments.of("-infinity", 2, "malformed number '-'"),
                Arguments.of("-Inf", 5, "unknown literal (expected a value)"),
                Arguments.of("-NaN", 2, "malformed number '-'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedNumbers")
    void rejectsMalformedNumbers(String json, int column, String problem) {
        assertThatThrownBy(() -> number(json)).isInstanceOf(InvalidInputException.class)
                .hasMessage(message(1, column, problem));
    }

    @Test
    void malformedNumbersInsideArraysToo() {
        assertThat(errorOf(reader("[1, 01]"))).isEqualTo(message(1, 7, "malformed number '01'"));
        assertThat(errorOf(reader("[1.]"))).isEqualTo(message(1, 4, "malformed number '1.'"));
        assertThat(errorOf(reader("{\"a\": -}"))).isEqualTo(message(1, 8, "malformed number '-'"));
    }

    // ---------------------------------------------------------------- literals

    @Test
    void readsLiteralsIncludingPythonsNonFiniteNumbers() {
        JsonReader r = reader("[true, false, null, NaN, Infinity, -Infinity]");
        r.beginArray();
        assertThat(r.nextBoolean()).isTrue();
        assertThat(r.nextBoolean()).isFalse();
        r.nextNull();
        assertThat(r.peek()).isEqualTo(Token.NUMBER);
        assertThat(r.nextDouble()).isNaN();
        assertThat(r.nextDouble()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(r.nextDouble()).isEqualTo(Double.NEGATIVE_INFINITY);
        r.endArray();
        r.endDocument();
    }

    static Stream<Arguments> badLiterals() {
        return Stream.of(
                Arguments.of("tru", 4, "unknown literal (expected a value)"),
                Arguments.of("trUe", 3, "unknown literal (expected a value)"),
                Arguments.of("nul", 4, "unknown literal (expected a value)"),
                Arguments.of("fals", 5, "unknown literal (expected a value)"),
                Arguments.of("Nan", 3, "unknown literal (expected a value)"),
                Arguments.of("Inf", 4, "unknown literal (expected a value)"),
                Arguments.of("True", 1, "unexpected character 'T'"),
                Arguments.of("nan", 2, "unknown literal (expected a value)"),
                Arguments.of("nulll", 5, "unexpected data after the top-level value"),
                Arguments.of("[truex]", 6, "expected ',' or ']' in an array"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badLiterals")
    void rejectsBadLiterals(String json, int column, String problem) {
        assertThat(errorOf(reader(json))).isEqualTo(message(1, column, problem));
    }

    // ---------------------------------------------------------------- strings

    @Test
    void readsStringEscapes() {
        JsonReader r = reader("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\\u20ac\", \"\", \"\\u0000\\u001F\","
                + " \"\\uD83D\\uDE00\", \"raw é 中 😀 \u007f\"]");
        r.beginArray();
        assertThat(r.nextString()).isEqualTo("a\"b\\c/d\b\f\n\r\té€€");
        assertThat(r.nextString()).isEmpty();
        assertThat(r.nextString()).isEqualTo("\0\u001f");
        assertThat(r.nextString()).isEqualTo("😀"); // a surrogate pair from two escapes
        assertThat(r.nextString()).isEqualTo("raw é 中 😀 \u007f"); // DEL is not a control character in JSON
        r.endArray();
        r.endDocument();
    }

    @Test
    void namesUseTheSameEscapes() {
        JsonReader r = reader("{\"a\\u0062\\n\": 1}");
        r.beginObject();
        assertThat(r.nextName()).isEqualTo("ab\n");
    }

    static Stream<Arguments> badStrings() {
        // Columns point at the offending character (the end of input for unterminated strings).
        return Stream.of(
                Arguments.of("\"abc", 1, 5, "unterminated string"),
                Arguments.of("\"abc\\", 1, 6, "unterminated string"),
                Arguments.of("[\"abc]", 1, 7, "unterminated string"),
                Arguments.of("\"\\u12", 1, 4, "unterminated \\u escape"),
                Arguments.of("\"\\u12G4\"", 1, 6, "malformed \\u escape"),
                Arguments.of("\"\\u00e\"", 1, 7, "malformed \\u escape"),
                Arguments.of("\"\\u-123\"", 1, 4, "malformed \\u escape"),
                // Only ASCII hex digits count: fullwidth and Arabic-Indic digits are not hex digits in JSON.
                Arguments.of("\"\\u\uFF10\uFF10\uFF14\uFF11\"", 1, 4, "malformed \\u escape"),
                Arguments.of("\"\\u00\u0664\u0661\"", 1, 6, "malformed \\u escape"),
                Arguments.of("\"a\\qb\"", 1, 4, "unknown escape '\\q'"),
                Arguments.of("\"\\U0041\"", 1, 3, "unknown escape '\\U'"),
                Arguments.of("\"\\'\"", 1, 3, "unknown escape '\\''"),
                Arguments.of("\"a\tb\"", 1, 3, "control character in a string"),
                Arguments.of("\"a\nb\"", 1, 3, "control character in a string"),
                Arguments.of("\"\u0000\"", 1, 2, "control character in a string"),
                Arguments.of("[1,\n \"x\u001f\"]", 2, 4, "control character in a string"),
                Arguments.of("{\"na\rme\": 1}", 1, 5, "control character in a string"),
                Arguments.of("'single'", 1, 1, "unexpected character '''"));
    }

    @ParameterizedTest(name = "{index}: {3}")
    @MethodSource("badStrings")
    void rejectsBadStrings(String json, int line, int column, String problem) {
        assertThat(errorOf(reader(json))).isEqualTo(message(line, column, problem));
    }

    // ---------------------------------------------------------------- structural errors

    static Stream<Arguments> syntaxErrors() {
        return Stream.of(
                Arguments.of("", 1, 1, "unexpected end of input, expected a value"),
                Arguments.of("  \n \t ", 2, 4, "unexpected end of input, expected a value"),
                Arguments.of("[", 1, 2, "unexpected end of input, expected a value or ']'"),
                Arguments.of("[1", 1, 3, "unexpected end of input, expected ',' or ']'"),
                Arguments.of("[1,", 1, 4, "unexpected end of input, expected a value"),
                Arguments.of("{", 1, 2, "unexpected end of input, expected a member or '}'"),
                Arguments.of("{\"a\": 1", 1, 8, "unexpected end of input, expected ',' or '}'"),
                Arguments.of("{\"a\"", 1, 5, "unexpected end of input, expected ':'"),
                Arguments.of("{\"a\":", 1, 6, "unexpected end of input, expected a value"),
                Arguments.of("{\"a\":1,", 1, 8, "unexpected end of input, expected a member name"),
                Arguments.of("[1 2]", 1, 4, "expected ',' or ']' in an array"),
                Arguments.of("[1,]", 1, 4, "unexpected character ']'"),
                Arguments.of("[,1]", 1, 2, "unexpected character ','"),
                Arguments.of("{\"a\" 1}", 1, 6, "expected ':' after a member name"),
                Arguments.of("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}' in an object"),
                Arguments.of("{\"a\": 1,}", 1, 9, "expected a member name in double quotes"),
                Arguments.of("{a: 1}", 1, 2, "expected a member name in double quotes"),
                Arguments.of("{\"a\": 1]", 1, 8, "expected ',' or '}' in an object"),
                Arguments.of("[1}", 1, 3, "expected ',' or ']' in an array"),
                Arguments.of("]", 1, 1, "unexpected character ']'"),
                Arguments.of("@", 1, 1, "unexpected character '@'"),
                Arguments.of("[1] [2]", 1, 5, "unexpected data after the top-level value"),
                Arguments.of("{\"a\":1}}", 1, 8, "unexpected data after the top-level value"),
                Arguments.of("1 2", 1, 3, "unexpected data after the top-level value"),
                Arguments.of("{}\n\n  x", 3, 3, "unexpected data after the top-level value"),
                Arguments.of("{\n  \"a\": [1,\n        2 x]}", 3, 11, "expected ',' or ']' in an array"),
                // CR LF line ends: the line advances on LF.
                Arguments.of("{\r\n  \"a\": x}", 2, 8, "unexpected character 'x'"),
                // Characters a terminal would not show (a NUL ended up in the error line itself) are shown by code.
                Arguments.of("[1,\0]", 1, 4, "unexpected character U+0000"),
                Arguments.of("[1,\f2]", 1, 4, "unexpected character U+000C"),
                Arguments.of("[1,\u20282]", 1, 4, "unexpected character U+2028"),
                Arguments.of("[1,\u00A02]", 1, 4, "unexpected character U+00A0"),
                Arguments.of("[1,\uD83D\uDE00]", 1, 4, "unexpected character U+D83D"),
                // What InputStreamReader puts for bytes that are not UTF-8: it printed as a bare replacement character.
                Arguments.of("[1,\uFFFD]", 1, 4, "unexpected character U+FFFD (what stands for bytes that are not "
                        + "UTF-8)"));
    }

    @ParameterizedTest(name = "{index}: {3}")
    @MethodSource("syntaxErrors")
    void syntaxErrorsNameTheSourceLineColumnAndProblem(String json, int line, int column, String problem) {
        assertThat(errorOf(reader(json))).isEqualTo(message(line, column, problem));
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1] ", "[1]\n", "[1]\r\n\t \n", "\n\n[1]"})
    void whitespaceAroundTheValueIsFine(String json) {
        parseAll(reader(json));
    }

    @Test
    void typeMismatchesNameBothTypes() {
        assertThatThrownBy(() -> reader("[1]").beginObject()).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(SOURCE + ": malformed JSON at line 1, column ")
                .hasMessageEndingWith(": expected an object but found an array");
        assertThatThrownBy(() -> reader("\"x\"").nextDouble())
                .hasMessageEndingWith(": expected a number but found a string");
        assertThatThrownBy(() -> reader("1").nextString())
                .hasMessageEndingWith(": expected a string but found a number");
        assertThatThrownBy(() -> reader("{}").nextName())
                .hasMessageEndingWith(": expected a member name but found an object");
        assertThatThrownBy(() -> reader("null").nextBoolean())
                .hasMessageEndingWith(": expected a boolean but found null");
        assertThatThrownBy(() -> reader("true").nextNull()).hasMessageEndingWith(": expected null but found a boolean");
        assertThatThrownBy(() -> reader("1 ").endArray())
                .hasMessageEndingWith(": expected the end of an array but found a number");
        JsonReader r = reader("[1]");
        r.beginArray();
        assertThatThrownBy(r::endObject).hasMessageEndingWith(": expected the end of an object but found a number");
        JsonReader done = reader("[]");
        done.beginArray();
        done.endArray();
        assertThatThrownBy(done::beginArray)
                .hasMessageEndingWith(": expected an array but found the end of the document");
        assertThatThrownBy(() -> reader("[] ").endDocument())
                .hasMessageEndingWith(": expected the end of the document but found an array");
    }

    // ---------------------------------------------------------------- buffer refills

    /** {@code [0, 123, ...   x]} with the stray {@code x} at {@code index}, optionally spread over lines. */
    private static String strayCharacterAt(int index, boolean newlines) {
        StringBuilder sb = new StringBuilder("[0");
        while (sb.length() + 6 < index) {
            sb.append(newlines && sb.length() % 1000 < 5 ? ",\n123" : ", 123");
        }
        while (sb.length() < index) {
            sb.append(' ');
        }
        return sb.append("x]").toString();
    }

    static Stream<Arguments> positionsAroundTheBuffer() {
        List<Arguments> cases = new ArrayList<>();
        for (int index : new int[] {10, BUFFER - 1, BUFFER, BUFFER + 1, 100_003, 2 * BUFFER, 2 * BUFFER + 7}) {
            for (boolean newlines : new boolean[] {false, true}) {
                for (int chunk : new int[] {Integer.MAX_VALUE, 1, 4093, BUFFER}) {
                    cases.add(Arguments.of(index, newlines, chunk));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "index {0}, newlines {1}, chunk {2}")
    @MethodSource("positionsAroundTheBuffer")
    void errorPositionsStayRightAcrossRefills(int index, boolean newlines, int chunk) {
        String json = strayCharacterAt(index, newlines);
        assertThat(json.charAt(index)).isEqualTo('x');
        JsonReader r = new JsonReader(chunked(json, chunk), SOURCE);
        assertThat(errorOf(r)).isEqualTo(SOURCE + ": malformed JSON at " + locationOf(json, index)
                + ": expected ',' or ']' in an array");
    }

    @Test
    void longFirstLineColumnIsCountedAcrossRefills() {
        // The common case: a whole trace on one line, far longer than the buffer.
        String json = strayCharacterAt(150_000, false);
        assertThat(errorOf(reader(json))).isEqualTo(message(1, 150_001, "expected ',' or ']' in an array"));
        String twoLines = json.substring(0, 150_000) + "\n   x]";
        assertThat(errorOf(reader(twoLines))).isEqualTo(message(2, 4, "expected ',' or ']' in an array"));
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MAX_VALUE, 1, 3, 4093})
    void errorsInsideTokensThatStraddleTheBuffer(int chunk) {
        // A control character in a string that started in the previous buffer.
        String string = "[\"" + "a".repeat(BUFFER + 10) + "\t\"]";
        int tab = string.indexOf('\t');
        assertThat(errorOf(new JsonReader(chunked(string, chunk), SOURCE)))
                .isEqualTo(SOURCE + ": malformed JSON at " + locationOf(string, tab)
                        + ": control character in a string");

        // A malformed number across the boundary: the column is just past its text.
        String number = "[" + " ".repeat(BUFFER - 4) + "1.2.3]";
        assertThat(errorOf(new JsonReader(chunked(number, chunk), SOURCE)))
                .isEqualTo(SOURCE + ": malformed JSON at " + locationOf(number, number.indexOf(']'))
                        + ": malformed number '1.2.3'");

        // A literal whose bad character lies in the next buffer.
        String literal = "[\n" + " ".repeat(BUFFER - 4) + "trux]";
        assertThat(errorOf(new JsonReader(chunked(literal, chunk), SOURCE)))
                .isEqualTo(SOURCE + ": malformed JSON at " + locationOf(literal, literal.indexOf('x'))
                        + ": unknown literal (expected a value)");

        // A bad \\u digit after a refill.
        String escape = "[\"" + "b".repeat(BUFFER - 5) + "\\u00z1\"]";
        assertThat(errorOf(new JsonReader(chunked(escape, chunk), SOURCE)))
                .isEqualTo(SOURCE + ": malformed JSON at " + locationOf(escape, escape.indexOf('z'))
                        + ": malformed \\u escape");
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MAX_VALUE, 1, 2, 5, 4093})
    void tokensThatStraddleTheBufferReadWhole(int chunk) {
        // Shift the tokens so that each kind crosses the 64 KiB boundary at some offset.
        for (int shift = 0; shift < 12; shift++) {
            String json = "[" + " ".repeat(BUFFER - 8 + shift) + "1234567.25e-2, \"x\\u00e9\\n\", -Infinity, true]";
            JsonReader r = new JsonReader(chunked(json, chunk), SOURCE);
            r.beginArray();
            assertThat(r.nextDouble()).isEqualTo(12345.6725);
            assertThat(r.nextString()).isEqualTo("xé\n");
            assertThat(r.nextDouble()).isEqualTo(Double.NEGATIVE_INFINITY);
            assertThat(r.nextBoolean()).isTrue();
            r.endArray();
            r.endDocument();
        }
    }

    @Test
    void readsLargeArraysAcrossBufferRefills() {
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < 100_000; i++) {
            json.append(i == 0 ? "" : i % 7 == 0 ? ",\n" : ", ").append(i).append(".5");
        }
        JsonReader r = new JsonReader(chunked(json.append(']').toString(), 1000), SOURCE);
        r.beginArray();
        int count = 0;
        while (r.hasNext()) {
            assertThat(r.nextDouble()).isEqualTo(count + 0.5);
            count++;
        }
        r.endArray();
        r.endDocument();
        assertThat(count).isEqualTo(100_000);
    }

    // ---------------------------------------------------------------- the underlying Reader

    @Test
    void closeClosesTheUnderlyingReader() throws IOException {
        boolean[] closed = {false};
        JsonReader r = new JsonReader(new StringReader("1") {
            @Override
            public void close() {
                closed[0] = true;
            }
        }, SOURCE);
        r.close();
        assertThat(closed[0]).isTrue();
    }

    @Test
    void readFailuresAreUncheckedAndNameTheSource() {
        Reader failing = new Reader() {
            @Override
            public int read(char[] cbuf, int off, int len) throws IOException {
                throw new IOException("disk gone");
            }

            @Override
            public void close() {
            }
        };
        assertThatThrownBy(() -> new JsonReader(failing, SOURCE).peek()).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("reading " + SOURCE).hasRootCauseMessage("disk gone");
    }

    /** Reads every member name of every object by {@link JsonReader#nextName}, recursively. */
    private static void readNames(JsonReader r) {
        switch (r.peek()) {
            case BEGIN_OBJECT -> {
                r.beginObject();
                while (r.hasNext()) {
                    r.nextName();
                    readNames(r);
                }
                r.endObject();
            }
            case BEGIN_ARRAY -> {
                r.beginArray();
                while (r.hasNext()) {
                    readNames(r);
                }
                r.endArray();
            }
            default -> r.skipValue();
        }
    }

    @Test
    void aNameTwiceInOneObjectIsAnErrorNamingIt() {
        JsonReader r = reader("{\"weight\": [[1, 2]],\n \"num_gpus\": 2, \"weight\": [[3, 4]]}");
        assertThatThrownBy(() -> readNames(r)).isInstanceOf(InvalidInputException.class)
                .hasMessage("test.json: malformed JSON at line 2, column 25: member \"weight\" appears twice in one "
                        + "object");
        JsonReader nested = reader("{\"a\": {\"b\": 1, \"b\": 2}}");
        assertThatThrownBy(() -> readNames(nested)).hasMessageContaining("member \"b\" appears twice");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"a\": {\"a\": {\"a\": 1}}, \"b\": {\"a\": 2}}", // the same name in nested and sibling objects
        "[{\"a\": 1, \"b\": 2}, {\"a\": 3, \"b\": 4}]", // in every object of an array
        "{\"x\": [{\"a\": 1}], \"y\": [{\"a\": 1}, {\"a\": 2}]}"})
    void theSameNameInDifferentObjectsIsFine(String json) {
        JsonReader r = reader(json);
        readNames(r);
        r.endDocument();
    }

    @Test
    void aLeadingByteOrderMarkIsIgnoredAndColumnsCountAfterIt() {
        JsonReader r = reader("\uFEFF{\"a\": [1, 2]}");
        assertThat(r.peek()).isEqualTo(Token.BEGIN_OBJECT);
        readNames(r);
        r.endDocument();
        // Only at the start: elsewhere it is a character like any other, and an error.
        assertThat(errorOf(reader("\uFEFF[1, x]"))).isEqualTo(message(1, 5, "unexpected character 'x'"));
        assertThat(errorOf(reader("[1,\uFEFF2]"))).startsWith(SOURCE + ": malformed JSON at line 1, column 4: ");
    }
}
