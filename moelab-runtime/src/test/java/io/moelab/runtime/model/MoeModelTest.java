package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The runtime against the float64 reference, for every family and stored type. */
class MoeModelTest {
    private static final int[] TOKENS = {3, 17, 42, 0, 49, 8, 8, 21};

    @TempDir
    Path tmp;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Family f : Family.values()) {
            for (DType d : DType.values()) {
                out.add(Arguments.of(f, d));
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void logitsMatchTheFloat64Reference(Family family, DType dtype) throws Exception {
        TinyModel tiny = TinyModel.create(family, dtype, 11 + family.ordinal() * 7L + dtype.ordinal());
        Path dir = tiny.write(tmp.resolve(family + "-" + dtype));
        double[][] expected = new ReferenceForward(tiny).logits(TOKENS);
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            float[][] actual = model.logits(TOKENS);
            for (int t = 0; t < TOKENS.length; t++) {
                double scale = 0;
                for (double v : expected[t]) {
                    scale = Math.max(scale, Math.abs(v));
                }
                for (int i = 0; i < expected[t].length; i++) {
                    assertThat((double) actual[t][i]).as("%s %s position %d logit %d", family, dtype, t, i)
                            .isCloseTo(expected[t][i], org.assertj.core.data.Offset.offset(1e-4 * scale));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void tokenByTokenDecodingEqualsBatchedPrefill(Family family, DType dtype) throws Exception {
        TinyModel tiny = TinyModel.create(family, dtype, 5);
        Path dir = tiny.write(tmp.resolve("m"));
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            CompiledKernels.assertSameOnceCompiled(() -> model.logits(TOKENS),
                    () -> CompiledKernels.decoded(model, TOKENS), family + " " + dtype + ": decoding against prefill");
            // A prompt prefilled in two chunks, then decoded, equals the whole sequence at once.
            CompiledKernels.assertSameOnceCompiled(() -> {
                float[][] batched = model.logits(TOKENS);
                return new float[][] {batched[5], batched[6]};
            }, () -> {
                KvCache split = model.newCache(TOKENS.length);
                model.prefill(java.util.Arrays.copyOf(TOKENS, 3), 0, split, false);
                float[][] rest = model.prefill(java.util.Arrays.copyOfRange(TOKENS, 3, 6), 3, split, true);
                return new float[][] {rest[2], model.forward(TOKENS[6], 6, split)};
            }, family + " " + dtype + ": a prompt in two chunks");
        }
    }

    /**
     * Every tensor a model uses is resident, so an F32 model without unused tensors holds 4 bytes per parameter of
     * its checkpoint: norms, attention biases, q/k norms and Qwen2-MoE's shared-expert gate included. The layer
     * norms, biases and shared-expert gates used to be left out (bench's resident weights of a tiny dense Qwen2-MoE
     * model were 32 parameters short of its parameter count: two norms and q/k/v biases of 8, 4 and 4).
     */
    @Test
    void residentBytesCountEveryTensorTheModelHolds() throws Exception {
        for (Family family : Family.values()) {
            // attention_bias: Qwen3-MoE's and OLMoE's q/k/v/o biases (Qwen2-MoE has q/k/v by default).
            TinyModel tiny = TinyModel.create(family, DType.F32, 7, false, c -> c.put("attention_bias", true));
            Path dir = tiny.write(tmp.resolve("resident-" + family));
            long parameters = tiny.weights.values().stream().mapToLong(v -> v.length).sum();
            try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
                assertThat(model.weightBytes()).as("%s", family).isEqualTo(4 * parameters);
            }
            io.moelab.runtime.bench.WeightAccounting a = io.moelab.runtime.bench.WeightAccounting.of(dir,
                    WeightFormat.STORED);
            assertThat(a.parameters()).as("%s", family).isEqualTo(parameters);
            assertThat(a.residentBytes()).as("%s", family).isEqualTo(4 * parameters);
        }
    }

    /**
     * The RMSNorm epsilon takes part in every norm: the layers' and the final one, Qwen3-MoE's per-head q/k norms and
     * OLMoE's whole-projection ones. With the tiny models' 1e-5 it moves the logits by about a millionth of their
     * size, far inside the reference test's tolerance, so a norm that dropped it passed; an epsilon of the order of
     * the activations' mean square changes the logits by a tenth of their size or more.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Family.class)
    void aLargeNormEpsilonIsAppliedAsTheReferenceAppliesIt(Family family) throws Exception {
        TinyModel tiny = TinyModel.create(family, DType.F32, 23, false, c -> c.put("rms_norm_eps", 2.0));
        TinyModel usual = TinyModel.create(family, DType.F32, 23);
        double[][] expected = new ReferenceForward(tiny).logits(TOKENS);
        double[][] smallEps = new ReferenceForward(usual).logits(TOKENS);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("eps")), WeightFormat.STORED)) {
            float[][] prefilled = model.logits(TOKENS);
            float[][] decoded = CompiledKernels.decoded(model, TOKENS);
            double scale = 0;
            double apart = 0;
            for (int t = 0; t < TOKENS.length; t++) {
                for (int i = 0; i < expected[t].length; i++) {
                    scale = Math.max(scale, Math.abs(expected[t][i]));
                    apart = Math.max(apart, Math.abs(expected[t][i] - smallEps[t][i]));
                }
            }
            assertThat(apart).as("%s: the epsilon's effect", family).isGreaterThan(0.1 * scale);
            for (int t = 0; t < TOKENS.length; t++) {
                for (int i = 0; i < expected[t].length; i++) {
                    org.assertj.core.data.Offset<Double> near = org.assertj.core.data.Offset.offset(1e-4 * scale);
                    assertThat((double) prefilled[t][i]).as("%s prefill position %d logit %d", family, t, i)
                            .isCloseTo(expected[t][i], near);
                    assertThat((double) decoded[t][i]).as("%s decode position %d logit %d", family, t, i)
                            .isCloseTo(expected[t][i], near);
                }
            }
        }
    }

    /**
     * Router logits in the thousands route as the reference's softmax does (one expert takes nearly all the weight):
     * computed without subtracting the largest logit first, the exponentials overflow, and a mutation that added it
     * instead passed every test whose router logits were near 1.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Family.class)
    void routerLogitsInTheThousandsRouteAsTheReferenceDoes(Family family) throws Exception {
        TinyModel tiny = TinyModel.create(family, DType.F32, 29);
        for (int l = 0; l < 3; l++) {
            double[] router = tiny.weights.get(family.router(l));
            if (router != null) {
                for (int i = 0; i < router.length; i++) {
                    router[i] *= 5000;
                }
            }
        }
        double[][] expected = new ReferenceForward(tiny).logits(TOKENS);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("loud")), WeightFormat.STORED)) {
            float[][] prefilled = model.logits(TOKENS);
            float[][] decoded = CompiledKernels.decoded(model, TOKENS);
            for (int t = 0; t < TOKENS.length; t++) {
                double scale = 0;
                for (double v : expected[t]) {
                    scale = Math.max(scale, Math.abs(v));
                }
                org.assertj.core.data.Offset<Double> near = org.assertj.core.data.Offset.offset(1e-4 * scale);
                for (int i = 0; i < expected[t].length; i++) {
                    assertThat((double) prefilled[t][i]).as("%s prefill position %d logit %d", family, t, i)
                            .isCloseTo(expected[t][i], near);
                    assertThat((double) decoded[t][i]).as("%s decode position %d logit %d", family, t, i)
                            .isCloseTo(expected[t][i], near);
                }
            }
        }
    }

    /**
     * Routing picks the k most probable experts, most probable first, and among equal probabilities the lower index
     * first, as the reference's stable sort does: a router whose logits tie (zero rows, duplicated experts) then
     * runs the same experts and reports them in the same order. Hand cases: taking the last of equals instead
     * passed every model test, whose random routers never tie.
     */
    @Test
    void topKTakesTheLargestFirstAndEqualsInIndexOrder() {
        assertThat(MoeModel.topK(new double[] {0.25, 0.25, 0.25, 0.25}, 2)).containsExactly(0, 1);
        assertThat(MoeModel.topK(new double[] {0.1, 0.3, 0.3, 0.2, 0.3}, 4)).containsExactly(1, 2, 4, 3);
        assertThat(MoeModel.topK(new double[] {0.5, 0.1, 0.4}, 3)).containsExactly(0, 2, 1);
        assertThat(MoeModel.topK(new double[] {0.0, 0.0, 1.0}, 1)).containsExactly(2);
    }

    @Test
    void routingIsReportedPerMoeLayer() throws Exception {
        TinyModel tiny = TinyModel.create(Family.QWEN3_MOE, DType.F32, 3);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            List<Integer> layers = new ArrayList<>();
            model.routingListener((layer, experts) -> {
                layers.add(layer);
                assertThat(experts).hasSize(2).doesNotHaveDuplicates();
            });
            model.logits(new int[] {1, 2, 3});
            // decoder_sparse_step 2: only layer 1 of 3 is MoE.
            assertThat(layers).containsExactly(1, 1, 1);
        }
    }

    /**
     * Decoding token by token reports the same routing as a prefill of the same tokens (the recorder of a generation
     * hears the decoding path): every MoE layer, each token's experts in the same order.
     */
    @Test
    void decodingReportsTheRoutingAPrefillReports() throws Exception {
        TinyModel tiny = TinyModel.create(Family.QWEN2_MOE, DType.F32, 5);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            List<String> batched = new ArrayList<>();
            model.routingListener((layer, experts) -> batched.add(layer + " " + java.util.Arrays.toString(experts)));
            model.logits(TOKENS);
            List<String> decoded = new ArrayList<>();
            model.routingListener((layer, experts) -> decoded.add(layer + " " + java.util.Arrays.toString(experts)));
            CompiledKernels.decoded(model, TOKENS);
            // A prefill reports layer by layer, decoding token by token: the same routing per layer.
            assertThat(decoded).hasSize(batched.size()).isNotEmpty();
            for (int layer = 0; layer < 3; layer++) {
                String l = layer + " ";
                assertThat(decoded.stream().filter(e -> e.startsWith(l)).toList()).as("layer %d", layer)
                        .isEqualTo(batched.stream().filter(e -> e.startsWith(l)).toList());
            }
        }
    }

    /**
     * Token ids are checked against the vocabulary at both ends, before the cache changes; a prefill of no tokens
     * gives no logits and leaves the cache as it was.
     */
    @Test
    void tokenIdsOutsideTheVocabularyAreRefusedAndNoTokensChangeNothing() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 2);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            KvCache cache = model.newCache(8);
            model.prefill(new int[] {1, 2, 3}, 0, cache, true);
            for (int bad : new int[] {50, -1, Integer.MAX_VALUE}) {
                String message = "token id " + bad + " outside the vocabulary [0, 50)";
                assertThatThrownBy(() -> model.forward(bad, 3, cache)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage(message);
                assertThatThrownBy(() -> model.prefill(new int[] {4, bad}, 1, cache, true))
                        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
                assertThat(cache.filled()).isEqualTo(3);
            }
            assertThat(model.prefill(new int[0], 3, cache, true)).isEmpty();
            assertThat(cache.filled()).isEqualTo(3);
            // The last id is a token.
            assertThat(model.forward(49, 3, cache)).isEqualTo(model.logits(new int[] {1, 2, 3, 49})[3]);
        }
    }

    @Test
    void tiedEmbeddingsReplaceAStoredLmHead() throws Exception {
        // transformers ties the output projection to the embedding after loading, so a checkpoint's own
        // lm_head.weight (TinyModel always writes one) takes no part in the logits.
        TinyModel tiny = TinyModel.create(Family.QWEN3_MOE, DType.F32, 9, false,
                c -> c.put("tie_word_embeddings", true));
        Path dir = tiny.write(tmp.resolve("tied"));
        java.util.Map<String, double[]> tied = new java.util.LinkedHashMap<>(tiny.weights);
        tied.put("lm_head.weight", tiny.weights.get("model.embed_tokens.weight"));
        double[][] expected = new ReferenceForward(tiny, tied).logits(TOKENS);
        double[][] withLmHead = new ReferenceForward(tiny).logits(TOKENS);
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            float[][] actual = model.logits(TOKENS);
            double scale = 0;
            double apart = 0;
            for (int t = 0; t < TOKENS.length; t++) {
                for (int i = 0; i < expected[t].length; i++) {
                    scale = Math.max(scale, Math.abs(expected[t][i]));
                    apart = Math.max(apart, Math.abs(expected[t][i] - withLmHead[t][i]));
                }
            }
            // The two heads give logits far apart, so matching one is not matching both.
            assertThat(apart).isGreaterThan(0.1 * scale);
            for (int t = 0; t < TOKENS.length; t++) {
                for (int i = 0; i < expected[t].length; i++) {
                    assertThat((double) actual[t][i]).as("position %d logit %d", t, i)
                            .isCloseTo(expected[t][i], org.assertj.core.data.Offset.offset(1e-4 * scale));
                }
            }
        }
    }

    /** Loading a tiny model of {@code family} whose config.json {@code edit} rewrote fails naming every text given. */
    private void assertConfigRefused(Family family, UnaryOperator<String> edit, String... mentions) throws Exception {
        Path dir = TinyModel.create(family, DType.F32, 1)
                .write(tmp.resolve("m-" + family + "-" + Integer.toHexString(mentions[0].hashCode())));
        Files.writeString(dir.resolve("config.json"), edit.apply(Files.readString(dir.resolve("config.json"))));
        var thrown = assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.STORED))
                .isInstanceOf(ModelFormatException.class);
        for (String text : mentions) {
            thrown.hasMessageContaining(text);
        }
    }

    @Test
    void checkpointThatDisagreesWithConfigNamesFileAndTensor() throws Exception {
        assertConfigRefused(Family.MIXTRAL, c -> c.replace("\"intermediate_size\" : 12", "\"intermediate_size\" : 13"),
                "model.safetensors", "block_sparse_moe.experts.0.w1.weight", "[12, 16]", "[13, 16]");
        assertConfigRefused(Family.MIXTRAL, c -> c.replace("\"mixtral\"", "\"gpt_oss\""), "config.json", "gpt_oss");
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        TinyModel tiny = TinyModel.create(Family.OLMOE, DType.BF16, 1);
        tiny.weights.remove("model.layers.2.self_attn.k_norm.weight");
        tiny.shapes.remove("model.layers.2.self_attn.k_norm.weight");
        Path dir = tiny.write(tmp.resolve("m"));
        // The file that should have listed it (the issue: corrupt input names the file and the tensor), not the
        // directory: the single file, or the index of a sharded checkpoint.
        assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.STORED)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("model.safetensors")
                        + ": tensor model.layers.2.self_attn.k_norm.weight: missing from the checkpoint");
        Map<String, String> weightMap = new LinkedHashMap<>();
        tiny.weights.keySet().forEach(name -> weightMap.put(name, "model.safetensors"));
        SafetensorsWriter.writeIndex(dir, weightMap);
        assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.STORED)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("model.safetensors.index.json")
                        + ": tensor model.layers.2.self_attn.k_norm.weight: missing from the checkpoint");
    }

    @Test
    void aConfigWithAByteOrderMarkLoads() throws Exception {
        Path dir = TinyModel.create(Family.MIXTRAL, DType.F32, 1).write(tmp.resolve("bom"));
        Path config = dir.resolve("config.json");
        ModelConfig without = ModelConfig.read(config);
        Files.writeString(config, "\uFEFF" + Files.readString(config));
        assertThat(Files.readString(config)).startsWith("\uFEFF");
        assertThat(ModelConfig.read(config)).isEqualTo(without);
        try (MoeModel m = MoeModel.load(dir, WeightFormat.STORED)) {
            assertThat(m.config().layers()).isEqualTo(3);
        }
    }

    @Test
    void configSizesThatTheCheckpointDoesNotBackAreRefusedBeforeAllocating() throws Exception {
        // Two billion layers once meant an array of two billion before the first missing tensor was noticed.
        assertConfigRefused(Family.QWEN3_MOE, c -> c.replace("\"num_hidden_layers\" : 3",
                "\"num_hidden_layers\" : 2000000000"), "model.layers.1999999999.input_layernorm.weight", "missing");
        // Heads times head dimension past an int: named, not wrapped around into a shape that merely disagrees.
        assertConfigRefused(Family.QWEN3_MOE, c -> c.replace("\"num_attention_heads\" : 4",
                "\"num_attention_heads\" : 1000000000").replace("\"num_key_value_heads\" : 2",
                "\"num_key_value_heads\" : 1"), "config.json",
                "num_attention_heads x head_dim = 1000000000 x 6 is more rows than a projection");
    }
}
