package io.moelab.evolve.prompt;

import io.moelab.eplb.Nouns;

/** The end of a long text (errors are most useful at their end), with a note of how much was cut. */
public final class TextTail {
    private TextTail() {
    }

    /**
     * {@code text} itself if it has at most {@code max} characters, else its last {@code max} (one fewer where the cut
     * falls inside a surrogate pair: half a pair is no text, written out as '?') after a line
     * {@code [... N characters cut ...]} (only that line, when {@code max} is 0).
     */
    public static String of(String text, int max) {
        if (text.length() <= max) {
            return text;
        }
        int from = text.length() - max;
        // With max 0 the cut is at the end: there is no character after it to look at.
        if (from < text.length() && Character.isLowSurrogate(text.charAt(from))
                && Character.isHighSurrogate(text.charAt(from - 1))) {
            from++;
        }
        return "[... " + Nouns.count(from, "character") + " cut ...]\n" + text.substring(from);
    }
}
