package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;

/**
 * A small streaming (pull) JSON parser for the expert-load formats, which can run to hundreds of megabytes of
 * numbers. The eplb module has no third-party runtime dependencies, hence this class; it reads RFC 8259 JSON
 * plus the {@code NaN}, {@code Infinity} and {@code -Infinity} literals Python's {@code json} module writes,
 * so such values reach validation and are reported as bad loads rather than as a syntax error.
 *
 * <p>Syntax errors are {@link InvalidInputException}s naming the source and the line and column. A member name
 * that repeats within one object read through {@link #nextName} is one too: which of two {@code "weight"}s
 * was meant cannot be known, and taking the last one silently plans on loads the user may not have looked at.
 */
public final class JsonReader implements Closeable {

    /** What the next value or structural element is. */
    public enum Token {
        /** <code>&#123;</code> */
        BEGIN_OBJECT,
        /** <code>&#125;</code> */
        END_OBJECT,
        /** {@code [} */
        BEGIN_ARRAY,
        /** {@code ]} */
        END_ARRAY,
        /** A member name in an object. */
        NAME,
        /** A string value. */
        STRING,
        /** A number, including NaN and the infinities. */
        NUMBER,
        /** {@code true} or {@code false}. */
        BOOLEAN,
        /** {@code null}. */
        NULL,
        /** The end of the document. */
        END_DOCUMENT;

        /** A phrase for error messages: "a number", "an array", ... */
        public String phrase() {
            return switch (this) {
                case BEGIN_OBJECT -> "an object";
                case END_OBJECT -> "the end of an object";
                case BEGIN_ARRAY -> "an array";
                case END_ARRAY -> "the end of an array";
                case NAME -> "a member name";
                case STRING -> "a string";
                case NUMBER -> "a number";
                case BOOLEAN -> "a boolean";
                case NULL -> "null";
                case END_DOCUMENT -> "the end of the document";
            };
        }
    }

    // Scope states, as in a classic pull parser.
    private static final int EMPTY_DOCUMENT = 0;
    private static final int NONEMPTY_DOCUMENT = 1;
    private static final int EMPTY_ARRAY = 2;
    private static final int NONEMPTY_ARRAY = 3;
    private static final int EMPTY_OBJECT = 4;
    private static final int DANGLING_NAME = 5;
    private static final int NONEMPTY_OBJECT = 6;

    private final Reader in;
    private final String source;
    private final char[] buffer = new char[1 << 16];
    private int pos;
    private int limit;
    private int line = 1;
    private int lineStart; // buffer index where the current line starts (0 if it started in an earlier buffer)
    private long lineConsumed; // characters of the current line in earlier buffers

    private int[] stack = new int[32];
    private int depth = 1;
    /** Per depth, the member names {@link #nextName} returned in the object open there (made on first use). */
    private HashSet<String>[] names = newNameSets(32);

    private Token peeked;
    private String peekedString;
    private double peekedNumber;
    private boolean peekedBoolean;
    private final StringBuilder scratch = new StringBuilder();

    /**
     * A reader of the JSON text {@code in}.
     *
     * @param in     the JSON text; closed by {@link #close()}
     * @param source a name for error messages, e.g. the file name
     */
    public JsonReader(Reader in, String source) {
        this.in = in;
        this.source = source;
        stack[0] = EMPTY_DOCUMENT;
    }

    /** The name given for error messages. */
    public String source() {
        return source;
    }

    /** The type of the next token, without consuming it. */
    public Token peek() {
        if (peeked == null) {
            peeked = advance();
        }
        return peeked;
    }

    /** Whether the current array or object has another element. */
    public boolean hasNext() {
        Token t = peek();
        return t != Token.END_ARRAY && t != Token.END_OBJECT && t != Token.END_DOCUMENT;
    }

    /** Consumes {@code [}. */
    public void beginArray() {
        expect(Token.BEGIN_ARRAY);
        push(EMPTY_ARRAY);
    }

    /** Consumes {@code ]}. */
    public void endArray() {
        expect(Token.END_ARRAY);
        depth--;
    }

    /** Consumes <code>{</code>. */
    public void beginObject() {
        expect(Token.BEGIN_OBJECT);
        push(EMPTY_OBJECT);
    }

