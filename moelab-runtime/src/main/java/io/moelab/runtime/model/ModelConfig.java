package io.moelab.runtime.model;

import io.moelab.runtime.JsonProblems;
import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.TextFiles;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The parts of a Hugging Face {@code config.json} the runtime uses, normalized over the families' key names.
 *
 * @param family              the model family ({@code model_type})
 * @param vocabSize           vocabulary size
 * @param hidden              hidden size
 * @param layers              decoder layers
 * @param heads               attention heads
 * @param kvHeads             key/value heads (grouped-query attention)
 * @param headDim             dimension of one head
 * @param intermediate        dense MLP size (also Mixtral's and OLMoE's expert size)
 * @param expertIntermediate  expert FFN size
 * @param experts             routed experts per MoE layer
 * @param topK                experts per token
 * @param normTopKProb        renormalize the top-k routing weights to sum to one
 * @param sharedIntermediate  shared expert size (Qwen2-MoE), 0 for none
 * @param sparseStep          every {@code sparseStep}-th layer is MoE (Qwen2/3-MoE {@code decoder_sparse_step})
 * @param mlpOnlyLayers       layers that are dense although the step would make them MoE
 * @param qkvBias             q/k/v projections have biases (Qwen2-MoE's {@code qkv_bias}, Qwen3-MoE's and OLMoE's
 *                            {@code attention_bias}; never Mixtral's)
 * @param oBias               the output projection has a bias (Qwen3-MoE's and OLMoE's {@code attention_bias})
 * @param ropeTheta           RoPE base
 * @param rmsNormEps          RMSNorm epsilon
 * @param tieWordEmbeddings   the output projection is the embedding matrix (a stored {@code lm_head.weight} is then
 *                            ignored, as transformers ignores it)
 * @param window              the most positions attention here computes as transformers does: a
 *                            {@code sliding_window} accepted because it is at least {@code max_position_embeddings},
 *                            past which transformers would hide the oldest keys; {@link Integer#MAX_VALUE} without
 *                            one
 * @param maxPositionEmbeddings {@code max_position_embeddings}, the positions the model was made for (the family's
 *                            transformers default where {@code config.json} has none): RoPE runs past it, but
 *                            with angles the model never saw in training; {@link Integer#MAX_VALUE} where unknown
 */
public record ModelConfig(Family family, int vocabSize, int hidden, int layers, int heads, int kvHeads, int headDim,
                          int intermediate, int expertIntermediate, int experts, int topK, boolean normTopKProb,
                          int sharedIntermediate, int sparseStep, Set<Integer> mlpOnlyLayers, boolean qkvBias,
                          boolean oBias, double ropeTheta, double rmsNormEps, boolean tieWordEmbeddings,
                          int window, int maxPositionEmbeddings) {
    /** Duplicate keys fail: Python's json, which transformers reads with, silently keeps the last of them. */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /**
     * Copies the set and holds the values to what {@link #of} requires of {@code config.json} (which names the key
     * first): otherwise the fault surfaced later and elsewhere, as a division by zero in a KV cache or
     * {@link #isMoe}.
     *
     * @throws IllegalArgumentException if a size is not positive ({@code experts} and {@code sharedIntermediate}:
     *                                  negative), {@code heads} is not a multiple of {@code kvHeads}, {@code headDim}
     *                                  is odd, {@code heads x headDim} exceeds an int, {@code topK} exceeds a
     *                                  positive {@code experts}, or {@code ropeTheta} or {@code rmsNormEps} is not a
     *                                  finite positive number, or {@code window} is not positive
     * @throws NullPointerException     if {@code family} or {@code mlpOnlyLayers} is null
     */
    public ModelConfig {
        Objects.requireNonNull(family, "family");
        mlpOnlyLayers = Set.copyOf(mlpOnlyLayers);
        requirePositive("vocabSize", vocabSize);
        requirePositive("hidden", hidden);
        requirePositive("layers", layers);
        requirePositive("heads", heads);
        requirePositive("kvHeads", kvHeads);
        requirePositive("headDim", headDim);
        requirePositive("intermediate", intermediate);
        requirePositive("expertIntermediate", expertIntermediate);
        requireNonNegative("experts", experts);
        requirePositive("topK", topK);
        requireNonNegative("sharedIntermediate", sharedIntermediate);
        requirePositive("sparseStep", sparseStep);
        requirePositive("window", window);
        requirePositive("maxPositionEmbeddings", maxPositionEmbeddings);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " is not a multiple of kvHeads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim " + headDim + " must be even for RoPE");
        }
        if ((long) heads * headDim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("heads x headDim = " + heads + " x " + headDim
                    + " is more rows than a projection can have");
        }
        if (experts > 0 && topK > experts) {
            throw new IllegalArgumentException("topK " + topK + " exceeds the " + experts + " experts");
        }
        requireFinitePositive("ropeTheta", ropeTheta);
        requireFinitePositive("rmsNormEps", rmsNormEps);
    }

    /**
     * A configuration without a sliding window and with no known position limit ({@code window} and
     * {@code maxPositionEmbeddings} {@link Integer#MAX_VALUE}).
     *
     * @throws IllegalArgumentException as the canonical constructor
     * @throws NullPointerException     as the canonical constructor
     */
    public ModelConfig(Family family, int vocabSize, int hidden, int layers, int heads, int kvHeads, int headDim,
                       int intermediate, int expertIntermediate, int experts, int topK, boolean normTopKProb,
                       int sharedIntermediate, int sparseStep, Set<Integer> mlpOnlyLayers, boolean qkvBias,
                       boolean oBias, double ropeTheta, double rmsNormEps, boolean tieWordEmbeddings) {
        this(family, vocabSize, hidden, layers, heads, kvHeads, headDim, intermediate, expertIntermediate, experts,
                topK, normTopKProb, sharedIntermediate, sparseStep, mlpOnlyLayers, qkvBias, oBias, ropeTheta,
                rmsNormEps, tieWordEmbeddings, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    private static void requireNonNegative(String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative, got " + value);
        }
    }

    private static void requireFinitePositive(String name, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite positive number, got " + value);
        }
    }

    /** Whether layer {@code l} has a MoE block (otherwise a dense MLP). */
    public boolean isMoe(int l) {
        return experts > 0 && !mlpOnlyLayers.contains(l) && (l + 1) % sparseStep == 0;
    }

    /**
     * Reads a model directory's {@code config.json}.
     *
     * @throws ModelFormatException naming the directory when it does not exist, is not a directory or has no
     *                              {@code config.json}, else as {@link #read}
     */
    public static ModelConfig ofModel(Path dir) {
        Path file = dir.resolve("config.json");
        // A missing --model or a file in its place read "no config.json", as if only that file were missing.
        if (!Files.exists(dir)) {
            throw new ModelFormatException(dir.toString(), null, "no such directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir.toString(), null, "not a directory");
        }
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(dir.toString(), null, "no config.json");
        }
        return read(file);
    }

    /**
     * Reads {@code config.json}.
     *
     * @throws ModelFormatException naming the file and key when it is missing, malformed or unsupported
     */
    public static ModelConfig read(Path file) {
        return of(readObject(file), file.toString());
    }

    /**
     * A configuration from {@code config.json}'s parsed contents, as {@link #read} reads them.
     *
     * @param where what to name in errors (a file)
     * @throws ModelFormatException naming {@code where} and the key when one is missing, malformed or unsupported
     */
    public static ModelConfig of(JsonNode n, String where) {
        String type = text(n, "model_type", where);
        Family family = Family.of(type).orElseThrow(() -> new ModelFormatException(where, null,
                "unsupported model_type '" + type + "' (supported: mixtral, qwen2_moe, qwen3_moe, olmoe)"));
        JsonNode scaling = n.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            // transformers reads the type from rope_type, or from the older key type; "default" is the unscaled RoPE.
            JsonNode kind = scaling.isObject() ? scaling.has("rope_type") ? scaling.get("rope_type")
                    : scaling.get("type") : null;
            if (kind == null || !"default".equals(kind.asString(""))) {
                throw new ModelFormatException(where, null, "rope_scaling " + (kind != null ? kind : scaling)
                        + " is not supported (only the default RoPE)");
            }
            wholeHeadRotary(scaling, "rope_scaling.", where);
        }
        wholeHeadRotary(n, "", where);
        activation(n, where);
        int window = slidingWindow(n, family, where);
        JsonNode clip = n.get("clip_qkv");
        if (clip != null && !clip.isNull()) {
            // OLMoE's option to clamp q, k and v: null in the released models; computing without it would differ.
            throw new ModelFormatException(where, null, "clip_qkv is not supported (got " + clip + ")");
        }
        int hidden = positive(n, "hidden_size", where);
        int heads = positive(n, "num_attention_heads", where);
        // Absent, the family's transformers default (Mixtral 8, Qwen2-MoE 16, Qwen3-MoE 4, OLMoE the query heads):
        // taking the query heads for all of them read such a config with other attention than transformers. Null
        // means the query heads, as MixtralConfig and OlmoeConfig (and transformers 4's Qwen configs) read it.
        boolean absent = !n.has("num_key_value_heads");
        int kvHeads = absent ? family.defaultKeyValueHeads(heads)
                : optionalPositive(n, "num_key_value_heads", heads, where);
        if (heads % kvHeads != 0) {
            // Grouped-query attention: each key/value head serves the same number of query heads.
            throw new ModelFormatException(where, null, "num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads
                    + (absent ? " (transformers' default for " + family.modelType() + " where config.json has none)"
                    : ""));
        }
        int headDim = optionalPositive(n, "head_dim", hidden / heads, where);
        if (headDim == 0) {
            // Hugging Face's default, hidden_size // num_attention_heads, is 0 when there are more heads.
            throw new ModelFormatException(where, null, "hidden_size " + hidden + " is smaller than "
                    + "num_attention_heads " + heads + " (head_dim would be 0)");
        }
        if (headDim % 2 != 0) {
            throw new ModelFormatException(where, null, "head_dim " + headDim + " must be even for RoPE");
        }
        if ((long) heads * headDim > Integer.MAX_VALUE) {
            // The query projection's rows: an int everywhere after this.
            throw new ModelFormatException(where, null, "num_attention_heads x head_dim = " + heads + " x " + headDim
                    + " is more rows than a projection can have");
        }
        int intermediate = positive(n, "intermediate_size", where);
        // Absent, the family's transformers default (an absent num_experts read as 0 made every layer of a Qwen config
        // dense, and an OLMoE one looked for dense weights). An explicit 0 is a dense model only where transformers
        // reads it so: the Qwen layers are sparse when num_experts > 0; Mixtral's and OLMoE's always are.
        String expertsKey = expertsKey(n, family, where);
        int experts = family.choosesSparseLayers()
                ? optionalInt(n, expertsKey, family.defaultExperts(), where)
                : optionalPositive(n, expertsKey, family.defaultExperts(), where);
        int topK = optionalPositive(n, "num_experts_per_tok", family.defaultTopK(), where);
        if (experts > 0 && topK > experts) {
            throw new ModelFormatException(where, null, "num_experts_per_tok " + topK + " exceeds the " + experts
                    + " experts");
        }
        int expertIntermediate = switch (family) {
            case MIXTRAL, OLMOE -> intermediate;
            case QWEN2_MOE, QWEN3_MOE -> optionalPositive(n, "moe_intermediate_size", family.defaultMoeIntermediate(),
                    where);
        };
        // Where config.json omits it, transformers' default for each family: false for all three (Qwen3-MoE's
        // released configs set true explicitly).
        boolean normTopK = family == Family.MIXTRAL || optionalBool(n, "norm_topk_prob", false, where);
        // transformers' default, 5632: without it a checkpoint's shared expert was skipped without a word.
        int shared = family == Family.QWEN2_MOE ? optionalInt(n, "shared_expert_intermediate_size", 5632, where) : 0;
        int step = family.choosesSparseLayers() ? optionalInt(n, "decoder_sparse_step", 1, where) : 1;
        if (step < 1) {
            throw new ModelFormatException(where, null, "decoder_sparse_step must be at least 1, got " + step);
        }
        Set<Integer> mlpOnly = new HashSet<>();
        // Only the Qwen layers read it: transformers' Mixtral and OLMoE layers are sparse whatever the key says.
        JsonNode only = family.choosesSparseLayers() ? n.get("mlp_only_layers") : null;
        if (only != null && !only.isNull()) {
            if (!only.isArray()) {
                throw new ModelFormatException(where, null, "mlp_only_layers must be a list of layer indices");
            }
            for (JsonNode v : only) {
                // asInt() would turn 1.5 into layer 1 and fail on "a" with a parser exception instead of this error.
                if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                    throw new ModelFormatException(where, null, "mlp_only_layers must be a list of layer indices, "
                            + "got " + only);
                }
                mlpOnly.add(v.asInt());
            }
        }
        // Which projections have biases, as transformers' attention modules decide: Mixtral's none; Qwen2-MoE's q, k
        // and v by qkv_bias (default true), never o; Qwen3-MoE's and OLMoE's q, k, v and o by attention_bias (default
        // false). A bias tensor the module lacks is ignored, as transformers ignores unused weights; one that the
        // checkpoint held was used here whatever the config said.
        boolean qkvBias = switch (family) {
            case MIXTRAL -> false;
            case QWEN2_MOE -> optionalBool(n, "qkv_bias", true, where);
            case QWEN3_MOE, OLMOE -> optionalBool(n, "attention_bias", false, where);
        };
        boolean oBias = (family == Family.QWEN3_MOE || family == Family.OLMOE) && qkvBias;
        double theta = ropeTheta(n, family, where);
        if (scaling != null && !scaling.isNull()) {
            scaledBase(n, scaling, family, theta, where);
        }
        return new ModelConfig(family, positive(n, "vocab_size", where), hidden,
                positive(n, "num_hidden_layers", where), heads, kvHeads, headDim, intermediate, expertIntermediate,
                experts, topK, normTopK, shared, step, mlpOnly, qkvBias, oBias, theta,
                // As transformers reads an omitted key: the family's default (1e-6 for all gave Mixtral and OLMoE
                // configs without the key other logits).
                optionalDouble(n, "rms_norm_eps", family.defaultRmsNormEps(), where),
                optionalBool(n, "tie_word_embeddings", false, where), window,
                maxPositionEmbeddings(n, family, where));
    }

    /**
     * A JSON file of the model directory that must hold an object ({@code config.json},
     * {@code generation_config.json}), read as strictly as {@code config.json}.
     *
     * @throws ModelFormatException naming the file when it cannot be read, is not JSON, repeats a key or is not an
     *                              object
     */
    static JsonNode readObject(Path file) {
        String where = file.toString();
        JsonNode n;
        try {
            n = JSON.readTree(TextFiles.readUtf8(file));
        } catch (JacksonException e) {
            // A repeated key is named as such, not as invalid JSON.
            String duplicate = JsonProblems.duplicate(e);
            throw new ModelFormatException(where, null, duplicate != null ? duplicate
                    : "not valid JSON: " + JsonProblems.describe(e));
        }
        if (n == null || !n.isObject()) {
            throw new ModelFormatException(where, null, "expected a JSON object");
        }
        return n;
    }

    private static String text(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            throw new ModelFormatException(where, null, "missing " + key);
        }
        if (!v.isString()) {
            // Present but of another type: "missing" sent the reader looking for a key that is there.
            throw new ModelFormatException(where, null, key + " must be a string, got " + v);
        }
        return v.asString();
    }

    private static int positive(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            throw new ModelFormatException(where, null, "missing " + key);
        }
        int i = integer(v, key, where);
        if (i < 1) {
            throw new ModelFormatException(where, null, key + " must be positive, got " + i);
        }
        return i;
    }

    private static int optionalInt(JsonNode n, String key, int fallback, String where) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? fallback : integer(v, key, where);
    }

    /**
     * {@code max_position_embeddings}, the family's default where absent or null; one past the int range reads as
     * {@link Integer#MAX_VALUE} (it only bounds positions, which are ints, and transformers takes any integer).
     */
    private static int maxPositionEmbeddings(JsonNode n, Family family, String where) {
        JsonNode v = n.get("max_position_embeddings");
        if (v != null && v.isIntegralNumber() && !v.canConvertToInt() && v.bigIntegerValue().signum() > 0) {
            return Integer.MAX_VALUE;
        }
        return optionalPositive(n, "max_position_embeddings", family.defaultMaxPositions(), where);
    }

    /** An optional key that must be positive when present; {@code fallback} (unchecked) when absent or null. */
    private static int optionalPositive(JsonNode n, String key, int fallback, String where) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? fallback : positive(n, key, where);
    }

    private static int integer(JsonNode v, String key, String where) {
        if (v.isIntegralNumber() && !v.canConvertToInt() && v.bigIntegerValue().signum() > 0) {
            // Every size here indexes a Java array or counts its elements.
            throw new ModelFormatException(where, null, key + " " + v + " is too large (the limit is "
                    + Integer.MAX_VALUE + ")");
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
            throw new ModelFormatException(where, null, key + " must be a non-negative integer, got " + v);
        }
        return v.asInt();
    }

    /**
     * Refuses a {@code partial_rotary_factor} (at the top level, or in {@code rope_parameters} or
     * {@code rope_scaling} where {@code prefix} says so) other than 1: transformers' RoPE then has frequencies for
     * only that share of a head, while RoPE here rotates the whole head.
     */
    private static void wholeHeadRotary(JsonNode n, String prefix, String where) {
        JsonNode v = n.get("partial_rotary_factor");
        if (v != null && !v.isNull() && !(v.isNumber() && v.decimalValue().compareTo(BigDecimal.ONE) == 0)) {
            throw new ModelFormatException(where, null, prefix + "partial_rotary_factor " + v
                    + " is not supported (only RoPE over the whole head)");
        }
    }

    /**
     * The key the expert count is read from: the family's own, or the alias its transformers config class maps onto
     * it where only the alias is given (the alias was ignored, and the family's default count taken).
     *
     * @throws ModelFormatException if both are given and differ: transformers versions disagree on which one wins
     */
    private static String expertsKey(JsonNode n, Family family, String where) {
        String key = family.expertsKey();
        String alias = family.expertsAlias();
        JsonNode own = n.get(key);
        JsonNode other = alias == null ? null : n.get(alias);
        if (other == null || other.isNull()) {
            return key;
        }
        if (own == null || own.isNull()) {
            return alias;
        }
        if (!own.equals(other)) {
            throw new ModelFormatException(where, null, key + " " + own + " disagrees with " + alias + " " + other
                    + ", which transformers reads as the same setting");
        }
        return key;
    }

    /**
     * Refuses an activation other than SiLU: every family's experts and MLPs are SwiGLU, so another
     * {@code hidden_act} would be computed as SiLU without a word. {@code swish} is Hugging Face's other name
     * for the same function ({@code ACT2FN} maps both to {@code nn.SiLU}); absent means the default, silu.
     */
    private static void activation(JsonNode n, String where) {
        JsonNode v = n.get("hidden_act");
        if (v == null || v.isNull()) {
            return;
        }
        if (!v.isString() || !(v.asString().equals("silu") || v.asString().equals("swish"))) {
            throw new ModelFormatException(where, null, "hidden_act " + v
                    + " is not supported (only \"silu\", also called \"swish\")");
        }
    }

    /**
     * Refuses sliding-window attention that could apply: attention here always sees the whole prefix, while
     * Hugging Face masks keys more than {@code sliding_window} positions back, so logits would differ past the
     * window. Mixtral enables it by an integer {@code sliding_window} (null: none), and so does OLMoE, whose
     * attention hands the key to the attention kernel (flash attention applies it); Qwen2-MoE and Qwen3-MoE by
     * {@code use_sliding_window: true} with a non-null {@code sliding_window} (otherwise transformers discards the
     * window). Their {@code max_window_layers} is not consulted: transformers versions disagree on which layers it
     * selects (from it on, below it on every other layer, or ignored). A window of at least
     * {@code max_position_embeddings} (the family's transformers default when absent) never takes effect on a
     * sequence the model was trained for, so it is accepted, and returned: transformers lets a sequence run past it
     * (then masking), which a KV cache refuses.
     *
     * @return the accepted window, or {@link Integer#MAX_VALUE} for none
     */
    private static int slidingWindow(JsonNode n, Family family, String where) {
        boolean enabled = switch (family) {
            case MIXTRAL, OLMOE -> true;
            case QWEN2_MOE, QWEN3_MOE -> optionalBool(n, "use_sliding_window", false, where);
        };
        JsonNode w = n.get("sliding_window");
        if (!enabled || w == null || w.isNull()) {
            return Integer.MAX_VALUE;
        }
        int window = integer(w, "sliding_window", where);
        int maxPositions = maxPositionEmbeddings(n, family, where);
        if (window < maxPositions) {
            throw new ModelFormatException(where, null, "sliding-window attention is not supported (sliding_window "
                    + window + " is below max_position_embeddings " + maxPositions + ", so it would apply)");
        }
        return window;
    }

    private static boolean optionalBool(JsonNode n, String key, boolean fallback, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw new ModelFormatException(where, null, key + " must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    /**
     * {@code rope_theta}, or where the config has it, transformers v5's {@code rope_parameters} object (which holds
     * it instead): read from the old key alone, such a config ran at the default 10000 without a word. Only the
     * default RoPE is implemented, so another {@code rope_type} there is refused as {@code rope_scaling} is. Where
     * neither gives the base, the family's transformers default (Mixtral's is 1e6).
     */
    private static double ropeTheta(JsonNode n, Family family, String where) {
        double fallback = family.defaultRopeTheta();
        JsonNode p = n.get("rope_parameters");
        if (p == null || p.isNull()) {
            return optionalDouble(n, "rope_theta", fallback, where);
        }
        if (!p.isObject()) {
            throw new ModelFormatException(where, null, "rope_parameters must be an object, got " + p);
        }
        wholeHeadRotary(p, "rope_parameters.", where);
        JsonNode type = p.get("rope_type");
        if (type != null && !type.isNull() && !"default".equals(type.asString(""))) {
            throw new ModelFormatException(where, null, "rope_parameters.rope_type " + type + " is not supported "
                    + "(only the default RoPE)");
        }
        double outer = optionalDouble(n, "rope_theta", fallback, where);
        JsonNode inner = p.get("rope_theta");
        if (inner == null || inner.isNull()) {
            return outer;
        }
        double theta = optionalDouble(p, "rope_theta", fallback, where + ": rope_parameters");
        if (n.has("rope_theta") && !n.get("rope_theta").isNull() && theta != outer) {
            throw new ModelFormatException(where, null, "rope_theta " + outer + " disagrees with "
                    + "rope_parameters.rope_theta " + theta);
        }
        return theta;
    }

    /**
     * Refuses a {@code rope_theta} inside a (default) {@code rope_scaling} that differs from the base transformers 4
     * reads ({@code rope_theta}, or the family's default): transformers 5 reads {@code rope_scaling} as its
     * {@code rope_parameters} and takes the base from there first, so the two versions would compute other RoPE;
     * or from a {@code rope_parameters} base ({@code base}), which transformers 5 then ignores.
     */
    private static void scaledBase(JsonNode n, JsonNode scaling, Family family, double base, String where) {
        JsonNode inner = scaling.get("rope_theta");
        if (inner == null || inner.isNull()) {
            return;
        }
        double theta = optionalDouble(scaling, "rope_theta", 0, where + ": rope_scaling");
        boolean own = n.has("rope_theta") && !n.get("rope_theta").isNull();
        double outer = optionalDouble(n, "rope_theta", family.defaultRopeTheta(), where);
        if (theta != outer) {
            throw new ModelFormatException(where, null, "rope_scaling.rope_theta " + theta + " disagrees with the base "
                    + "transformers 4 reads, " + outer + (own ? " (rope_theta)" : " (the default for "
                    + family.modelType() + ")"));
        }
        if (theta != base) {
            // rope_parameters gave another base (transformers 5 reads rope_scaling instead of it).
            throw new ModelFormatException(where, null, "rope_scaling.rope_theta " + theta + " disagrees with "
                    + "rope_parameters.rope_theta " + base);
        }
    }

    private static double optionalDouble(JsonNode n, String key, double fallback, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        // Infinity (1e999 overflows a double) would make every RoPE frequency or norm collapse, as NaN would. An
        // integer literal beyond a double's range converts through BigDecimal: Jackson's asDouble() throws on it.
        double d = !v.isNumber() ? Double.NaN : v.isBigInteger() ? v.decimalValue().doubleValue() : v.asDouble();
        if (!(d > 0) || !Double.isFinite(d)) {
            String got = v.isNumber() && Double.isInfinite(d) ? d + " (beyond a double's range)" : v.toString();
            throw new ModelFormatException(where, null, key + " must be a finite positive number, got " + got);
        }
        return d;
    }
}
