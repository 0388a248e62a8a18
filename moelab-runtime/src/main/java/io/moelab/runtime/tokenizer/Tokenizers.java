package io.moelab.runtime.tokenizer;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;

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
     * @throws ModelFormatException when {@code tokenizer.json} cannot be used, or there is none and the vocabulary
     *                              is not a byte-level one
     */
    public static Tokenizer forModel(Path modelDir, int vocabSize) {
        Path json = modelDir.resolve("tokenizer.json");
        if (Files.exists(json)) {
            return HuggingFaceTokenizer.open(json);
        }
        if (vocabSize >= 256 && vocabSize <= MAX_BYTE_VOCAB) {
            return new ByteTokenizer(vocabSize);
        }
        throw new ModelFormatException(modelDir.toString(), null, "no tokenizer.json; give token ids directly");
    }
}