    /** Consumes <code>}</code>. */
    public void endObject() {
        expect(Token.END_OBJECT);
        depth--;
    }

    /**
     * Consumes a member name and returns it.
     *
     * @throws InvalidInputException if the object already had a member of that name
     */
    public String nextName() {
        expect(Token.NAME);
        HashSet<String> seen = names[depth - 1];
        if (seen == null) {
            seen = names[depth - 1] = new HashSet<>();
        }
        if (!seen.add(peekedString)) {
            throw syntaxError("member \"" + peekedString + "\" appears twice in one object");
        }
        return peekedString;
    }

    /** Consumes a string value and returns it. */
    public String nextString() {
        expect(Token.STRING);
        return peekedString;
    }

    /** Consumes a number (possibly NaN or infinite) and returns it. */
    public double nextDouble() {
        expect(Token.NUMBER);
        return peekedNumber;
    }

    /** Consumes a boolean and returns it. */
    public boolean nextBoolean() {
        expect(Token.BOOLEAN);
        return peekedBoolean;
    }

    /** Consumes {@code null}. */
    public void nextNull() {
        expect(Token.NULL);
    }

    /** Consumes the next value whatever it is, including nested arrays and objects. */
    public void skipValue() {
        int level = 0;
        do {
            Token t = peek();
            switch (t) {
                case BEGIN_ARRAY -> {
                    beginArray();
                    level++;
                }
                case BEGIN_OBJECT -> {
                    beginObject();
                    level++;
                }
                case END_ARRAY -> {
                    endArray();
                    level--;
                }
                case END_OBJECT -> {
                    endObject();
                    level--;
                }
                case END_DOCUMENT -> throw syntaxError("unexpected end of the document");
                default -> peeked = null; // a scalar or a name
            }
        } while (level > 0);
    }

    /** Requires that nothing but whitespace follows the top-level value. */
    public void endDocument() {
        expect(Token.END_DOCUMENT);
    }

    /** "line L, column C" of the next unread character. */
    public String location() {
        return "line " + line + ", column " + (lineConsumed + pos - lineStart + 1);
    }

