package io.moelab.runtime.tokenizer;

import java.util.OptionalInt;

/**
 * Turns text into token ids and token ids back into text. Implementations are safe for concurrent use until
 * {@link #close()}.
 */
public interface Tokenizer extends AutoCloseable {

    /** The ids of {@code text}; no special tokens (BOS, EOS) are added unless the implementation says so. */
    int[] encode(String text);

    /**
     * The ids a model is given for {@code text}: the text's own ids ({@link #encode}) with the special ids the
     * tokenizer adds around them, as transformers' {@code tokenizer(text)} adds them by default. The default adds
     * none.
     */
    default Encoded encodeWithSpecialTokens(String text) {
        return new Encoded(new int[0], encode(text), new int[0]);
    }

    /**
     * The UTF-8 bytes of {@code text} from its start to the end of its first token ({@link #encode}'s first id): the
     * part of the text left unscored when that token only conditions the rest (perplexity without a BOS). 0 for a
     * text without tokens. A first token that ends inside a character counts that whole character.
     */
    long bytesThroughFirstToken(String text);

    /**
     * The text of {@code ids}. Special tokens and ids at or above {@link #vocabSize()} are skipped.
     *
     * @throws IllegalArgumentException if an id is negative
     */
    String decode(int[] ids);

    /** The number of ids this tokenizer knows (one more than its largest id). */
    int vocabSize();

    /** The end-of-sequence id, if there is one. */
    OptionalInt eosId();

    /**
     * The beginning-of-sequence id the tokenizer names, if there is one. Whether a text gets it is
     * {@link #encodeWithSpecialTokens}'s to say: a tokenizer may name a BOS that it never adds.
     */
    OptionalInt bosId();

    /** A short description for logs, e.g. {@code byte(vocab=258)}. */
    String name();

    /**
     * A text's ids with the special ids added before and after them.
     *
     * <p>The arrays are the record's own, not copied on the way in or out: a text's ids may be a whole corpus's
     * (perplexity, training), too many to hold twice. A tokenizer hands each call's record arrays of its own, shared
     * with nothing it keeps; a caller may change them, changing only that record. As for any record, {@code equals}
     * compares them by identity.
     *
     * @param prefix ids added before the text's (a BOS), possibly none; where the text has no ids of its own,
     *               every added id
     * @param text   the text's own ids
     * @param suffix ids added after the text's (an EOS), possibly none
     */
    record Encoded(int[] prefix, int[] text, int[] suffix) {
        /** Prefix, text and suffix in order: what the model is given. */
        public int[] all() {
            int[] out = new int[prefix.length + text.length + suffix.length];
            System.arraycopy(prefix, 0, out, 0, prefix.length);
            System.arraycopy(text, 0, out, prefix.length, text.length);
            System.arraycopy(suffix, 0, out, prefix.length + text.length, suffix.length);
            return out;
        }
    }

    /** Frees native resources, if any; the default does nothing. */
    @Override
    default void close() {}
}
