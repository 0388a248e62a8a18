package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * Attention biases are read exactly where transformers' attention module has them: never in Mixtral; Qwen2-MoE's q, k
 * and v by {@code qkv_bias} (default true), never its o; Qwen3-MoE's and OLMoE's q, k, v and o by
 * {@code attention_bias} (default false). A bias tensor the module lacks is ignored, as transformers ignores unused
 * weights; it used to be added whatever config.json said.
 */
class AttentionBiasTest {
    private static final int[] TOKENS = {3, 17, 42, 0, 49, 8};

    @TempDir
    Path tmp;

    private int written;

    /** Adds large biases to every projection of every layer, to the checkpoint only. */
    private static void strayBiases(TinyModel tiny) {
        int hd = tiny.headDim();
        int q = tiny.config.get("num_attention_heads").asInt() * hd;
        int kv = tiny.config.get("num_key_value_heads").asInt() * hd;
        for (int l = 0; l < tiny.config.get("num_hidden_layers").asInt(); l++) {
            String a = "model.layers." + l + ".self_attn.";
            for (String[] p : new String[][] {{"q_proj", "" + q}, {"k_proj", "" + kv}, {"v_proj", "" + kv},
                    {"o_proj", "" + tiny.hidden()}}) {
                if (!tiny.weights.containsKey(a + p[0] + ".bias")) {
                    tiny.stray(a + p[0] + ".bias", 25.0, Integer.parseInt(p[1]));
                }
            }
        }
    }

    private float[][] logits(TinyModel tiny) throws Exception {
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m" + written++)), WeightFormat.STORED)) {
            return model.logits(TOKENS);
        }
    }

    private static void assertMatchesReference(TinyModel tiny, float[][] actual) {
        double[][] expected = new ReferenceForward(tiny).logits(TOKENS);
        for (int t = 0; t < TOKENS.length; t++) {
            double scale = 0;
            for (double v : expected[t]) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < expected[t].length; i++) {
                assertThat((double) actual[t][i]).as("%s position %d logit %d", tiny.family, t, i)
                        .isCloseTo(expected[t][i], org.assertj.core.data.Offset.offset(1e-4 * scale));
            }
        }
    }

    /** Stray biases leave the logits bit for bit as they are without them, and they are the reference's. */
    private void assertStrayBiasesIgnored(Family family, Consumer<ObjectNode> edit) throws Exception {
        TinyModel clean = TinyModel.create(family, DType.F32, 21, false, edit);
        TinyModel stray = TinyModel.create(family, DType.F32, 21, false, edit);
        strayBiases(stray);
        assertThat(stray.strays).as(family.name()).isNotEmpty();
        float[][] expected = logits(clean);
        assertMatchesReference(clean, expected);
        assertThat(logits(stray)).as(family + " with stray biases " + stray.strays.keySet()).isEqualTo(expected);
    }

    @Test
    void mixtralIgnoresEveryAttentionBias() throws Exception {
        assertStrayBiasesIgnored(Family.MIXTRAL, c -> { });
    }

    @Test
    void qwen3MoeAndOlmoeIgnoreBiasesWithoutAttentionBias() throws Exception {
        for (Family f : new Family[] {Family.QWEN3_MOE, Family.OLMOE}) {
            assertStrayBiasesIgnored(f, c -> { });
            assertStrayBiasesIgnored(f, c -> c.put("attention_bias", false));
        }
    }

    @Test
    void qwen2MoeIgnoresAnOutputBiasAndQkvBiasesWhenQkvBiasIsFalse() throws Exception {
        // Default qkv_bias (true): q, k and v have biases (the fixture writes them), o never does.
        assertStrayBiasesIgnored(Family.QWEN2_MOE, c -> { });
        assertStrayBiasesIgnored(Family.QWEN2_MOE, c -> c.put("qkv_bias", false));
    }

    @Test
    void attentionBiasTrueReadsAllFourBiasesAndRequiresThem() throws Exception {
        for (Family f : new Family[] {Family.QWEN3_MOE, Family.OLMOE}) {
            TinyModel tiny = TinyModel.create(f, DType.F32, 23, false, c -> c.put("attention_bias", true));
            assertThat(tiny.weights).containsKeys("model.layers.0.self_attn.q_proj.bias",
                    "model.layers.0.self_attn.o_proj.bias");
            float[][] actual = logits(tiny);
            assertMatchesReference(tiny, actual);
            // Decoding token by token adds them on its own path (the output bias there was untested).
            try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("d" + written++)), WeightFormat.STORED)) {
                assertMatchesReference(tiny, CompiledKernels.decoded(model, TOKENS));
            }
            // The biases change the logits: matching the reference is not matching a model without them.
            TinyModel without = TinyModel.create(f, DType.F32, 23, false, c -> c.put("attention_bias", true));
            without.weights.keySet().removeIf(k -> k.endsWith("_proj.bias"));
            assertThat(new ReferenceForward(without).logits(TOKENS)[2][0])
                    .isNotCloseTo((double) actual[2][0], org.assertj.core.data.Offset.offset(1e-3));
            // A bias the config requires and the checkpoint lacks is refused by name (o's used to be optional).
            TinyModel missing = TinyModel.create(f, DType.F32, 23, false, c -> c.put("attention_bias", true));
            missing.weights.remove("model.layers.1.self_attn.o_proj.bias");
            Path dir = missing.write(tmp.resolve("missing-" + f));
            assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.STORED))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(dir.resolve("model.safetensors")
                            + ": tensor model.layers.1.self_attn.o_proj.bias: missing from the checkpoint");
        }
    }

    @Test
    void qwen2MoeRequiresItsQkvBiasesByDefault() throws Exception {
        TinyModel tiny = TinyModel.create(Family.QWEN2_MOE, DType.F32, 25);
        tiny.weights.remove("model.layers.2.self_attn.k_proj.bias");
        Path dir = tiny.write(tmp.resolve("no-k-bias"));
        assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.STORED)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("model.safetensors")
                        + ": tensor model.layers.2.self_attn.k_proj.bias: missing from the checkpoint");
    }

    @Test
    void biasFlagsMustBeBooleans() throws Exception {
        TinyModel tiny = TinyModel.create(Family.QWEN2_MOE, DType.F32, 1);
        tiny.config.put("qkv_bias", "yes");
        Path dir = tiny.write(tmp.resolve("flag"));
        assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.STORED)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("config.json") + ": qkv_bias must be true or false, got \"yes\"");
    }
}
