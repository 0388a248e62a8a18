package io.moelab.runtime.tokenizer;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/** Picks the tokenizer of a model directory. */
public final class Tokenizers {
    /** The largest vocabulary taken to mean one of moelab's own byte-level models. */
    public static final int MAX_BYTE_VOCAB = 512;

    private Tokenizers() {}

    /**
     * The tokenizer of the model in {@code modelDir}: its {@code tokenizer.json} when there is one; otherwise, for a
     * vocabulary of 256 to {@value #MAX_BYTE_VOCAB} ids (moelab's own models), a {@link ByteTokenizer}.
     *
     * @param modelDir  the model directory
     * @param vocabSize {@code vocab_size} from the model's {@code config.json}
     * A {@code tokenizer.json} whose ids reach beyond the model's vocabulary is refused where it would hand such an
     * id to the model: its BOS or EOS id at once, a text's ids when the text is encoded.
     *
     * @throws ModelFormatException when {@code tokenizer.json} cannot be used (or, from {@code encode}, gives an id
     *                              outside the model's vocabulary), or there is none and the vocabulary is not a
     *                              byte-level one
     */
    public static Tokenizer forModel(Path modelDir, int vocabSize) {
        return forModel(modelDir, vocabSize, null);
    }

    /**
     * As {@link #forModel(Path, int)}, for a model whose {@code config.json} has {@code model_type}
     * {@code modelType}: where {@code tokenizer_config.json} names no {@code tokenizer_class}, that picks the class
     * transformers would load, which decides the special tokens a text gets
     * ({@link HuggingFaceTokenizer#open(Path, String)}).
     */
    public static Tokenizer forModel(Path modelDir, int vocabSize, String modelType) {
        Path json = modelDir.resolve("tokenizer.json");
        if (Files.exists(json)) {
            return new WithinVocabulary(HuggingFaceTokenizer.open(json, modelType), json, vocabSize);
        }
        if (vocabSize >= 256 && vocabSize <= MAX_BYTE_VOCAB) {
            return new ByteTokenizer(vocabSize);
        }
        throw new ModelFormatException(modelDir.toString(), null, "no tokenizer.json to read text with ('moelab "
                + "logits --token-ids' runs without one)");
    }

    /** A tokenizer whose ids are checked against the model's vocabulary. */
    private static final class WithinVocabulary implements Tokenizer {
        private final Tokenizer inner;
        private final Path file;
        private final int vocabSize;

        WithinVocabulary(Tokenizer inner, Path file, int vocabSize) {
            this.inner = inner;
            this.file = file;
            this.vocabSize = vocabSize;
            try {
                check(inner.bosId(), "its BOS id");
                check(inner.eosId(), "its EOS id");
            } catch (RuntimeException e) {
                inner.close();
                throw e;
            }
        }

        private void check(OptionalInt id, String what) {
            if (id.isPresent()) {
                check(id.getAsInt(), what);
            }
        }

        private void check(int id, String what) {
            if (id < 0 || id >= vocabSize) {
                throw new ModelFormatException(file.toString(), null, what + " " + id + " is outside the model's "
                        + "vocabulary [0, " + vocabSize + ") (config.json vocab_size)");
            }
        }

        @Override
        public int[] encode(String text) {
            int[] ids = inner.encode(text);
            for (int id : ids) {
                check(id, "a text's token id");
            }
            return ids;
        }

        @Override
        public Encoded encodeWithSpecialTokens(String text) {
            Encoded e = inner.encodeWithSpecialTokens(text);
            for (int id : e.text()) {
                check(id, "a text's token id");
            }
            for (int[] added : new int[][] {e.prefix(), e.suffix()}) {
                for (int id : added) {
                    check(id, "the special token id it adds to a text");
                }
            }
            return e;
        }

        @Override
        public long bytesThroughFirstToken(String text) {
            return inner.bytesThroughFirstToken(text);
        }

        @Override
        public String decode(int[] ids) {
            return inner.decode(ids);
        }

        @Override
        public int vocabSize() {
            return inner.vocabSize();
        }

        @Override
        public OptionalInt eosId() {
            return inner.eosId();
        }

        @Override
        public OptionalInt bosId() {
            return inner.bosId();
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
