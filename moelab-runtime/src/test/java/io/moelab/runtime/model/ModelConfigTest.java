package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** {@code config.json} values the runtime cannot honour are refused, naming the file and the key. */
class ModelConfigTest {
    @TempDir
    Path tmp;

    private int written;

    /** The tiny model's config.json of {@code family}, with {@code edit} applied, written to a file of its own. */
    private Path config(Family family, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode c = TinyModel.create(family, DType.F32, 1).config.deepCopy();
        edit.accept(c);
        return text(TinyModel.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c));
    }

    private Path text(String json) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("c" + written++));
        return Files.writeString(dir.resolve("config.json"), json);
    }

    private ModelConfig read(Family family, Consumer<ObjectNode> edit) throws IOException {
        return ModelConfig.read(config(family, edit));
    }

    /** Reading fails with exactly "FILE: problem". */
    private static void assertRefused(Path file, String problem) {
        assertThatThrownBy(() -> ModelConfig.read(file)).isInstanceOf(ModelFormatException.class)
                .hasMessage(file + ": " + problem);
    }

    private void assertRefused(Family family, Consumer<ObjectNode> edit, String problem) throws IOException {
        assertRefused(config(family, edit), problem);
    }

    /**
     * transformers v5 writes RoPE's base into {@code rope_parameters}: it used to be missed (the default 10000 ran
     * instead). A RoPE other than the default is refused there as in {@code rope_scaling}; two bases that disagree
     * are refused.
     */
    /**
     * An omitted {@code norm_topk_prob} takes transformers' default, false, in every family that reads it; Qwen3-MoE
     * used to default to true here, renormalizing the top-k weights where transformers does not. Mixtral always
     * renormalizes.
     */
    @Test
    void normTopKProbDefaultsAsInTransformers() throws IOException {
        for (Family f : new Family[] {Family.QWEN2_MOE, Family.QWEN3_MOE, Family.OLMOE}) {
            assertThat(read(f, c -> c.remove("norm_topk_prob")).normTopKProb()).as(f.name()).isFalse();
            assertThat(read(f, c -> c.put("norm_topk_prob", true)).normTopKProb()).as(f.name()).isTrue();
        }
        assertThat(read(Family.MIXTRAL, c -> c.remove("norm_topk_prob")).normTopKProb()).isTrue();
    }

    /**
     * A {@code rope_scaling} whose {@code rope_type} (or older {@code type}) is {@code default} is transformers'
     * unscaled RoPE, as in {@code rope_parameters}: it loads. It used to be refused as any {@code rope_scaling} was;
     * another type still is, named.
     */
    @Test
    void aDefaultRopeScalingIsTheUnscaledRope() throws IOException {
        assertThat(read(Family.MIXTRAL, c -> c.putObject("rope_scaling").put("rope_type", "default")).ropeTheta())
                .isEqualTo(10000.0);
        assertThat(read(Family.QWEN2_MOE, c -> c.putObject("rope_scaling").put("type", "default")).ropeTheta())
                .isEqualTo(10000.0);
        assertRefused(Family.QWEN2_MOE, c -> c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0),
                "rope_scaling \"linear\" is not supported (only the default RoPE)");
        assertRefused(Family.QWEN2_MOE, c -> c.putObject("rope_scaling").put("factor", 2.0),
                "rope_scaling {\"factor\":2.0} is not supported (only the default RoPE)");
    }

    /**
     * A base inside {@code rope_scaling}: transformers 5 reads {@code rope_scaling} as its {@code rope_parameters} and
     * takes the base from there first, transformers 4 takes {@code rope_theta} (or the family's default) and ignores
     * it. It used to be ignored here too, so where they differ one of the two was matched without a word; that is now
     * refused, and a base both read alike loads. A {@code partial_rotary_factor} there is refused as elsewhere.
     */
    @Test
    void aBaseInsideRopeScalingMustAgreeWithTheOneTransformers4Reads() throws IOException {
        assertRefused(Family.QWEN3_MOE, c -> c.put("rope_theta", 10000.0).putObject("rope_scaling")
                .put("rope_type", "default").put("rope_theta", 1e6),
                "rope_scaling.rope_theta 1000000.0 disagrees with the base transformers 4 reads, 10000.0 (rope_theta)");
        assertRefused(Family.MIXTRAL, c -> {
            c.remove("rope_theta");
            c.putObject("rope_scaling").put("type", "default").put("rope_theta", 1e4);
        },
                "rope_scaling.rope_theta 10000.0 disagrees with the base transformers 4 reads, 1000000.0 (the "
                        + "default for mixtral)");
        assertThat(read(Family.QWEN3_MOE, c -> c.put("rope_theta", 1e6).putObject("rope_scaling")
                .put("rope_type", "default").put("rope_theta", 1e6)).ropeTheta()).isEqualTo(1e6);
        assertThat(read(Family.OLMOE, c -> {
            c.remove("rope_theta");
            c.putObject("rope_scaling").put("rope_type", "default").put("rope_theta", 10000);
        }).ropeTheta()).isEqualTo(10000.0);
        assertRefused(Family.QWEN3_MOE, c -> {
            c.remove("rope_theta");
            c.putObject("rope_scaling").put("rope_type", "default").put("rope_theta", 10000.0);
            c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 1e6);
        }, "rope_scaling.rope_theta 10000.0 disagrees with rope_parameters.rope_theta 1000000.0");
        assertRefused(Family.QWEN2_MOE, c -> c.putObject("rope_scaling").put("rope_type", "default")
                .put("partial_rotary_factor", 0.5),
                "rope_scaling.partial_rotary_factor 0.5 is not supported (only RoPE over the whole head)");
    }

    @Test
    void ropeParametersGiveTheBase() throws IOException {
        assertThat(read(Family.QWEN3_MOE, c -> {
            c.remove("rope_theta");
            c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 1e6);
        }).ropeTheta()).isEqualTo(1e6);
        assertThat(read(Family.QWEN3_MOE, c -> c.putObject("rope_parameters").put("rope_theta", 10000.0))
                .ropeTheta()).isEqualTo(10000.0);
        assertThat(read(Family.MIXTRAL, c -> c.put("rope_theta", 5e5).putObject("rope_parameters")
                .put("rope_type", "default")).ropeTheta()).isEqualTo(5e5);
        assertRefused(Family.QWEN3_MOE, c -> c.putObject("rope_parameters").put("rope_type", "yarn")
                .put("factor", 4.0), "rope_parameters.rope_type \"yarn\" is not supported (only the default RoPE)");
        assertRefused(Family.QWEN3_MOE, c -> c.putObject("rope_parameters").put("rope_theta", 1e6),
                "rope_theta 10000.0 disagrees with rope_parameters.rope_theta 1000000.0");
        assertRefused(Family.QWEN3_MOE, c -> c.put("rope_parameters", 3), "rope_parameters must be an object, got 3");
    }

    /**
     * A {@code partial_rotary_factor} below 1 makes transformers' RoPE frequencies span only that share of a head
     * (these families' attention then fails to broadcast them, or, in versions whose default RoPE skips the key,
     * rotates the whole head): it used to be ignored here, the whole head rotated without a word. It is refused,
     * at the top level and in {@code rope_parameters}; 1 (the whole head) loads.
     */
    @Test
    void partialRotaryIsRefused() throws IOException {
        assertRefused(Family.QWEN3_MOE, c -> c.put("partial_rotary_factor", 0.5),
                "partial_rotary_factor 0.5 is not supported (only RoPE over the whole head)");
        assertRefused(Family.MIXTRAL, c -> c.putObject("rope_parameters").put("rope_type", "default")
                .put("partial_rotary_factor", 0.25),
                "rope_parameters.partial_rotary_factor 0.25 is not supported (only RoPE over the whole head)");
        assertRefused(Family.OLMOE, c -> c.put("partial_rotary_factor", "half"),
                "partial_rotary_factor \"half\" is not supported (only RoPE over the whole head)");
        assertThat(read(Family.OLMOE, c -> c.put("partial_rotary_factor", 1.0)).headDim()).isEqualTo(4);
        assertThat(read(Family.OLMOE, c -> c.put("partial_rotary_factor", 1)).headDim()).isEqualTo(4);
        // An integer past a double's range is named, not a conversion failure.
        assertRefused(Family.OLMOE, c -> c.put("partial_rotary_factor", BigInteger.TEN.pow(400)),
                "partial_rotary_factor " + BigInteger.TEN.pow(400) + " is not supported (only RoPE over the whole "
                        + "head)");
        read(Family.QWEN2_MOE, c -> c.putNull("partial_rotary_factor").putObject("rope_parameters")
                .put("partial_rotary_factor", 1.0));
    }

    /** OLMoE's clamp of q, k and v is not implemented: a value other than null is refused, null loads. */
    @Test
    void clipQkvIsRefused() throws IOException {
        assertThat(read(Family.OLMOE, c -> c.putNull("clip_qkv")).family()).isEqualTo(Family.OLMOE);
        assertRefused(Family.OLMOE, c -> c.put("clip_qkv", 8.0), "clip_qkv is not supported (got 8.0)");
    }

    @Test
    void headCountsMustBePositiveAndKeyValueHeadsDivideTheQueryHeads() throws IOException {
        // Zero key/value heads used to reach heads % kvHeads: ArithmeticException, exit 1.
        assertRefused(Family.MIXTRAL, c -> c.put("num_key_value_heads", 0),
                "num_key_value_heads must be positive, got 0");
        assertRefused(Family.MIXTRAL, c -> c.put("num_key_value_heads", -2),
                "num_key_value_heads must be a non-negative integer, got -2");
        assertRefused(Family.MIXTRAL, c -> c.put("num_key_value_heads", 3),
                "num_attention_heads 4 is not a multiple of num_key_value_heads 3");
        assertRefused(Family.MIXTRAL, c -> c.put("num_attention_heads", 0),
                "num_attention_heads must be positive, got 0");
        assertRefused(Family.QWEN3_MOE, c -> c.put("head_dim", 0), "head_dim must be positive, got 0");
        // Without head_dim it is hidden_size // num_attention_heads: 2 // 4 = 0.
        assertRefused(Family.MIXTRAL, c -> c.put("hidden_size", 2),
                "hidden_size 2 is smaller than num_attention_heads 4 (head_dim would be 0)");
        // Null key/value heads mean multi-head attention; absent head_dim is 16 / 4.
        ModelConfig mha = read(Family.MIXTRAL, c -> c.putNull("num_key_value_heads"));
        assertThat(mha.kvHeads()).isEqualTo(4);
        assertThat(mha.headDim()).isEqualTo(4);
        assertThat(read(Family.MIXTRAL, c -> c.put("num_key_value_heads", 1)).kvHeads()).isEqualTo(1);
    }

    /**
     * An absent {@code num_key_value_heads} takes the default of the family's transformers config class: 8 in
     * MixtralConfig, 16 in Qwen2MoeConfig, 4 in Qwen3MoeConfig, the query heads in OlmoeConfig. It used to be the
     * query heads for every family, so such a Mixtral or Qwen config read other attention than transformers.
     */
    @Test
    void absentKeyValueHeadsTakeTheFamilysDefault() throws IOException {
        Family[] families = {Family.MIXTRAL, Family.QWEN2_MOE, Family.QWEN3_MOE, Family.OLMOE};
        int[] expected = {8, 16, 4, 32};
        for (int i = 0; i < families.length; i++) {
            // 32 query heads of 2 dimensions (Qwen3's explicit head_dim overridden): every default divides them.
            ModelConfig c = read(families[i], n -> {
                n.remove("num_key_value_heads");
                n.put("hidden_size", 64).put("num_attention_heads", 32).put("head_dim", 2);
            });
            assertThat(c.kvHeads()).as(families[i].name()).isEqualTo(expected[i]);
            assertThat(c.heads()).isEqualTo(32);
        }
        // The tiny configs' 4 query heads: Mixtral's 8 and Qwen2-MoE's 16 cannot serve them, refused by name.
        assertRefused(Family.MIXTRAL, n -> n.remove("num_key_value_heads"), "num_attention_heads 4 is not a multiple "
                + "of num_key_value_heads 8 (transformers' default for mixtral where config.json has none)");
        assertRefused(Family.QWEN2_MOE, n -> n.remove("num_key_value_heads"), "num_attention_heads 4 is not a "
                + "multiple of num_key_value_heads 16 (transformers' default for qwen2_moe where config.json has "
                + "none)");
        assertThat(read(Family.QWEN3_MOE, n -> n.remove("num_key_value_heads")).kvHeads()).isEqualTo(4);
        assertThat(read(Family.OLMOE, n -> n.remove("num_key_value_heads")).kvHeads()).isEqualTo(4);
    }

    /**
     * A Qwen3-MoE checkpoint with 8 query heads over 4 key/value heads whose config.json leaves the key out loads with
     * Qwen3MoeConfig's 4 and computes the reference's logits (it used to expect 8 and refuse the k_proj shape).
     */
    @Test
    void aCheckpointWithoutKeyValueHeadsLoadsWithTheDefault() throws IOException {
        TinyModel tiny = TinyModel.create(Family.QWEN3_MOE, DType.F32, 4, false,
                c -> c.put("num_attention_heads", 8).put("num_key_value_heads", 4));
        double[][] expected = new ReferenceForward(tiny).logits(new int[] {1, 7, 30});
        tiny.config.remove("num_key_value_heads");
        Path dir = tiny.write(tmp.resolve("no-kv-heads"));
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            assertThat(model.config().kvHeads()).isEqualTo(4);
            float[][] actual = model.logits(new int[] {1, 7, 30});
            for (int t = 0; t < expected.length; t++) {
                for (int i = 0; i < expected[t].length; i++) {
                    assertThat((double) actual[t][i]).as("position %d logit %d", t, i)
                            .isCloseTo(expected[t][i], org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }

    /** A model_type that is not a string is named as such: it read "missing model_type" although the key is there. */
    @Test
    void aModelTypeThatIsNotAStringIsNamed() throws IOException {
        assertRefused(Family.MIXTRAL, c -> c.put("model_type", 5), "model_type must be a string, got 5");
        assertRefused(Family.MIXTRAL, c -> c.putArray("model_type").add("mixtral"),
                "model_type must be a string, got [\"mixtral\"]");
        assertRefused(Family.MIXTRAL, c -> c.remove("model_type"), "missing model_type");
        assertRefused(Family.MIXTRAL, c -> c.putNull("model_type"), "missing model_type");
    }

    @Test
    void onlySiluIsAccepted() throws IOException {
        for (String act : new String[] {"gelu", "relu", "foo", "SiLU"}) {
            assertRefused(Family.QWEN2_MOE, c -> c.put("hidden_act", act),
                    "hidden_act \"" + act + "\" is not supported (only \"silu\", also called \"swish\")");
        }
        assertRefused(Family.OLMOE, c -> c.put("hidden_act", 1),
                "hidden_act 1 is not supported (only \"silu\", also called \"swish\")");
        // swish is transformers' other name for SiLU; absent and null mean its default, silu.
        for (Family f : Family.values()) {
            read(f, c -> c.put("hidden_act", "silu"));
            read(f, c -> c.put("hidden_act", "swish"));
            read(f, c -> c.remove("hidden_act"));
            read(f, c -> c.putNull("hidden_act"));
        }
    }

    /**
     * {@code max_position_embeddings} as given, else transformers' default of the family's config class (MixtralConfig
     * 4096 x 32, Qwen2MoeConfig and Qwen3MoeConfig 32768, OlmoeConfig 4096); one past the int range as the largest
     * int, since it only bounds int positions; a value that is not a positive integer refused.
     */
    @Test
    void maxPositionEmbeddingsIsReadWithTheFamilyDefault() throws IOException {
        Map<Family, Integer> defaults = Map.of(Family.MIXTRAL, 131072, Family.QWEN2_MOE, 32768,
                Family.QWEN3_MOE, 32768, Family.OLMOE, 4096);
        for (Family f : Family.values()) {
            assertThat(read(f, c -> c.remove("max_position_embeddings")).maxPositionEmbeddings()).as(f.modelType())
                    .isEqualTo(defaults.get(f));
            assertThat(read(f, c -> c.putNull("max_position_embeddings")).maxPositionEmbeddings())
                    .isEqualTo(defaults.get(f));
            assertThat(read(f, c -> c.put("max_position_embeddings", 256)).maxPositionEmbeddings()).isEqualTo(256);
        }
        assertThat(read(Family.OLMOE, c -> c.put("max_position_embeddings", 1L << 40)).maxPositionEmbeddings())
                .isEqualTo(Integer.MAX_VALUE);
        assertRefused(Family.QWEN3_MOE, c -> c.put("max_position_embeddings", 0),
                "max_position_embeddings must be positive, got 0");
        assertRefused(Family.QWEN3_MOE, c -> c.put("max_position_embeddings", 512.5),
                "max_position_embeddings must be a non-negative integer, got 512.5");
    }

    @Test
    void aSlidingWindowThatCouldApplyIsRefused() throws IOException {
        String refused = "sliding-window attention is not supported (sliding_window %d is below "
                + "max_position_embeddings %d, so it would apply)";
        // Mixtral: an integer enables it; Mixtral-8x7B's own config has "sliding_window": null.
        assertRefused(Family.MIXTRAL, c -> c.put("sliding_window", 4096).put("max_position_embeddings", 32768),
                refused.formatted(4096, 32768));
        // Without max_position_embeddings, transformers' Mixtral default, 4096 x 32.
        assertRefused(Family.MIXTRAL, c -> c.put("sliding_window", 4096), refused.formatted(4096, 131072));
        assertRefused(Family.MIXTRAL, c -> c.put("sliding_window", 0), refused.formatted(0, 131072));
        read(Family.MIXTRAL, c -> c.putNull("sliding_window").put("max_position_embeddings", 32768));
        read(Family.MIXTRAL, c -> c.put("sliding_window", 32768).put("max_position_embeddings", 32768));
        read(Family.MIXTRAL, c -> c.put("sliding_window", 131072));
        // Qwen: only with use_sliding_window true and a window.
        assertRefused(Family.QWEN3_MOE, c -> c.put("use_sliding_window", true).put("sliding_window", 4096)
                .put("max_position_embeddings", 40960), refused.formatted(4096, 40960));
        // max_window_layers past the last layer does not save it: transformers versions disagree on its meaning.
        assertRefused(Family.QWEN2_MOE, c -> c.put("use_sliding_window", true).put("sliding_window", 4096)
                .put("max_window_layers", 28), refused.formatted(4096, 32768));
        read(Family.QWEN3_MOE, c -> c.put("use_sliding_window", true).put("sliding_window", 40960)
                .put("max_position_embeddings", 40960));
        read(Family.QWEN3_MOE, c -> c.put("use_sliding_window", true).putNull("sliding_window"));
        // Qwen3-30B-A3B's and Qwen1.5-MoE-A2.7B's settings: disabled, whatever the window says.
        read(Family.QWEN3_MOE, c -> c.put("use_sliding_window", false).putNull("sliding_window")
                .put("max_window_layers", 48).put("max_position_embeddings", 40960));
        read(Family.QWEN2_MOE, c -> c.put("use_sliding_window", false).put("sliding_window", 32768)
                .put("max_window_layers", 21).put("max_position_embeddings", 8192));
        read(Family.QWEN2_MOE, c -> c.put("sliding_window", 4));
        assertRefused(Family.QWEN2_MOE, c -> c.put("use_sliding_window", "yes"),
                "use_sliding_window must be true or false, got \"yes\"");
        // OLMoE hands the key to the attention kernel; its default context is 4096.
        assertRefused(Family.OLMOE, c -> c.put("sliding_window", 2048), refused.formatted(2048, 4096));
        read(Family.OLMOE, c -> c.put("sliding_window", 4096));
    }

    @Test
    void ropeThetaAndEpsilonMustBeFinite() throws IOException {
        // 1e999 overflows a double to Infinity, which every RoPE frequency would then divide by.
        Path inf = text(Files.readString(config(Family.MIXTRAL, c -> c.put("rope_theta", 12345.0)))
                .replace("12345.0", "1e999"));
        assertRefused(inf, "rope_theta must be a finite positive number, got Infinity (beyond a double's range)");
        Path eps = text(Files.readString(config(Family.MIXTRAL, c -> c.put("rms_norm_eps", 12345.0)))
                .replace("12345.0", "1e999"));
        assertRefused(eps, "rms_norm_eps must be a finite positive number, got Infinity (beyond a double's range)");
        // The same as an integer literal: Jackson's conversion of it to a double threw, and the command failed with
        // "error: JsonNodeException: ..." (exit 1).
        Path bigInteger = text(Files.readString(config(Family.MIXTRAL, c -> c.put("rms_norm_eps", 12345.0)))
                .replace("12345.0", "1" + "0".repeat(400)));
        assertRefused(bigInteger, "rms_norm_eps must be a finite positive number, got Infinity (beyond a double's "
                + "range)");
        assertRefused(Family.MIXTRAL, c -> c.put("rope_theta", 0),
                "rope_theta must be a finite positive number, got 0");
        assertThat(read(Family.MIXTRAL, c -> c.put("rope_theta", 1e300)).ropeTheta()).isEqualTo(1e300);
    }

    @Test
    void duplicateKeysAreRefusedByName() throws IOException {
        // Python's json keeps the last of two, which is rarely what the hand that added it meant.
        Path top = text("""
                {"model_type": "mixtral", "vocab_size": 50,
                 "hidden_size": 16, "num_hidden_layers": 3,
                 "num_attention_heads": 4, "hidden_size": 32}
                """);
        assertRefused(top, "duplicate key \"hidden_size\" (line 3)");
        Path nested = text("""
                {"model_type": "mixtral",
                 "moelab": {"preset": "tiny",
                  "preset": "small"}}
                """);
        assertRefused(nested, "duplicate key \"preset\" (line 3)");
    }

    /**
     * An omitted {@code rms_norm_eps} or {@code rope_theta} takes the family's transformers default, as transformers
     * reads the config: Mixtral 1e-5 and a RoPE base of 1e6, OLMoE 1e-5, the Qwen families 1e-6, the others' base
     * 10000. Every family used to get 1e-6 and 10000, so such a Mixtral or OLMoE config computed other logits than
     * transformers without a word.
     */
    @Test
    void omittedNormEpsilonAndRopeBaseTakeTheFamilysDefault() throws IOException {
        Family[] families = {Family.MIXTRAL, Family.QWEN2_MOE, Family.QWEN3_MOE, Family.OLMOE};
        double[] eps = {1e-5, 1e-6, 1e-6, 1e-5};
        double[] theta = {1e6, 10000, 10000, 10000};
        for (int i = 0; i < families.length; i++) {
            Family f = families[i];
            ModelConfig c = read(f, n -> {
                n.remove("rms_norm_eps");
                n.remove("rope_theta");
            });
            assertThat(c.rmsNormEps()).as(f.name()).isEqualTo(eps[i]);
            assertThat(c.ropeTheta()).as(f.name()).isEqualTo(theta[i]);
            // transformers v5 writes rope_parameters, which may leave the base to the class default too.
            assertThat(read(f, n -> {
                n.remove("rope_theta");
                n.putObject("rope_parameters").put("rope_type", "default");
            }).ropeTheta()).as(f.name() + " rope_parameters").isEqualTo(theta[i]);
            // Null is transformers' "unset" for these keys as well; a value given is kept.
            assertThat(read(f, n -> n.putNull("rms_norm_eps")).rmsNormEps()).as(f.name()).isEqualTo(eps[i]);
            assertThat(read(f, n -> n.put("rms_norm_eps", 3e-6).put("rope_theta", 5e5)))
                    .extracting(ModelConfig::rmsNormEps, ModelConfig::ropeTheta).containsExactly(3e-6, 5e5);
        }
    }

    /**
     * Qwen2-MoE's {@code shared_expert_intermediate_size} defaults to 5632 in transformers. Omitted, it used to mean
     * no shared expert here: a checkpoint's shared expert was then skipped without a word. Now the default applies, so
     * such a checkpoint is refused by its shapes unless its shared expert has the default size; 0 still means none.
     */
    @Test
    void qwen2MoeSharedExpertSizeDefaultsAsInTransformers() throws IOException {
        assertThat(read(Family.QWEN2_MOE, c -> c.remove("shared_expert_intermediate_size")).sharedIntermediate())
                .isEqualTo(5632);
        assertThat(read(Family.QWEN2_MOE, c -> c.put("shared_expert_intermediate_size", 0)).sharedIntermediate())
                .isZero();
        assertThat(read(Family.QWEN2_MOE, c -> { }).sharedIntermediate()).isEqualTo(10);
        // The tiny model's shared expert (10 wide) with the key left out of config.json.
        TinyModel tiny = TinyModel.create(Family.QWEN2_MOE, DType.F32, 1);
        tiny.config.remove("shared_expert_intermediate_size");
        Path dir = tiny.write(tmp.resolve("no-shared-size"));
        assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.STORED)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("model.safetensors") + ": tensor model.layers.0.mlp.shared_expert.gate_proj"
                        + ".weight: shape [10, 16] disagrees with config.json, which implies [5632, 16]");
    }

    /**
     * {@code mlp_only_layers} holds layer indices: a string in it used to end in the JSON library's exception (exit 1,
     * no file named) and a fraction was truncated to a layer. Indices that name no layer select none, as in
     * transformers.
     */
    @Test
    void mlpOnlyLayersMustBeIntegers() throws IOException {
        assertRefused(Family.QWEN2_MOE, c -> c.putArray("mlp_only_layers").add(1).add("a"),
                "mlp_only_layers must be a list of layer indices, got [1,\"a\"]");
        assertRefused(Family.QWEN3_MOE, c -> c.putArray("mlp_only_layers").add(1.5),
                "mlp_only_layers must be a list of layer indices, got [1.5]");
        assertRefused(Family.QWEN3_MOE, c -> c.putArray("mlp_only_layers").add(4294967297L),
                "mlp_only_layers must be a list of layer indices, got [4294967297]");
        ModelConfig c = read(Family.QWEN2_MOE, n -> n.putArray("mlp_only_layers").add(2).add(-1).add(7));
        assertThat(c.mlpOnlyLayers()).containsExactlyInAnyOrder(2, -1, 7);
        assertThat(new boolean[] {c.isMoe(0), c.isMoe(1), c.isMoe(2)}).containsExactly(true, true, false);
    }

    /**
     * An omitted expert count, top-k or expert width takes the family's transformers default. An absent num_experts
     * was read as 0, which made every Qwen layer dense and sent OLMoE looking for dense weights. An explicit 0 is a
     * dense Qwen model, as transformers builds it (its Qwen layers are sparse when num_experts > 0); Mixtral and OLMoE
     * have no dense layers, so there it is refused.
     */
    @Test
    void omittedExpertSettingsTakeTheFamilysDefault() throws IOException {
        Object[][] expected = {{Family.MIXTRAL, "num_local_experts", 8, 2}, {Family.QWEN2_MOE, "num_experts", 60, 4},
                {Family.QWEN3_MOE, "num_experts", 128, 8}, {Family.OLMOE, "num_experts", 64, 8}};
        for (Object[] row : expected) {
            Family f = (Family) row[0];
            ModelConfig c = read(f, n -> n.remove(java.util.List.of((String) row[1], "num_experts_per_tok")));
            assertThat(c.experts()).as(f.name()).isEqualTo(row[2]);
            assertThat(c.topK()).as(f.name()).isEqualTo(row[3]);
            assertThat(anyMoe(c)).as(f.name()).isTrue();
        }
        assertThat(read(Family.QWEN2_MOE, n -> n.remove("moe_intermediate_size")).expertIntermediate())
                .isEqualTo(1408);
        assertThat(read(Family.QWEN3_MOE, n -> n.remove("moe_intermediate_size")).expertIntermediate())
                .isEqualTo(768);
        assertThat(anyMoe(read(Family.QWEN3_MOE, n -> n.put("num_experts", 0)))).isFalse();
        assertRefused(Family.OLMOE, n -> n.put("num_experts", 0), "num_experts must be positive, got 0");
        assertRefused(Family.MIXTRAL, n -> n.put("num_local_experts", 0), "num_local_experts must be positive, got 0");
    }

    /**
     * transformers' config classes map one expert-count key onto the other ({@code attribute_map}): MixtralConfig
     * reads {@code num_experts} as {@code num_local_experts}, OlmoeConfig and (v5) Qwen3MoeConfig read
     * {@code num_local_experts} as {@code num_experts}. The alias used to be ignored, so such a config got the
     * family's default count (Mixtral 8) and its checkpoint was refused for a router shape that disagreed with it.
     * Two keys that disagree are refused, since versions differ on which one wins; Qwen2MoeConfig has no alias.
     */
    @Test
    void theExpertCountIsReadUnderTheKeyTransformersMapsOntoIt() throws IOException {
        assertThat(read(Family.MIXTRAL, c -> c.put("num_experts", 4).remove("num_local_experts")).experts())
                .isEqualTo(4);
        assertThat(read(Family.OLMOE, c -> c.put("num_local_experts", 4).remove("num_experts")).experts())
                .isEqualTo(4);
        assertThat(read(Family.QWEN3_MOE, c -> c.put("num_local_experts", 4).remove("num_experts")).experts())
                .isEqualTo(4);
        assertThat(read(Family.MIXTRAL, c -> c.put("num_experts", 4).put("num_local_experts", 4)).experts())
                .isEqualTo(4);
        assertThat(read(Family.QWEN2_MOE, c -> c.put("num_local_experts", 8).put("num_experts", 4)).experts())
                .isEqualTo(4);
        assertRefused(Family.MIXTRAL, c -> c.put("num_experts", 8).put("num_local_experts", 4),
                "num_local_experts 4 disagrees with num_experts 8, which transformers reads as the same setting");
        assertRefused(Family.MIXTRAL, c -> c.put("num_experts", 0).remove("num_local_experts"),
                "num_experts must be positive, got 0");
    }

    private static boolean anyMoe(ModelConfig c) {
        return java.util.stream.IntStream.range(0, c.layers()).anyMatch(c::isMoe);
    }

    /**
     * {@code mlp_only_layers} and {@code decoder_sparse_step} are Qwen settings: transformers' Mixtral and OLMoE layers
     * are sparse whatever they say, and a layer listed there used to be read as dense.
     */
    @Test
    void onlyQwenLayersCanBeMadeDense() throws IOException {
        for (Family f : new Family[] {Family.MIXTRAL, Family.OLMOE}) {
            ModelConfig c = read(f, n -> {
                n.putArray("mlp_only_layers").add(0);
                n.put("decoder_sparse_step", 2);
            });
            assertThat(c.isMoe(0)).as(f.name()).isTrue();
        }
        assertThat(read(Family.QWEN2_MOE, n -> n.putArray("mlp_only_layers").add(0)).isMoe(0)).isFalse();
    }

    /**
     * transformers' Qwen MoE decoder layer {@code i} is sparse when {@code (i + 1) % decoder_sparse_step == 0} and
     * {@code i} is not in {@code mlp_only_layers}: with a step of 3, layers 2 and 5 of 7 (a step of 2 could not tell
     * {@code i + 1} from {@code i - 1}).
     */
    @Test
    void everyStepThLayerCountingFromOneIsSparse() throws IOException {
        for (Family f : new Family[] {Family.QWEN2_MOE, Family.QWEN3_MOE}) {
            ModelConfig c = read(f, n -> {
                n.put("num_hidden_layers", 7);
                n.put("decoder_sparse_step", 3);
            });
            assertThat(java.util.stream.IntStream.range(0, 7).filter(c::isMoe).toArray()).as(f.name())
                    .containsExactly(2, 5);
            ModelConfig only = read(f, n -> {
                n.put("num_hidden_layers", 7);
                n.put("decoder_sparse_step", 3);
                n.putArray("mlp_only_layers").add(5).add(4);
            });
            assertThat(java.util.stream.IntStream.range(0, 7).filter(only::isMoe).toArray()).as(f.name())
                    .containsExactly(2);
        }
    }

    @Test
    void integersPastAnIntAreCalledTooLarge() throws IOException {
        assertRefused(Family.MIXTRAL, c -> c.put("hidden_size", 1099511627776L),
                "hidden_size 1099511627776 is too large (the limit is 2147483647)");
        assertRefused(Family.MIXTRAL, c -> c.put("num_hidden_layers", new BigInteger("99999999999999999999")),
                "num_hidden_layers 99999999999999999999 is too large (the limit is 2147483647)");
        assertRefused(Family.MIXTRAL, c -> c.put("num_hidden_layers", 2147483648L),
                "num_hidden_layers 2147483648 is too large (the limit is 2147483647)");
        assertRefused(Family.MIXTRAL, c -> c.put("hidden_size", -1099511627776L),
                "hidden_size must be a non-negative integer, got -1099511627776");
        assertRefused(Family.MIXTRAL, c -> c.put("hidden_size", 16.5),
                "hidden_size must be a non-negative integer, got 16.5");
        assertThat(read(Family.MIXTRAL, c -> c.put("num_hidden_layers", Integer.MAX_VALUE)).layers())
                .isEqualTo(Integer.MAX_VALUE);
    }
}
