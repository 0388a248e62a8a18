package io.moelab.eplb;

import java.util.Locale;

/**
 * Text taken from an input file, made fit for a one-line error message: the CLI prints a message's first line
 * only, so a name or value with a line break in it cut the message short.
 */
public final class MessageText {
    private MessageText() {
    }

    /**
     * {@code text} with its control characters (and the Unicode line and paragraph separators) written as JSON
     * escapes: {@code \n}, {@code \r}, {@code \t}, else a backslash, {@code u} and four hex digits.
     */
    public static String oneLine(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
