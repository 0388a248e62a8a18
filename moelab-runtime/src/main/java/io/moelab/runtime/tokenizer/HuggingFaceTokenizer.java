package io.moelab.runtime.tokenizer;

import static io.moelab.runtime.tokenizer.TokenizerConfig.BOS_NAMES;
import static io.moelab.runtime.tokenizer.TokenizerConfig.CLASS_OF_MODEL_TYPE;
import static io.moelab.runtime.tokenizer.TokenizerConfig.EOS_NAMES;
import static io.moelab.runtime.tokenizer.TokenizerConfig.addDecoderTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.addSpecialTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.addedTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.decoderTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.flag;
import static io.moelab.runtime.tokenizer.TokenizerConfig.ids;
import static io.moelab.runtime.tokenizer.TokenizerConfig.initTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.keepOrdinaryPatterns;
import static io.moelab.runtime.tokenizer.TokenizerConfig.libraryIds;
import static io.moelab.runtime.tokenizer.TokenizerConfig.prefixSpace;
import static io.moelab.runtime.tokenizer.TokenizerConfig.reAddSpecialTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.specialId;
import static io.moelab.runtime.tokenizer.TokenizerConfig.specialTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.templateTokens;
import static io.moelab.runtime.tokenizer.TokenizerConfig.tokenizerConfig;

