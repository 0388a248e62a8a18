package io.moelab.evolve.edit;

import java.util.ArrayList;
import java.util.List;

/** Line handling shared by the package: splitting, joining with the program's own line endings, quoting. */
final class Text {
    private static final int QUOTE_LIMIT = 120;

    private Text() {
    }

    /** The lines of a program, as {@link String#lines()} splits them, in a list that may be edited. */
    static List<String> lines(String code) {
        return new ArrayList<>(code.lines().toList());
    }

    /** The line ending the text uses: CRLF if it has any, else a lone CR if it has only those, else LF. */
    static String eol(String code) {
        if (code.contains("\r\n")) {
            return "\r\n";
        }
        return code.indexOf('\r') >= 0 && code.indexOf('\n') < 0 ? "\r" : "\n";
    }

    /** Whether the text ends with a line ending. */
    static boolean endsWithNewline(String code) {
        return code.endsWith("\n") || code.endsWith("\r");
    }

    /** Joins lines back into a program; no lines give the empty string. */
    static String join(List<String> lines, String eol, boolean trailingNewline) {
        if (lines.isEmpty()) {
            return "";
        }
        String body = String.join(eol, lines);
        return trailingNewline ? body + eol : body;
    }

    /**
     * The lines of a SEARCH or REPLACE text: split on LF with any CR before it dropped, so that a hand-made block
     * with CRLF compares like a parsed one; the empty text has no lines.
     */
    static List<String> blockLines(String text) {
        if (text.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            out.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
        }
        return out;
    }

    /** The leading whitespace of a line. */
    static String indent(String line) {
        int i = 0;
        while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        return line.substring(0, i);
    }

    /** Columns the whitespace takes, a tab counting as {@code tab}. */
    static int width(String whitespace, int tab) {
        int w = 0;
        for (int i = 0; i < whitespace.length(); i++) {
            w += whitespace.charAt(i) == '\t' ? tab : 1;
        }
        return w;
    }

    /** A line for a one-line message: stripped, and cut short when long. */
    static String quote(String line) {
        String s = line.strip();
        return s.length() <= QUOTE_LIMIT ? s : s.substring(0, QUOTE_LIMIT) + "...";
    }

    /** "line 4" or "lines 4-9", for 1-based inclusive bounds. */
    static String span(int first, int last) {
        return first == last ? "line " + first : "lines " + first + "-" + last;
    }
}
