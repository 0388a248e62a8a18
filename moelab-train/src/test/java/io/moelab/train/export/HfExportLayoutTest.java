package io.moelab.train.export;

import ai.djl.ndarray.NDManager;
import io.moelab.runtime.safetensors.SafetensorsFile;
import io.moelab.runtime.safetensors.TensorInfo;
import io.moelab.runtime.tensor.DType;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.engine.Pytorch;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.MoeTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exported checkpoint's layout against Hugging Face's {@code qwen3_moe} (Qwen3MoeForCausalLM's state dict, the
 * experts one tensor each), written out by hand: every tensor name and shape, F32, and the config.json and
 * tokenizer_config.json values. ExportParityTest checks that moelab's runtime computes the same logits, which an
 * extra tensor, or a key the runtime defaults but transformers reads otherwise, would not show.
 */
class HfExportLayoutTest {
    @TempDir
    Path dir;

    @Test
    void tensorsAndConfigAreQwen3MoesLayout() throws Exception {
        // Every dimension distinct, so that a transposed shape shows: d 32, 4 heads of 8, 2 KV heads, 3 experts of 48.
        ModelSpec spec = new ModelSpec(TokenStreams.VOCAB, 2, 32, 4, 2, 3, 2, 48, true, 5000, 1e-5);
        Map<String, long[]> expected = new TreeMap<>();
        expected.put("model.embed_tokens.weight", new long[] {258, 32});
        expected.put("model.norm.weight", new long[] {32});
        expected.put("lm_head.weight", new long[] {258, 32});
        for (int l = 0; l < 2; l++) {
            String p = "model.layers." + l + ".";
            expected.put(p + "input_layernorm.weight", new long[] {32});
            expected.put(p + "post_attention_layernorm.weight", new long[] {32});
            expected.put(p + "self_attn.q_proj.weight", new long[] {32, 32});
            expected.put(p + "self_attn.k_proj.weight", new long[] {16, 32});
            expected.put(p + "self_attn.v_proj.weight", new long[] {16, 32});
            expected.put(p + "self_attn.o_proj.weight", new long[] {32, 32});
            expected.put(p + "self_attn.q_norm.weight", new long[] {8});
            expected.put(p + "self_attn.k_norm.weight", new long[] {8});
            expected.put(p + "mlp.gate.weight", new long[] {3, 32});
            for (int e = 0; e < 3; e++) {
                expected.put(p + "mlp.experts." + e + ".gate_proj.weight", new long[] {48, 32});
                expected.put(p + "mlp.experts." + e + ".up_proj.weight", new long[] {48, 32});
                expected.put(p + "mlp.experts." + e + ".down_proj.weight", new long[] {32, 48});
            }
        }
        float[] stackedDown;
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            MoeTransformer model = new MoeTransformer(spec, m, 7);
            stackedDown = model.parameters().get("model.layers.1.mlp.experts.down_proj").toFloatArray();
            HfExport.write(model, dir.resolve("model"), 96, Map.of("preset", "test"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model/model.safetensors"))) {
            Map<String, long[]> actual = new TreeMap<>();
            for (TensorInfo t : f.tensors().values()) {
                assertThat(t.dtype()).as(t.name()).isEqualTo(DType.F32);
                actual.put(t.name(), t.shape());
            }
            assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
            expected.forEach((name, shape) -> assertThat(actual.get(name)).as(name).containsExactly(shape));
            // Expert 2 of layer 1 is the third block of the stacked (experts, d, F) tensor.
            float[] down2 = f.segment("model.layers.1.mlp.experts.2.down_proj.weight")
                    .toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            assertThat(down2).containsExactly(Arrays.copyOfRange(stackedDown, 2 * 32 * 48, 3 * 32 * 48));
        }
        JsonMapper json = JsonMapper.builder().build();
        JsonNode c = json.readTree(dir.resolve("model/config.json").toFile());
        assertThat(c.get("architectures").get(0).asString()).isEqualTo("Qwen3MoeForCausalLM");
        assertThat(c.get("model_type").asString()).isEqualTo("qwen3_moe");
        Map<String, Number> numbers = Map.ofEntries(Map.entry("vocab_size", 258), Map.entry("hidden_size", 32),
                Map.entry("num_hidden_layers", 2), Map.entry("num_attention_heads", 4),
                Map.entry("num_key_value_heads", 2), Map.entry("head_dim", 8), Map.entry("moe_intermediate_size", 48),
                Map.entry("num_experts", 3), Map.entry("num_experts_per_tok", 2), Map.entry("decoder_sparse_step", 1),
                Map.entry("rope_theta", 5000.0), Map.entry("rms_norm_eps", 1e-5), Map.entry("bos_token_id", 256),
                Map.entry("eos_token_id", 257), Map.entry("max_position_embeddings", 96));
        numbers.forEach((k, v) -> assertThat(c.get(k).asDouble()).as(k).isEqualTo(v.doubleValue()));
        assertThat(c.get("norm_topk_prob").asBoolean()).isTrue();
        assertThat(c.get("tie_word_embeddings").asBoolean()).isFalse();
        assertThat(c.get("attention_bias").asBoolean()).isFalse();
        assertThat(c.get("mlp_only_layers").isEmpty()).isTrue();
        assertThat(c.get("hidden_act").asString()).isEqualTo("silu");
        assertThat(c.get("torch_dtype").asString()).isEqualTo("float32");
        assertThat(c.get("moelab").get("preset").asString()).isEqualTo("test");
        // transformers reads intermediate_size for layers without experts (none here): the experts' size.
        assertThat(c.get("intermediate_size").asInt()).isEqualTo(48);
        // Nothing else: a key transformers reads that these lines do not check would go unseen.
        assertThat(c.propertyNames()).containsExactlyInAnyOrder("architectures", "model_type", "vocab_size",
                "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
                "intermediate_size", "moe_intermediate_size", "num_experts", "num_experts_per_tok", "norm_topk_prob",
                "decoder_sparse_step", "mlp_only_layers", "hidden_act", "attention_bias", "rope_theta",
                "rms_norm_eps", "max_position_embeddings", "tie_word_embeddings", "bos_token_id", "eos_token_id",
                "torch_dtype", "moelab");
        JsonNode t = json.readTree(dir.resolve("model/tokenizer_config.json").toFile());
        assertThat(t.get("tokenizer_class").asString()).isEqualTo("moelab.ByteTokenizer");
        assertThat(t.get("description").asString()).isEqualTo("byte-level: ids 0-255 are the bytes of the UTF-8 "
                + "text, 256 is BOS, 257 is EOS");
        assertThat(t.propertyNames()).hasSize(6);
        assertThat(t.get("vocab_size").asInt()).isEqualTo(258);
        assertThat(t.get("bos_token_id").asInt()).isEqualTo(256);
        assertThat(t.get("eos_token_id").asInt()).isEqualTo(257);
        assertThat(t.get("add_bos_token").asBoolean()).isTrue();
    }

    /** Without extra keys there is no {@code "moelab"} object; a context below 1 is refused, 1 taken. */
    @Test
    void configWithoutExtrasAndTheSmallestContext() {
        ModelSpec spec = new ModelSpec(TokenStreams.VOCAB, 1, 8, 2, 2, 2, 1, 4, false, 10000, 1e-6);
        assertThat(HfExport.config(spec, 1, Map.of()).has("moelab")).isFalse();
        assertThat(HfExport.config(spec, 1, Map.of()).get("max_position_embeddings").asInt()).isEqualTo(1);
        assertThat(HfExport.config(spec, 1, Map.of()).get("norm_topk_prob").asBoolean()).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HfExport.config(spec, 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("context must be at least 1, got 0");
    }
}
