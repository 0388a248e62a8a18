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
     * The text of {@code ids}. Special tokens and ids at or above {@link #vocabSize()} are skipped.
     *
     * @throws IllegalArgumentException if an id is negative
     */
    String decode(int[] ids);

    /** The number of ids this tokenizer knows (one more than its largest id). */
    int vocabSize();

    /** The end-of-sequence id, if there is one. */
    OptionalInt eosId();

    /** The beginning-of-sequence id, if there is one. */
    OptionalInt bosId();

    /** A short description for logs, e.g. {@code byte(vocab=258)}. */
    String name();

    /** Frees native resources, if any; the default does nothing. */
    @Override
    default void close() {}
}
