package io.moelab.runtime.generate;

import io.moelab.runtime.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Generated text as it comes, token by token, for printing while a model generates. A token's text is not always
 * final when the token arrives: a character's UTF-8 bytes may span tokens (the decoder shows U+FFFD until the last
 * one comes), and transformers' {@code clean_up_tokenization_spaces} rewrites spaces by what follows them (
 * {@code " ."} becomes {@code "."}, {@code "a ' b"} becomes {@code "a'b"}). So each step decodes every token so far
 * and gives out the new text only up to the second-to-last whitespace character, and never a trailing U+FFFD: what
 * the later tokens can still change is held back until {@link #finish}. The pieces given out then add up to the
 * decoding of all tokens at once, which is what {@code generate} printed before it streamed. Each step decodes all
 * tokens so far (as transformers' {@code TextStreamer} decodes its cache), so {@code n} tokens cost {@code n}
 * decodings of up to {@code n} ids. Not thread-safe.
 */
public final class TextStream {
    /** Held back at the end of a decoding while more tokens may complete it. */
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private int[] ids = new int[16];
    private int count;
    private String emitted = "";
    /** Whether a decoding no longer began with the text given out (a decoder that rewrites earlier text). */
    private boolean diverged;

    /** A stream of {@code tokenizer}'s text, empty so far. */
    public TextStream(Tokenizer tokenizer) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /**
     * Adds a generated token; returns the text that is now final and was not given out before (often empty).
     *
     * @throws IllegalArgumentException if the id is negative (as {@link Tokenizer#decode})
     */
    public String add(int id) {
        if (id < 0) {
            throw new IllegalArgumentException("negative token id " + id);
        }
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        if (diverged) {
            return "";
        }
        String text = tokenizer.decode(Arrays.copyOf(ids, count));
        int end = stableEnd(text);
        if (end <= emitted.length()) {
            return "";
        }
        if (!text.startsWith(emitted)) {
            // Never seen with the decoders models ship; the rest waits for finish, which then says so.
            diverged = true;
            return "";
        }
        String piece = text.substring(emitted.length(), end);
        emitted = text.substring(0, end);
        return piece;
    }

    /**
     * The rest of the text: the decoding of every token added after what {@link #add} gave out. Should a decoder
     * have rewritten text already given out, the whole decoding follows on a line of its own, so that the complete
     * text is still printed as the tokens decode all at once.
     */
    public String finish() {
        String text = tokenizer.decode(Arrays.copyOf(ids, count));
        if (text.startsWith(emitted)) {
            String rest = text.substring(emitted.length());
            emitted = text;
            return rest;
        }
        emitted = text;
        return System.lineSeparator() + text;
    }

    /**
     * The end of the part of {@code text} that later tokens cannot change: before its second-to-last whitespace
     * character (clean-up joins a space to what follows it, and {@code " ' "} to what precedes it too), and before
     * any trailing U+FFFD.
     */
    static int stableEnd(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == REPLACEMENT) {
            end--;
        }
        int spaces = 0;
        for (int i = end - 1; i >= 0; i--) {
            if (Character.isWhitespace(text.charAt(i)) && ++spaces == 2) {
                return i;
            }
        }
        return 0;
    }
}
