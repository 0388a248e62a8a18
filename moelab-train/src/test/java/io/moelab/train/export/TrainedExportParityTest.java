package io.moelab.train.export;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.safetensors.SafetensorsFile;
import io.moelab.runtime.tokenizer.ByteTokenizer;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.engine.Pytorch;
import io.moelab.train.loop.Checkpoints;
import io.moelab.train.loop.TrainConfig;
import io.moelab.train.loop.TrainListener;
import io.moelab.train.loop.Trainer;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.MoeTransformer;
import io.moelab.train.optim.AdamW;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model the trainer trained and exported, read three ways: by moelab-runtime, by the trainer's own DJL forward on
 * the run's last checkpoint, and by a plain double-precision forward written here from Hugging Face's Qwen3-MoE
 * semantics (softmax over all experts then top-k, optional renormalization, RMSNorm with the config's epsilon, q/k
 * norms per head before rotate-half RoPE, grouped-query attention, untied head) that reads only config.json and
 * model.safetensors. ExportParityTest compares the first two on an untrained model; here the weights went through
 * AdamW, the checkpoint and the export, and a convention the trainer and the runtime shared would still meet an
 * implementation that does not share their code.
 */
class TrainedExportParityTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "top-{0}, norm {1}, kv heads {2}, rope theta {3}, eps {4}")
    @CsvSource({"1, false, 2, 10000, 1e-6", "2, true, 1, 500, 1e-3"})
    void trainedExportReadsTheSameInRuntimeTrainerAndReference(int topK, boolean norm, int kvHeads, double theta,
                                                              double eps) throws Exception {
        TrainConfig t = TrainConfig.preset("tiny");
        ModelSpec spec = new ModelSpec(TokenStreams.VOCAB, 2, 64, 4, kvHeads, 8, topK, 128, norm, theta, eps);
        TrainConfig c = new TrainConfig("tiny", spec, 32, 8, 6, 1e-2, t.minLrRatio(), 2, t.weightDecay(),
                t.beta1(), t.beta2(), t.clip(), t.auxWeight(), t.zWeight(), t.capacityFactor(), 7, 3, 6, 1,
                t.corpus());
        Path out = dir.resolve("run");
        Trainer.start(c, out, TrainListener.NONE);
        Path model = out.resolve("model");

        JsonNode config = JsonMapper.builder().build().readTree(model.resolve("config.json").toFile());
        assertThat(config.get("model_type").asString()).isEqualTo("qwen3_moe");
        assertThat(config.get("vocab_size").asInt()).isEqualTo(spec.vocab());
        assertThat(config.get("hidden_size").asInt()).isEqualTo(spec.dModel());
        assertThat(config.get("num_hidden_layers").asInt()).isEqualTo(spec.layers());
        assertThat(config.get("num_attention_heads").asInt()).isEqualTo(spec.heads());
        assertThat(config.get("num_key_value_heads").asInt()).isEqualTo(spec.kvHeads());
        assertThat(config.get("head_dim").asInt()).isEqualTo(spec.headDim());
        assertThat(config.get("num_experts").asInt()).isEqualTo(spec.experts());
        assertThat(config.get("num_experts_per_tok").asInt()).isEqualTo(spec.topK());
        assertThat(config.get("moe_intermediate_size").asInt()).isEqualTo(spec.expertDim());
        assertThat(config.get("norm_topk_prob").asBoolean()).isEqualTo(spec.normTopK());
        assertThat(config.get("rope_theta").asDouble()).isEqualTo(spec.ropeTheta());
        assertThat(config.get("rms_norm_eps").asDouble()).isEqualTo(spec.rmsEps());
        assertThat(config.get("moelab").get("trained_steps").asInt()).isEqualTo(c.steps());
        // The context it was trained on (--seq), not Qwen3MoeConfig's default 32768 that its absence stands for.
        assertThat(config.get("max_position_embeddings").asInt()).isEqualTo(c.seq());

        // BOS, then text: the positions a prompt has at inference, past the training window (32) too, so past
        // max_position_embeddings, which neither transformers' forward nor the runtime's stops at.
        byte[] text = "The trainer writes what the runtime reads, at every position. ".repeat(4)
                .getBytes(StandardCharsets.UTF_8);
        int[] tokens = new int[text.length + 1];
        tokens[0] = ByteTokenizer.BOS;
        for (int i = 0; i < text.length; i++) {
            tokens[i + 1] = text[i] & 0xff;
        }

        Reference reference = new Reference(config, model.resolve("model.safetensors"));
        double[][] expected = reference.logits(tokens);

        float[] djl;
        Path ckpt = new Checkpoints(out).latest().orElseThrow();
        Checkpoints.State state = Checkpoints.readState(ckpt);
        assertThat(state.step()).isEqualTo(c.steps());
        try (NDManager m = Pytorch.engine().newBaseManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            MoeTransformer trained = new MoeTransformer(state.config().model(), m, 12345);
            AdamW optimizer = new AdamW(trained.parameters().all(), m, c.beta1(), c.beta2(), 1e-8, c.weightDecay());
            Checkpoints.restore(ckpt, state, trained.parameters().all(), optimizer);
            int[][] row = {Arrays.copyOf(tokens, tokens.length + 1)};
            djl = trained.forward(row, tokens.length, 0, m).logits().toFloatArray();
        }

        List<List<int[]>> routed = new ArrayList<>();
        for (int l = 0; l < spec.layers(); l++) {
            routed.add(new ArrayList<>());
        }
        float[][] runtime;
        try (MoeModel rt = MoeModel.load(model, WeightFormat.STORED)) {
            rt.routingListener((layer, experts) -> routed.get(layer).add(experts.clone()));
            runtime = rt.logits(tokens);
        }

        double maxAbs = 0;
        double runtimeDiff = 0;
        double djlDiff = 0;
        for (int p = 0; p < tokens.length; p++) {
            for (int v = 0; v < spec.vocab(); v++) {
                maxAbs = Math.max(maxAbs, Math.abs(expected[p][v]));
                runtimeDiff = Math.max(runtimeDiff, Math.abs(expected[p][v] - runtime[p][v]));
                djlDiff = Math.max(djlDiff, Math.abs(expected[p][v] - djl[p * spec.vocab() + v]));
            }
        }
        // Trained logits are far from zero; 1e-4 of the largest is issue 7's float32 bound.
        assertThat(maxAbs).isGreaterThan(1.0);
        assertThat(runtimeDiff / maxAbs).as("runtime vs reference, largest |logit| %.3f", maxAbs).isLessThan(1e-4);
        assertThat(djlDiff / maxAbs).as("trainer vs reference, largest |logit| %.3f", maxAbs).isLessThan(1e-4);

        // The same experts for every token and layer, most probable first, where the reference's k-th and next
        // probabilities are not so close that float rounding could order them either way.
        int compared = 0;
        for (int l = 0; l < spec.layers(); l++) {
            assertThat(routed.get(l)).hasSize(tokens.length);
            for (int p = 0; p < tokens.length; p++) {
                if (reference.margin[l][p] > 1e-5) {
                    assertThat(routed.get(l).get(p)).as("layer %d position %d", l, p)
                            .containsExactly(reference.choice[l][p]);
                    compared++;
                }
            }
        }
        assertThat(compared).isGreaterThan(spec.layers() * tokens.length * 9 / 10);
    }

    /** Hugging Face Qwen3-MoE's forward in doubles, on config.json and model.safetensors alone. */
    private static final class Reference {
        final int hidden;
        final int layers;
        final int heads;
        final int kvHeads;
        final int headDim;
        final int experts;
        final int topK;
        final boolean normTopK;
        final double theta;
        final double eps;
        final boolean tied;
        final SafetensorsFile weights;
        int[][][] choice;
        double[][] margin;

        Reference(JsonNode c, Path file) {
            hidden = c.get("hidden_size").asInt();
            layers = c.get("num_hidden_layers").asInt();
            heads = c.get("num_attention_heads").asInt();
            kvHeads = c.get("num_key_value_heads").asInt();
            headDim = c.has("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
            experts = c.get("num_experts").asInt();
            topK = c.get("num_experts_per_tok").asInt();
            normTopK = c.get("norm_topk_prob").asBoolean();
            theta = c.get("rope_theta").asDouble();
            eps = c.get("rms_norm_eps").asDouble();
            tied = c.get("tie_word_embeddings").asBoolean();
            weights = SafetensorsFile.open(file);
        }

        /** A weight as a (rows x cols) matrix of doubles. */
        double[][] matrix(String name) {
            long[] shape = weights.info(name).orElseThrow(() -> new AssertionError("no tensor " + name)).shape();
            float[] f = weights.segment(name).toArray(JAVA_FLOAT);
            int rows = (int) shape[0];
            int cols = shape.length == 1 ? 1 : (int) shape[1];
            double[][] m = new double[rows][cols];
            for (int r = 0; r < rows; r++) {
                for (int col = 0; col < cols; col++) {
                    m[r][col] = f[r * cols + col];
                }
            }
            return m;
        }

        double[] vector(String name) {
            float[] f = weights.segment(name).toArray(JAVA_FLOAT);
            double[] v = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                v[i] = f[i];
            }
            return v;
        }

        static double[] mul(double[][] w, double[] x) {
            double[] y = new double[w.length];
            for (int r = 0; r < w.length; r++) {
                double s = 0;
                for (int i = 0; i < x.length; i++) {
                    s += w[r][i] * x[i];
                }
                y[r] = s;
            }
            return y;
        }

        double[] rms(double[] x, int from, int len, double[] weight) {
            double ms = 0;
            for (int i = 0; i < len; i++) {
                ms += x[from + i] * x[from + i];
            }
            double inv = 1 / Math.sqrt(ms / len + eps);
            double[] y = new double[len];
            for (int i = 0; i < len; i++) {
                y[i] = x[from + i] * inv * weight[i];
            }
            return y;
        }

        /** Rotate-half RoPE: pairs (i, i + headDim/2), inverse frequency theta^(-2i/headDim). */
        double[] rope(double[] x, int position) {
            int half = headDim / 2;
            double[] y = new double[headDim];
            for (int i = 0; i < half; i++) {
                double a = position * Math.pow(theta, -2.0 * i / headDim);
                y[i] = x[i] * Math.cos(a) - x[i + half] * Math.sin(a);
                y[i + half] = x[i + half] * Math.cos(a) + x[i] * Math.sin(a);
            }
            return y;
        }

        double[][] logits(int[] tokens) {
            int n = tokens.length;
            choice = new int[layers][n][];
            margin = new double[layers][n];
            double[][] embed = matrix("model.embed_tokens.weight");
            double[][] h = new double[n][];
            for (int p = 0; p < n; p++) {
                h[p] = embed[tokens[p]].clone();
            }
            for (int l = 0; l < layers; l++) {
                String pre = "model.layers." + l + ".";
                double[] inNorm = vector(pre + "input_layernorm.weight");
                double[][] wq = matrix(pre + "self_attn.q_proj.weight");
                double[][] wk = matrix(pre + "self_attn.k_proj.weight");
                double[][] wv = matrix(pre + "self_attn.v_proj.weight");
                double[][] wo = matrix(pre + "self_attn.o_proj.weight");
                double[] qNorm = vector(pre + "self_attn.q_norm.weight");
                double[] kNorm = vector(pre + "self_attn.k_norm.weight");
                double[][][] q = new double[n][heads][];
                double[][][] k = new double[n][kvHeads][];
                double[][][] v = new double[n][kvHeads][];
                for (int p = 0; p < n; p++) {
                    double[] x = rms(h[p], 0, hidden, inNorm);
                    double[] qa = mul(wq, x);
                    double[] ka = mul(wk, x);
                    double[] va = mul(wv, x);
                    for (int a = 0; a < heads; a++) {
                        q[p][a] = rope(rms(qa, a * headDim, headDim, qNorm), p);
                    }
                    for (int a = 0; a < kvHeads; a++) {
                        k[p][a] = rope(rms(ka, a * headDim, headDim, kNorm), p);
                        v[p][a] = Arrays.copyOfRange(va, a * headDim, (a + 1) * headDim);
                    }
                }
                for (int p = 0; p < n; p++) {
                    double[] concat = new double[heads * headDim];
                    for (int a = 0; a < heads; a++) {
                        int kvHead = a / (heads / kvHeads);
                        double[] s = new double[p + 1];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j <= p; j++) {
                            double dot = 0;
                            for (int i = 0; i < headDim; i++) {
                                dot += q[p][a][i] * k[j][kvHead][i];
                            }
                            s[j] = dot / Math.sqrt(headDim);
                            max = Math.max(max, s[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j <= p; j++) {
                            s[j] = Math.exp(s[j] - max);
                            sum += s[j];
                        }
                        for (int j = 0; j <= p; j++) {
                            for (int i = 0; i < headDim; i++) {
                                concat[a * headDim + i] += s[j] / sum * v[j][kvHead][i];
                            }
                        }
                    }
                    double[] o = mul(wo, concat);
                    for (int i = 0; i < hidden; i++) {
                        h[p][i] += o[i];
                    }
                }
                double[] postNorm = vector(pre + "post_attention_layernorm.weight");
                double[][] gate = matrix(pre + "mlp.gate.weight");
                for (int p = 0; p < n; p++) {
                    double[] x = rms(h[p], 0, hidden, postNorm);
                    double[] logit = mul(gate, x);
                    double max = Arrays.stream(logit).max().orElseThrow();
                    double[] prob = new double[experts];
                    double sum = 0;
                    for (int e = 0; e < experts; e++) {
                        prob[e] = Math.exp(logit[e] - max);
                        sum += prob[e];
                    }
                    Integer[] order = new Integer[experts];
                    for (int e = 0; e < experts; e++) {
                        prob[e] /= sum;
                        order[e] = e;
                    }
                    Arrays.sort(order, (a, b) -> Double.compare(prob[b], prob[a]));
                    choice[l][p] = new int[topK];
                    double chosen = 0;
                    for (int r = 0; r < topK; r++) {
                        choice[l][p][r] = order[r];
                        chosen += prob[order[r]];
                    }
                    double gap = Double.POSITIVE_INFINITY;
                    for (int r = 0; r < Math.min(topK, experts - 1); r++) {
                        gap = Math.min(gap, prob[order[r]] - prob[order[r + 1]]);
                    }
                    margin[l][p] = gap;
                    for (int r = 0; r < topK; r++) {
                        int e = choice[l][p][r];
                        String ex = pre + "mlp.experts." + e + ".";
                        double[] g = mul(matrix(ex + "gate_proj.weight"), x);
                        double[] u = mul(matrix(ex + "up_proj.weight"), x);
                        for (int i = 0; i < g.length; i++) {
                            g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                        }
                        double[] y = mul(matrix(ex + "down_proj.weight"), g);
                        double w = normTopK ? prob[e] / chosen : prob[e];
                        for (int i = 0; i < hidden; i++) {
                            h[p][i] += w * y[i];
                        }
                    }
                }
            }
            double[] finalNorm = vector("model.norm.weight");
            double[][] head = matrix(tied ? "model.embed_tokens.weight" : "lm_head.weight");
            double[][] out = new double[n][];
            for (int p = 0; p < n; p++) {
                out[p] = mul(head, rms(h[p], 0, hidden, finalNorm));
            }
            weights.close();
            return out;
        }
    }
}