    /** An {@link InvalidInputException} for this source at the current position. */
    public InvalidInputException syntaxError(String problem) {
        return new InvalidInputException(source, "malformed JSON at " + location() + ": " + problem);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private void expect(Token wanted) {
        Token t = peek();
        if (t != wanted) {
            throw syntaxError("expected " + wanted.phrase() + " but found " + t.phrase());
        }
        peeked = null;
    }

    private void push(int state) {
        if (depth == stack.length) {
            stack = Arrays.copyOf(stack, depth * 2);
            names = Arrays.copyOf(names, depth * 2);
        }
        if (state == EMPTY_OBJECT && names[depth] != null) {
            names[depth].clear();
        }
        stack[depth++] = state;
    }

    @SuppressWarnings("unchecked")
    private static HashSet<String>[] newNameSets(int n) {
        return (HashSet<String>[]) new HashSet<?>[n];
    }

    private Token advance() {
        int state = stack[depth - 1];
        switch (state) {
            case EMPTY_ARRAY -> {
                stack[depth - 1] = NONEMPTY_ARRAY;
                int c = nextNonWhitespace("a value or ']'");
                if (c == ']') {
                    return Token.END_ARRAY;
                }
                pos--;
            }
            case NONEMPTY_ARRAY -> {
                int c = nextNonWhitespace("',' or ']'");
                if (c == ']') {
                    return Token.END_ARRAY;
                }
                if (c != ',') {
                    pos--;
                    throw syntaxError("expected ',' or ']' in an array");
                }
            }
            case EMPTY_OBJECT, NONEMPTY_OBJECT -> {
                int c = nextNonWhitespace(state == EMPTY_OBJECT ? "a member or '}'" : "',' or '}'");
                if (c == '}') {
                    return Token.END_OBJECT;
                }
                if (state == NONEMPTY_OBJECT) {
                    if (c != ',') {
                        pos--;
                        throw syntaxError("expected ',' or '}' in an object");
                    }
                    c = nextNonWhitespace("a member name");
                }
                if (c != '"') {
                    pos--;
                    throw syntaxError("expected a member name in double quotes");
                }
                peekedString = readString();
                stack[depth - 1] = DANGLING_NAME;
                return Token.NAME;
            }
            case DANGLING_NAME -> {
                int c = nextNonWhitespace("':'");
                if (c != ':') {
                    pos--;
                    throw syntaxError("expected ':' after a member name");
                }
                stack[depth - 1] = NONEMPTY_OBJECT;
            }
            case EMPTY_DOCUMENT -> {
                // A UTF-8 byte order mark, as Windows editors write one: RFC 8259 lets a parser ignore it.
                if (fill(1) && buffer[pos] == '\uFEFF') {
                    pos++;
                    lineStart = pos;
                }
                stack[depth - 1] = NONEMPTY_DOCUMENT;
            }
            case NONEMPTY_DOCUMENT -> {
                int c = nextNonWhitespaceOrEnd();
                if (c == -1) {
                    return Token.END_DOCUMENT;
                }
                pos--;
                throw syntaxError("unexpected data after the top-level value");
            }
            default -> throw new IllegalStateException("scope " + state);
        }
        return readValue();
    }

    private Token readValue() {
        int c = nextNonWhitespace("a value");
        switch (c) {
            case '{' -> {
                return Token.BEGIN_OBJECT;
            }
            case '[' -> {
                return Token.BEGIN_ARRAY;
            }
            case '"' -> {
                peekedString = readString();
                return Token.STRING;
            }
            case 't' -> {
                readLiteral("rue");
                peekedBoolean = true;
                return Token.BOOLEAN;
            }
            case 'f' -> {
                readLiteral("alse");
                peekedBoolean = false;
                return Token.BOOLEAN;
            }
            case 'n' -> {
                readLiteral("ull");
                return Token.NULL;
            }
            case 'N' -> {
                readLiteral("aN");
                peekedNumber = Double.NaN;
                return Token.NUMBER;
            }
            case 'I' -> {
                readLiteral("nfinity");
                peekedNumber = Double.POSITIVE_INFINITY;
                return Token.NUMBER;
            }
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    pos--;
                    peekedNumber = readNumber();
                    return Token.NUMBER;
                }
                pos--;
                throw syntaxError("unexpected character " + describe((char) c));
            }
        }
    }

    /**
     * A character as an error message shows it: quoted where a terminal shows it as itself, else by its code (a NUL
     * or a line separator printed raw broke the one-line message, a lone surrogate or U+FFFD showed as a box).
     */
    private static String describe(char c) {
        int type = Character.getType(c);
        boolean visible = c > ' ' && !Character.isISOControl(c) && !Character.isSurrogate(c) && c != '\uFFFD'
                && type != Character.SPACE_SEPARATOR && type != Character.LINE_SEPARATOR
                && type != Character.PARAGRAPH_SEPARATOR && type != Character.FORMAT
                && type != Character.UNASSIGNED && type != Character.PRIVATE_USE;
        if (visible) {
            return "'" + c + "'";
        }
        String code = String.format(Locale.ROOT, "U+%04X", (int) c);
        return c == '\uFFFD' ? code + " (what stands for bytes that are not UTF-8)" : code;
    }

    private void readLiteral(String rest) {
        for (int i = 0; i < rest.length(); i++) {
            if (!fill(1) || buffer[pos] != rest.charAt(i)) {
                throw syntaxError("unknown literal (expected a value)");
            }
            pos++;
        }
    }

    private double readNumber() {
        scratch.setLength(0);
        boolean integral = true;
        while (fill(1)) {
            char c = buffer[pos];
            if ((c >= '0' && c <= '9') || c == '-' || c == '+') {
                scratch.append(c);
            } else if (c == '.' || c == 'e' || c == 'E') {
                scratch.append(c);
                integral = false;
            } else if (c == 'I' && scratch.length() == 1 && scratch.charAt(0) == '-') {
                readLiteral("Infinity");
                return Double.NEGATIVE_INFINITY;
            } else {
                break;
            }
            pos++;
        }
        int length = scratch.length();
        // Fast path: plain integers, the common case in token-count traces.
        if (integral && length > 0 && length <= 18) {
            int i = scratch.charAt(0) == '-' ? 1 : 0;
            if (i < length && (scratch.charAt(i) != '0' || length == i + 1)) {
                long v = 0;
                boolean digits = true;
                for (int k = i; k < length; k++) {
                    char d = scratch.charAt(k);
                    if (d < '0' || d > '9') {
                        digits = false;
                        break;
                    }
                    v = v * 10 + (d - '0');
                }
                if (digits) {
                    return i == 1 ? -(double) v : v; // "-0" is -0.0
                }
            }
        }
        String text = scratch.toString();
        if (!isJsonNumber(text)) {
            throw syntaxError("malformed number '" + text + "'");
        }
        return Double.parseDouble(text);
    }

    /** RFC 8259 number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
    private static boolean isJsonNumber(String s) {
        int i = 0;
        int n = s.length();
        if (i < n && s.charAt(i) == '-') {
            i++;
        }
        if (i >= n) {
            return false;
        }
        if (s.charAt(i) == '0') {
            i++;
        } else if (s.charAt(i) >= '1' && s.charAt(i) <= '9') {
            while (i < n && Character.isDigit(s.charAt(i))) {
                i++;
            }
        } else {
            return false;
        }
        if (i < n && s.charAt(i) == '.') {
            int start = ++i;
            while (i < n && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int start = i;
            while (i < n && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        return i == n;
    }

    private String readString() {
        scratch.setLength(0);
        while (true) {
            if (!fill(1)) {
                throw syntaxError("unterminated string");
            }
            char c = buffer[pos++];
            if (c == '"') {
                return scratch.toString();
            }
            if (c == '\\') {
                if (!fill(1)) {
                    throw syntaxError("unterminated string");
                }
                char e = buffer[pos++];
                switch (e) {
                    case '"', '\\', '/' -> scratch.append(e);
                    case 'b' -> scratch.append('\b');
                    case 'f' -> scratch.append('\f');
                    case 'n' -> scratch.append('\n');
                    case 'r' -> scratch.append('\r');
                    case 't' -> scratch.append('\t');
                    case 'u' -> {
                        if (!fill(4)) {
                            throw syntaxError("unterminated \\u escape");
                        }
                        int code = 0;
                        for (int k = 0; k < 4; k++) {
                            int digit = hexDigit(buffer[pos]);
                            if (digit < 0) {
                                throw syntaxError("malformed \\u escape");
                            }
                            pos++;
                            code = code * 16 + digit;
                        }
                        scratch.append((char) code);
                    }
                    default -> {
                        pos--; // point at the escape character
                        throw syntaxError("unknown escape '\\" + e + "'");
                    }
                }
            } else if (c < 0x20) {
                pos--; // point at the control character
                throw syntaxError("control character in a string");
            } else {
                scratch.append(c);
            }
        }
    }

    /** The value of an ASCII hex digit, else -1 (RFC 8259: HEXDIG is ASCII only, unlike Character.digit). */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private int nextNonWhitespace(String expected) {
        int c = nextNonWhitespaceOrEnd();
        if (c == -1) {
            throw syntaxError("unexpected end of input, expected " + expected);
        }
        return c;
    }

    private int nextNonWhitespaceOrEnd() {
        while (fill(1)) {
            char c = buffer[pos++];
            if (c == '\n') {
                line++;
                lineStart = pos;
                lineConsumed = 0;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return c;
            }
        }
        return -1;
    }

    /** Makes at least {@code n} characters available at {@code pos}; false at end of input. */
    private boolean fill(int n) {
        if (limit - pos >= n) {
            return true;
        }
        // The characters before pos are dropped: carry the current line's share of them into the column.
        lineConsumed += pos - lineStart;
        lineStart = 0;
        System.arraycopy(buffer, pos, buffer, 0, limit - pos);
        limit -= pos;
        pos = 0;
        try {
            while (limit < n) {
                int read = in.read(buffer, limit, buffer.length - limit);
                if (read < 0) {
                    return false;
                }
                limit += read;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + source, e);
        }
        return true;
    }
}
