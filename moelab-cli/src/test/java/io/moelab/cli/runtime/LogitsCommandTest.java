package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code moelab logits} writes what the model computes, and refuses bad input in one line. */
class LogitsCommandTest {
    @TempDir
    Path dir;

    /** A one-layer Mixtral-layout model: 20 tokens, hidden 8, 2 heads, 2 experts, top-1. */
    private Path tinyMixtral() throws Exception {
        Path m = dir.resolve("model");
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), """
                {"model_type": "mixtral", "vocab_size": 20, "hidden_size": 8, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 6,
                 "num_local_experts": 2, "num_experts_per_tok": 1, "rms_norm_eps": 1e-5, "rope_theta": 10000}
                """);
        Random r = new Random(1);
        SafetensorsWriter w = new SafetensorsWriter();
        add(w, r, "model.embed_tokens.weight", 20, 8);
        add(w, r, "model.layers.0.input_layernorm.weight", 8);
        add(w, r, "model.layers.0.post_attention_layernorm.weight", 8);
        add(w, r, "model.layers.0.self_attn.q_proj.weight", 8, 8);
        add(w, r, "model.layers.0.self_attn.k_proj.weight", 4, 8);
        add(w, r, "model.layers.0.self_attn.v_proj.weight", 4, 8);
        add(w, r, "model.layers.0.self_attn.o_proj.weight", 8, 8);
        add(w, r, "model.layers.0.block_sparse_moe.gate.weight", 2, 8);
        for (int e = 0; e < 2; e++) {
            String p = "model.layers.0.block_sparse_moe.experts." + e + ".";
            add(w, r, p + "w1.weight", 6, 8);
            add(w, r, p + "w3.weight", 6, 8);
            add(w, r, p + "w2.weight", 8, 6);
        }
        add(w, r, "model.norm.weight", 8);
        add(w, r, "lm_head.weight", 20, 8);
        w.write(m.resolve("model.safetensors"));
        return m;
    }

    private static void add(SafetensorsWriter w, Random r, String name, int... shape) {
        int n = 1;
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            n *= shape[i];
            s[i] = shape[i];
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.3 * r.nextGaussian());
        }
        w.add(name, DType.F32, s, v);
    }

    @Test
    void writesEveryPositionsLogits() throws Exception {
        Path model = tinyMixtral();
        Path out = dir.resolve("out.json");
        Result r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,5,9", "--output",
                out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode logits = JsonMapper.builder().build().readTree(out.toFile()).get("logits");
        assertThat(logits.size()).isEqualTo(3);
        float[][] expected;
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            expected = m.logits(new int[] {1, 5, 9});
        }
        for (int p = 0; p < 3; p++) {
            assertThat(logits.get(p).size()).isEqualTo(20);
            for (int i = 0; i < 20; i++) {
                assertThat(logits.get(p).get(i).floatValue()).isEqualTo(expected[p][i]);
            }
        }
    }

    @Test
    void badInputIsOneLineWithExitTwo() throws Exception {
        Path model = tinyMixtral();
        Path out = dir.resolve("out.json");
        Result vocab = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,20", "--output",
                out.toString());
        assertThat(vocab.exitCode()).isEqualTo(2);
        assertThat(vocab.err()).startsWith("error: ").contains("20").contains("vocabulary");
        Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3});
        Result corrupt = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1", "--output",
                out.toString());
        assertThat(corrupt.exitCode()).isEqualTo(2);
        assertThat(corrupt.err()).startsWith("error: ").contains("model.safetensors");
        assertThat(corrupt.err().strip().lines().count()).isEqualTo(1);
        assertThat(out).doesNotExist();
    }
}