import io.moelab.runtime.JsonProblems;
import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.TextFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Hugging Face {@code tokenizer.json}, run by DJL's binding of the Rust {@code tokenizers} library. The native
 * library comes from the DJL jar and is extracted once to {@code ~/.cache/moelab/djl} (or {@code DJL_CACHE_DIR} /
 * {@code ENGINE_CACHE_DIR} when set); nothing is downloaded. {@link #encode} adds no special tokens (the
 * post-processor's BOS/EOS are left out); {@link #decode} skips special tokens.
 *
 * <p>{@link #encodeWithSpecialTokens} adds what transformers' {@code tokenizer(text)} adds
 * ({@code add_special_tokens=True}). transformers' Llama and GPT-NeoX fast tokenizer classes
 * ({@code LlamaTokenizerFast.__init__} and {@code GPTNeoXTokenizerFast.__init__} call
 * {@code update_post_processor}) replace the file's post-processor by a template built from
 * {@code tokenizer_config.json}: {@code bos_token} first when {@code add_bos_token} (class default true for Llama,
 * false for GPT-NeoX), {@code eos_token} last when {@code add_eos_token} (default false). transformers v5's
 * {@code TokenizersBackend} builds the same template for any class whose config names either key. Otherwise the
 * file's own {@code post_processor} adds them ({@code TemplateProcessing}: its {@code single} template;
 * {@code ByteLevel}: nothing), applied by the tokenizers library itself. The class is the config's
 * {@code tokenizer_class}, or where it has none the one transformers' {@code AutoTokenizer} takes for the model's
 * {@code model_type}.
 *
 * <p>{@link #eosId()} and {@link #bosId()} come from {@code tokenizer_config.json} beside the file
 * ({@code eos_token}, {@code bos_token}), or where it lacks the key from the class's default, when that names an
 * added token, otherwise from the {@code added_tokens} by
 * the usual names: EOS {@code </s>}, {@code <|endoftext|>}, {@code <|end_of_text|>}, {@code <|im_end|>}; BOS
 * {@code <s>}, {@code <|begin_of_text|>}.
 *
 * <p>The added tokens' ids, and so the EOS, the BOS, the template's ids and {@link #vocabSize()}, are those the
 * tokenizers library gives them, which {@link #encode} returns, not the ids {@code added_tokens} lists: the library
 * adds the tokens in file order (the model vocabulary's id for a token it holds, else the next free one) and only
 * logs a warning where the file says otherwise. They are asked of the loaded library. {@code tokenizer_config.json}'s
 * {@code added_tokens_decoder} entries are added after the file's as transformers v4 adds them, their ids again the
 * library's, not their keys.
 */
public final class HuggingFaceTokenizer implements Tokenizer {
    /**
     * Lenient about a repeated key, unlike config.json's reader: tokenizer.json and tokenizer_config.json are Hugging
     * Face's formats, which its own readers (the native tokenizers library that tokenizes here too, transformers'
     * Python json) load taking the last value; refusing would reject files that the reference loads.
     */
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl;
    /** The file, to name in errors. */
    private final String file;
    private final String name;
    private final int vocabSize;
    private final OptionalInt eos;
    private final OptionalInt bos;
    /** The ids put before and after a text as tokenizer_config.json says, or null to let the file's post-processor. */
    private final int[] templatePrefix;
    private final int[] templateSuffix;
    /** tokenizer_config.json's {@code clean_up_tokenization_spaces}: whether decode cleans up as transformers does. */
    private final boolean cleanUp;
    /**
     * Special tokens that the library is given as ordinary ones, to keep two patterns for their content as
     * transformers v4 does ({@code TokenizerConfig.keepOrdinaryPatterns}): decode skips them itself.
     */
    private final BitSet skipInDecode;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private HuggingFaceTokenizer(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl, String file, String name,
            int vocabSize, OptionalInt eos, OptionalInt bos, int[][] template, boolean cleanUp, BitSet skipInDecode) {
        this.djl = djl;
        this.file = file;
        this.name = name;
        this.vocabSize = vocabSize;
        this.eos = eos;
        this.bos = bos;
        this.templatePrefix = template == null ? null : template[0];
        this.templateSuffix = template == null ? null : template[1];
        this.cleanUp = cleanUp;
        this.skipInDecode = skipInDecode;
    }

    /**
     * Loads {@code tokenizerJson}, for a model of unknown {@code model_type}.
     *
     * @see #open(Path, String)
     */
    public static HuggingFaceTokenizer open(Path tokenizerJson) {
        return open(tokenizerJson, null);
    }

    /**
     * Loads {@code tokenizerJson} and the {@code tokenizer_config.json} beside it, if any.
     *
     * @param modelType the model's {@code model_type}, which picks transformers' tokenizer class when
     *                  {@code tokenizer_config.json} names none; null when unknown
     * @throws ModelFormatException naming the file when it is missing, malformed or not a tokenizer the library
     *                              accepts, or when the native library cannot be loaded; naming
     *                              {@code tokenizer_config.json} when it is malformed, holds an
     *                              {@code add_bos_token} or {@code add_eos_token} that is not a boolean, asks
     *                              for a BOS or EOS that the tokenizer does not have, holds a malformed
     *                              {@code added_tokens_decoder} or special-token object (a flag that is not a
     *                              boolean), or sets {@code from_slow} to a true value
     */
    public static HuggingFaceTokenizer open(Path tokenizerJson, String modelType) {
        String where = tokenizerJson.toString();
        JsonNode root;
        try {
            root = JSON.readTree(TextFiles.readUtf8(tokenizerJson));
        } catch (JacksonException e) {
            throw new ModelFormatException(where, null, "not valid JSON: " + JsonProblems.describe(e));
        }
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new ModelFormatException(where, null, "not a tokenizer.json: expected an object with a \"model\"");
        }
        Map<String, Integer> added = addedTokens(root);
        JsonNode config = tokenizerConfig(tokenizerJson);
        String configFile = tokenizerJson.resolveSibling("tokenizer_config.json").toString();
        // PreTrainedTokenizerFast.__init__ (v4) reads tokenizer.json only when from_slow is false; true builds the
        // slow tokenizer from its own files and converts it (or raises for a class without one).
        if (TokenizerConfig.fromSlow(config)) {
            throw new ModelFormatException(configFile, null, "from_slow: transformers builds the tokenizer from the "
                    + "slow tokenizer's files (tokenizer.model, SentencePiece, for a Llama class) rather than "
                    + "tokenizer.json, and moelab reads only tokenizer.json; without the key (or with a false value: "
                    + "false, null, 0, an empty string, list or object) tokenizer.json is used");
        }
        JsonNode cls = config == null ? null : config.get("tokenizer_class");
        String className = cls != null && cls.isString() ? cls.stringValue()
                : modelType == null ? null : CLASS_OF_MODEL_TYPE.get(modelType);
        JsonNode fileTokens = root.path("added_tokens").deepCopy();
        List<JsonNode> decoderTokens = initTokens(root, config, decoderTokens(config, configFile));
        Map<String, JsonNode> special = specialTokens(config, className, configFile);
        boolean extended = addDecoderTokens((ObjectNode) root, added, decoderTokens, special);
        extended |= addSpecialTokens((ObjectNode) root, added, special);
        extended |= reAddSpecialTokens((ObjectNode) root, added, config, className, special, decoderTokens);
        Set<String> skippedHere = keepOrdinaryPatterns((ObjectNode) root, fileTokens);
        extended |= !skippedHere.isEmpty();
        if (TokenizerConfig.vocabSize(root, added) == 0) {
            throw new ModelFormatException(where, null, "empty vocabulary");
        }
        String[][] templateTokens = templateTokens(root, added, config, special, configFile, className);
        boolean respaced = prefixSpace(root, config, configFile, className);
        // DJL reads the file itself unless one of the two changed it: then the changed JSON, written once.
        String rewritten = extended || respaced ? JSON.writeValueAsString(root) : null;
        // transformers' default has been false since v4.45 (it was true before).
        boolean cleanUp = Boolean.TRUE.equals(flag(config, "clean_up_tokenization_spaces", configFile));

        String refusal = DjlNative.prepare();
        if (refusal != null) {
            throw new ModelFormatException(where, null, refusal);
        }
        ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl;
        try {
            Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false",
                    "padding", "false");
            djl = rewritten == null
                    ? ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(tokenizerJson, options)
                    : ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(
                            new ByteArrayInputStream(rewritten.getBytes(StandardCharsets.UTF_8)), options);
        } catch (IOException e) {
            throw new ModelFormatException(where, null, "cannot read: " + oneLine(e.toString()));
        } catch (RuntimeException | LinkageError e) {
            throw new ModelFormatException(where, null, (nativeLoadFailure(e)
                    ? "cannot load the native tokenizers library: " : "the tokenizers library rejected it: ")
                    + causes(e));
        }
        // The ids as the loaded library has them: the rest is worked out from these.
        added = libraryIds(djl, added);
        int vocab = TokenizerConfig.vocabSize(root, added);
        BitSet skipInDecode = new BitSet();
        for (String content : skippedHere) {
            Integer id = added.get(content); // every content of the list is there
            if (id != null) {
                skipInDecode.set(id);
            }
        }
        OptionalInt eos = specialId(special, "eos_token", added, EOS_NAMES);
        OptionalInt bos = specialId(special, "bos_token", added, BOS_NAMES);
        int[][] template = templateTokens == null ? null
                : new int[][] {ids(root, added, templateTokens[0]), ids(root, added, templateTokens[1])};
        Path file = tokenizerJson.getFileName();
        Path dir = tokenizerJson.toAbsolutePath().getParent();
        String label = (dir != null && dir.getFileName() != null ? dir.getFileName() + "/" : "") + file;
        String type = root.path("model").path("type").asString("");
        return new HuggingFaceTokenizer(djl, where, "hf(" + label + (type.isEmpty() ? "" : ", " + type) + ", vocab="
                + vocab + ")", vocab, eos, bos, template, cleanUp, skipInDecode);
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
        return ints(djlEncode(text, false).getIds(), 0, -1);
    }

    /**
     * {@inheritDoc} With the file's post-processor, the ids it adds are those the library marks as belonging to no
     * sequence (a text's own ids, a literal {@code <s>} in it included, belong to sequence 0).
     *
     * @throws ModelFormatException as {@link #encode}
     */
    @Override
    public Encoded encodeWithSpecialTokens(String text) {
        if (templatePrefix != null) {
            return new Encoded(templatePrefix.clone(), encode(text), templateSuffix.clone());
        }
        ai.djl.huggingface.tokenizers.Encoding e = djlEncode(text, true);
        long[] ids = e.getIds();
        long[] seq = e.getSequenceIds();
        int start = 0;
        while (start < ids.length && seq[start] < 0) {
            start++;
        }
        int end = ids.length;
        while (end > start && seq[end - 1] < 0) {
            end--;
        }
        return new Encoded(ints(ids, 0, start), ints(ids, start, end), ints(ids, end, ids.length));
    }

    /**
     * {@inheritDoc} From the library's span of the first token, whose offsets count Unicode code points.
     *
     * @throws ModelFormatException as {@link #encode}
     */
    @Override
    public long bytesThroughFirstToken(String text) {
        ai.djl.huggingface.tokenizers.jni.CharSpan[] spans = djlEncode(text, false).getCharTokenSpans();
        if (spans.length == 0 || spans[0] == null) {
            return 0;
        }
        int codePoints = text.codePointCount(0, text.length());
        int end = Math.clamp(spans[0].getEnd(), 0, codePoints);
        return text.substring(0, text.offsetByCodePoints(0, end)).getBytes(StandardCharsets.UTF_8).length;
    }

    private ai.djl.huggingface.tokenizers.Encoding djlEncode(String text, boolean addSpecialTokens) {
        lock.readLock().lock();
        try {
            ai.djl.huggingface.tokenizers.HuggingFaceTokenizer live = live();
            try {
                return live.encode(text, addSpecialTokens, false);
            } catch (RuntimeException e) {
                throw new ModelFormatException(file, null, "cannot encode a text: " + causes(e));
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** {@code ids[from, to)} as ints ({@code to} -1: to the end). */
    private static int[] ints(long[] ids, int from, int to) {
        int end = to < 0 ? ids.length : to;
        int[] out = new int[end - from];
        for (int i = from; i < end; i++) {
            out[i - from] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * {@inheritDoc} As transformers' {@code decode(ids, skip_special_tokens=True)}: the tokenizers library's text,
     * cleaned up as {@link #cleanUpTokenization} says when {@code tokenizer_config.json}'s
     * {@code clean_up_tokenization_spaces} is true.
     */
    @Override
    public String decode(int[] ids) {
        long[] keep = new long[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException("negative token id " + id);
            }
            if (id < vocabSize && !skipInDecode.get(id)) {
                keep[n++] = id;
            }
        }
        String text;
        lock.readLock().lock();
        try {
            text = live().decode(n == keep.length ? keep : Arrays.copyOf(keep, n), true);
        } finally {
            lock.readLock().unlock();
        }
        return cleanUp ? cleanUpTokenization(text) : text;
    }

    /**
     * transformers' {@code clean_up_tokenization}, in its order: the space before {@code . ? ! ,} and before the
     * English contractions {@code n't 'm 's 've 're} is dropped, and {@code " ' "} becomes {@code "'"}. (DJL's own
     * version differs in the apostrophe, and moelab does not let DJL read tokenizer_config.json.) transformers v5
     * skips it for a BPE model; v4 applies it to any model, as here.
     */
    static String cleanUpTokenization(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve")
                .replace(" 're", "'re");
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
