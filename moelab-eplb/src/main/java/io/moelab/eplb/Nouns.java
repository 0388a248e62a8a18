package io.moelab.eplb;

/**
 * A count with its noun in the right number, for messages: {@code count(1, "layer")} is {@code "1 layer"},
 * {@code count(2, "layer")} {@code "2 layers"} (messages read "1 layers" when they added an "s" regardless).
 */
public final class Nouns {
    private Nouns() {
    }

    /** {@code n} and {@code singular}, with an "s" added unless {@code n} is 1 or -1. */
    public static String count(long n, String singular) {
        return count(n, singular, singular + "s");
    }

    /** {@code n} and {@code singular} when {@code n} is 1 or -1, else {@code n} and {@code plural}. */
    public static String count(long n, String singular, String plural) {
        return n + " " + (Math.abs(n) == 1 ? singular : plural);
    }
}
