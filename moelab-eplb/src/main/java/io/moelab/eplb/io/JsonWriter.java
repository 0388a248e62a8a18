package io.moelab.eplb.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A small streaming JSON writer for the expert-load and placement formats. Objects and arrays of arrays are
 * laid out one member per line; arrays of numbers ({@link #numbers(double[])}, {@link #numbers(int[])}) stay on
 * one line, so matrices read as rows. Integral values are written without a fraction.
 */
public final class JsonWriter {
    private final Writer out;
    private final Deque<boolean[]> scopes = new ArrayDeque<>(); // per open scope: {hasMembers}
    private boolean afterName;

    /** Writes to {@code out}; the caller closes it. */
    public JsonWriter(Writer out) {
        this.out = out;
    }

    /** Opens an object. */
    public JsonWriter beginObject() {
        open('{');
        return this;
    }

    /** Closes the current object. */
    public JsonWriter endObject() {
        close('}');
        return this;
    }

    /** Opens an array whose elements go one per line. */
    public JsonWriter beginArray() {
        open('[');
        return this;
    }

    /** Closes the current array. */
    public JsonWriter endArray() {
        close(']');
        return this;
    }

    /** Writes a member name; the next call writes its value. */
    public JsonWriter name(String name) {
        element();
        string(name);
        write(": ");
        afterName = true;
        return this;
    }

    /** Writes a string value. */
    public JsonWriter value(String value) {
        element();
        string(value);
        return this;
    }

    /** Writes a number. */
    public JsonWriter value(double value) {
        element();
        write(format(value));
        return this;
    }

    /** Writes an array of numbers on one line. */
    public JsonWriter numbers(double[] values) {
        element();
        StringBuilder sb = new StringBuilder(values.length * 8).append('[');
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(format(values[i]));
        }
        write(sb.append(']').toString());
        return this;
    }

    /** Writes an array of integers on one line. */
    public JsonWriter numbers(int[] values) {
        element();
        StringBuilder sb = new StringBuilder(values.length * 4).append('[');
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(values[i]);
        }
        write(sb.append(']').toString());
        return this;
    }

    /** Ends the document with a newline and flushes. */
    public void finish() {
        if (!scopes.isEmpty()) {
            throw new IllegalStateException("unclosed scopes: " + scopes.size());
        }
        write("\n");
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A JSON number for {@code value}: integral values below 2^53 without a fraction, others in Java's
     * shortest round-trip form.
     *
     * @throws IllegalArgumentException for NaN or infinity, which JSON cannot represent
     */
    public static String format(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("JSON has no representation for " + value);
        }
        if (value == Math.rint(value) && Math.abs(value) < 0x1p53) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }

    private void open(char bracket) {
        element();
        write(String.valueOf(bracket));
        scopes.push(new boolean[1]);
    }

    private void close(char bracket) {
        boolean[] scope = scopes.pop();
        if (scope[0]) {
            newline();
        }
        write(String.valueOf(bracket));
    }

    /** Separator and indentation before a value or name. */
    private void element() {
        if (afterName) {
            afterName = false;
            return;
        }
        boolean[] scope = scopes.peek();
        if (scope != null) {
            if (scope[0]) {
                write(",");
            }
            scope[0] = true;
            newline();
        }
    }

    private void newline() {
        write("\n" + "  ".repeat(scopes.size()));
    }

    private void string(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        write(sb.append('"').toString());
    }

    private void write(String s) {
        try {
            out.write(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
