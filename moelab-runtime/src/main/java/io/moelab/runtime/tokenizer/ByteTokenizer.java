package io.moelab.runtime.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;

/**
 * The byte-level tokenizer of moelab's own small models: ids 0..255 are the bytes of the UTF-8 encoding of the
 * text. Ids from 256 up are special: when the vocabulary has at least 258 ids, id {@value #BOS} is BOS and id
 * {@value #EOS} is EOS; any others are unnamed. {@link #encode} adds no special ids; {@link #decode} skips them
 * and replaces malformed UTF-8 with U+FFFD. An unpaired surrogate in the input encodes as U+FFFD.
 */
public final class ByteTokenizer implements Tokenizer {
    /** The BOS id when the vocabulary has at least 258 ids. */
    public static final int BOS = 256;
    /** The EOS id when the vocabulary has at least 258 ids. */
    public static final int EOS = 257;

    private static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    private final int vocabSize;

    /**
     * A tokenizer for a model whose vocabulary holds at least the 256 byte values.
     *
     * @param vocabSize the model's vocabulary size, at least 256
     * @throws IllegalArgumentException if {@code vocabSize < 256}
     */
    public ByteTokenizer(int vocabSize) {
        if (vocabSize < 256) {
            throw new IllegalArgumentException("a byte tokenizer needs a vocabulary of at least 256, not " + vocabSize);
        }
        this.vocabSize = vocabSize;
    }

    @Override
    public int[] encode(String text) {
        byte[] bytes = utf8(text);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }

    /** The text's bytes after BOS when the vocabulary has one (as moelab's models are trained); no EOS. */
    @Override
    public Encoded encodeWithSpecialTokens(String text) {
        return new Encoded(vocabSize > EOS ? new int[] {BOS} : new int[0], encode(text), new int[0]);
    }

    /** {@inheritDoc} Here the first byte: 1, or 0 for an empty text. */
    @Override
    public long bytesThroughFirstToken(String text) {
        return text.isEmpty() ? 0 : 1;
    }

    private static byte[] utf8(String text) {
        CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .replaceWith(REPLACEMENT);
        try {
            ByteBuffer buf = enc.encode(CharBuffer.wrap(text));
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("UTF-8 encoding with replacement cannot fail", e);
        }
    }

    @Override
    public String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException("negative token id " + id);
            }
            if (id < 256) {
                bytes[n++] = (byte) id;
            }
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public OptionalInt eosId() {
        return vocabSize > EOS ? OptionalInt.of(EOS) : OptionalInt.empty();
    }

    @Override
    public OptionalInt bosId() {
        return vocabSize > EOS ? OptionalInt.of(BOS) : OptionalInt.empty();
    }

    @Override
    public String name() {
        return "byte(vocab=" + vocabSize + ")";
    }

    @Override
    public String toString() {
        return name();
    }
}
