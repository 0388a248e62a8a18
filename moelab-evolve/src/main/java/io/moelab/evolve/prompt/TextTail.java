package io.moelab.evolve.prompt;

import io.moelab.eplb.Nouns;

/** The end of a long text (errors are most useful at their end), with a note of how much was cut. */
public final class TextTail {
    private TextTail() {
    }

    /**
     * {@code text} itself if it has at most {@code max} characters, else its last {@code max} (one fewer where the cut
     * falls inside a surrogate pair: half a pair is no text, written out as '?') after a line
     * {@code [... N characters cut ...]}.
     */
    public static String of(String text, int max) {
        if (text.length() <= max) {
            return text;
        }
        int from = text.length() - max;
        if (Character.isLowSurrogate(text.charAt(from)) && Character.isHighSurrogate(text.charAt(from - 1))) {
            from++;
        }
        return "[... " + Nouns.count(from, "character") + " cut ...]\n" + text.substring(from);
    }
}
