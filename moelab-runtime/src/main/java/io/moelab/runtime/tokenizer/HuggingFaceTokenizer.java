package io.moelab.runtime.tokenizer;

import io.moelab.runtime.JsonProblems;
import io.moelab.runtime.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Hugging Face {@code tokenizer.json}, run by DJL's binding of the Rust {@code tokenizers} library. The native
 * library comes from the DJL jar and is extracted once to {@code ~/.cache/moelab/djl} (or {@code DJL_CACHE_DIR} /
 * {@code ENGINE_CACHE_DIR} when set); nothing is downloaded. {@link #encode} adds no special tokens (the
 * post-processor's BOS/EOS are left out); {@link #decode} skips special tokens.
 *
 * <p>{@link #eosId()} and {@link #bosId()} come from {@code tokenizer_config.json} beside the file
 * ({@code eos_token}, {@code bos_token}) when it names an added token, otherwise from the {@code added_tokens} by
 * the usual names: EOS {@code </s>}, {@code <|endoftext|>}, {@code <|end_of_text|>}, {@code <|im_end|>}; BOS
 * {@code <s>}, {@code <|begin_of_text|>}.
 */
public final class HuggingFaceTokenizer implements Tokenizer {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<String> EOS_NAMES = List.of("</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>");
    private static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>");

    private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl;
    /** The file, to name in errors. */
    private final String file;
    private final String name;
    private final int vocabSize;
    private final OptionalInt eos;
    private final OptionalInt bos;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private HuggingFaceTokenizer(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl, String file, String name,
            int vocabSize, OptionalInt eos, OptionalInt bos) {
        this.djl = djl;
        this.file = file;
        this.name = name;
        this.vocabSize = vocabSize;
        this.eos = eos;
        this.bos = bos;
    }

    /**
     * Loads {@code tokenizerJson}.
     *
     * @throws ModelFormatException naming the file when it is missing, malformed or not a tokenizer the library
     *                              accepts, or when the native library cannot be loaded
     */
    public static HuggingFaceTokenizer open(Path tokenizerJson) {
        String where = tokenizerJson.toString();
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(tokenizerJson));
        } catch (IOException e) {
            throw new ModelFormatException(where, null, "cannot read: " + oneLine(e.toString()));
        } catch (JacksonException e) {
            throw new ModelFormatException(where, null, "not valid JSON: " + JsonProblems.describe(e));
        }
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new ModelFormatException(where, null, "not a tokenizer.json: expected an object with a \"model\"");
        }
        int vocab = vocabSize(root);
        if (vocab == 0) {
            throw new ModelFormatException(where, null, "empty vocabulary");
        }
        Map<String, Integer> added = addedTokens(root);
        JsonNode config = tokenizerConfig(tokenizerJson);
        OptionalInt eos = specialId(config, "eos_token", added, EOS_NAMES);
        OptionalInt bos = specialId(config, "bos_token", added, BOS_NAMES);

        String refusal = DjlNative.prepare();
        if (refusal != null) {
            throw new ModelFormatException(where, null, refusal);
        }
        ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl;
        try {
            djl = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        } catch (IOException e) {
            throw new ModelFormatException(where, null, "cannot read: " + oneLine(e.toString()));
        } catch (RuntimeException | LinkageError e) {
            throw new ModelFormatException(where, null, (nativeLoadFailure(e)
                    ? "cannot load the native tokenizers library: " : "the tokenizers library rejected it: ")
                    + causes(e));
        }
        Path file = tokenizerJson.getFileName();
        Path dir = tokenizerJson.toAbsolutePath().getParent();
        String label = (dir != null && dir.getFileName() != null ? dir.getFileName() + "/" : "") + file;
        String type = root.path("model").path("type").asString("");
        return new HuggingFaceTokenizer(djl, where, "hf(" + label + (type.isEmpty() ? "" : ", " + type) + ", vocab="
                + vocab + ")", vocab, eos, bos);
    }

    /** One more than the largest id in the model's vocabulary and the added tokens. */
    private static int vocabSize(JsonNode root) {
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) { // WordLevel, WordPiece, BPE: token -> id
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                if (e.getValue().canConvertToInt()) {
                    max = Math.max(max, e.getValue().asInt());
                }
            }
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], ids by position
            max = vocab.size() - 1;
        }
        for (int id : addedTokens(root).values()) {
            max = Math.max(max, id);
        }
        return max + 1;
    }

    private static Map<String, Integer> addedTokens(JsonNode root) {
        Map<String, Integer> out = new HashMap<>();
        for (JsonNode t : root.path("added_tokens").values()) {
            JsonNode id = t.path("id");
            JsonNode content = t.path("content");
            if (id.canConvertToInt() && content.isString()) {
                out.putIfAbsent(content.stringValue(), id.asInt());
            }
        }
        return out;
    }

    /** {@code tokenizer_config.json} beside the file, or null when absent or unreadable (it is optional). */
    private static JsonNode tokenizerConfig(Path tokenizerJson) {
        Path cfg = tokenizerJson.resolveSibling("tokenizer_config.json");
        if (!Files.isRegularFile(cfg)) {
            return null;
        }
        try {
            return JSON.readTree(Files.readString(cfg));
        } catch (IOException | JacksonException e) {
            return null;
        }
    }

    private static OptionalInt specialId(JsonNode config, String key, Map<String, Integer> added,
            List<String> names) {
        if (config != null) {
            JsonNode v = config.path(key);
            String content = v.isString() ? v.stringValue() : v.path("content").isString()
                    ? v.path("content").stringValue() : null;
            if (content != null && added.containsKey(content)) {
                return OptionalInt.of(added.get(content));
            }
        }
        for (String n : names) {
            Integer id = added.get(n);
            if (id != null) {
                return OptionalInt.of(id);
            }
        }
        return OptionalInt.empty();
    }

    /**
     * {@inheritDoc}
     *
     * @throws ModelFormatException naming the file when the library cannot encode the text with it (a WordLevel or
     *                              WordPiece {@code unk_token} missing from the vocabulary meets an unknown word:
     *                              the library accepts such a file and fails only then)
     */
    @Override
    public int[] encode(String text) {
        long[] ids;
        lock.readLock().lock();
        try {
            ai.djl.huggingface.tokenizers.HuggingFaceTokenizer live = live();
            try {
                ids = live.encode(text, false, false).getIds();
            } catch (RuntimeException e) {
                throw new ModelFormatException(file, null, "cannot encode a text: " + causes(e));
            }
        } finally {
            lock.readLock().unlock();
        }
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] keep = new long[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException("negative token id " + id);
            }
            if (id < vocabSize) {
                keep[n++] = id;
            }
        }
        lock.readLock().lock();
        try {
            return live().decode(n == keep.length ? keep : Arrays.copyOf(keep, n), true);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The DJL tokenizer; call with the read lock held. */
    private ai.djl.huggingface.tokenizers.HuggingFaceTokenizer live() {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
        return djl;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public OptionalInt eosId() {
        return eos;
    }

    @Override
    public OptionalInt bosId() {
        return bos;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }

    /** Frees the native tokenizer; later calls to {@link #encode} or {@link #decode} throw. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                djl.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Whether {@code e} is DJL failing to load {@code libtokenizers} rather than the library refusing the file. */
    private static boolean nativeLoadFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof LinkageError || t instanceof ai.djl.engine.EngineException) {
                return true;
            }
        }
        return false;
    }

    private static String causes(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null && sb.length() < 400; t = t.getCause()) {
            if (!sb.isEmpty()) {
                sb.append(" <- ");
            }
            sb.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
        }
        return oneLine(sb.toString());
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
