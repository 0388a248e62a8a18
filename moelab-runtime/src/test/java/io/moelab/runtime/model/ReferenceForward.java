package io.moelab.runtime.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A naive float64 forward pass written from the Hugging Face modeling code of each family, over a whole
 * sequence at once (no KV cache), reading weights by their checkpoint names. It shares no code with the runtime.
 */
final class ReferenceForward {
    private final TinyModel m;
    private final Map<String, double[]> w;
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final double eps;
    private final double theta;

    ReferenceForward(TinyModel model) {
        this(model, model.weights);
    }

    /** The model's architecture with other weights (for example quantized ones). */
    ReferenceForward(TinyModel model, Map<String, double[]> weights) {
        this.m = model;
        this.w = weights;
        this.hidden = model.hidden();
        this.heads = model.config.get("num_attention_heads").asInt();
        this.kvHeads = model.config.get("num_key_value_heads").asInt();
        this.headDim = model.headDim();
        this.eps = model.config.get("rms_norm_eps").asDouble();
        this.theta = model.config.get("rope_theta").asDouble();
    }

    /** Logits of every position. */
    double[][] logits(int[] tokens) {
        int n = tokens.length;
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = row(w.get("model.embed_tokens.weight"), tokens[t], hidden);
        }
        for (int l = 0; l < m.config.get("num_hidden_layers").asInt(); l++) {
            String p = "model.layers." + l + ".";
            double[][] normed = new double[n][];
            for (int t = 0; t < n; t++) {
                normed[t] = rms(x[t], w.get(p + "input_layernorm.weight"));
            }
            double[][] attn = attention(p, normed);
            for (int t = 0; t < n; t++) {
                add(x[t], attn[t]);
                double[] h = rms(x[t], w.get(p + "post_attention_layernorm.weight"));
                add(x[t], m.moeLayer(l) ? moe(p, h) : mlp(p + "mlp.", "gate_proj", "up_proj", "down_proj", h));
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            out[t] = matvec(w.get("lm_head.weight"), rms(x[t], w.get("model.norm.weight")));
        }
        return out;
    }

    private double[][] attention(String p, double[][] x) {
        int n = x.length;
        String a = p + "self_attn.";
        double[][][] q = new double[n][][];
        double[][][] k = new double[n][][];
        double[][][] v = new double[n][][];
        for (int t = 0; t < n; t++) {
            double[] qa = matvec(w.get(a + "q_proj.weight"), x[t]);
            double[] ka = matvec(w.get(a + "k_proj.weight"), x[t]);
            double[] va = matvec(w.get(a + "v_proj.weight"), x[t]);
            if (w.containsKey(a + "q_proj.bias")) {
                add(qa, w.get(a + "q_proj.bias"));
                add(ka, w.get(a + "k_proj.bias"));
                add(va, w.get(a + "v_proj.bias"));
            }
            if (m.family == Family.OLMOE) { // norm over the whole projection, before the split into heads
                qa = rms(qa, w.get(a + "q_norm.weight"));
                ka = rms(ka, w.get(a + "k_norm.weight"));
            }
            q[t] = split(qa, heads);
            k[t] = split(ka, kvHeads);
            v[t] = split(va, kvHeads);
            for (int h = 0; h < heads; h++) {
                if (m.family == Family.QWEN3_MOE) {
                    q[t][h] = rms(q[t][h], w.get(a + "q_norm.weight"));
                }
                q[t][h] = rope(q[t][h], t);
            }
            for (int h = 0; h < kvHeads; h++) {
                if (m.family == Family.QWEN3_MOE) {
                    k[t][h] = rms(k[t][h], w.get(a + "k_norm.weight"));
                }
                k[t][h] = rope(k[t][h], t);
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] context = new double[heads * headDim];
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                double[] s = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= t; u++) {
                    s[u] = dot(q[t][h], k[u][g]) / Math.sqrt(headDim);
                    max = Math.max(max, s[u]);
                }
                double z = 0;
                for (int u = 0; u <= t; u++) {
                    s[u] = Math.exp(s[u] - max);
                    z += s[u];
                }
                for (int u = 0; u <= t; u++) {
                    for (int i = 0; i < headDim; i++) {
                        context[h * headDim + i] += s[u] / z * v[u][g][i];
                    }
                }
            }
            out[t] = matvec(w.get(a + "o_proj.weight"), context);
            if (w.containsKey(a + "o_proj.bias")) {
                add(out[t], w.get(a + "o_proj.bias"));
            }
        }
        return out;
    }

    private double[] moe(String p, double[] x) {
        boolean mixtral = m.family == Family.MIXTRAL;
        String router = mixtral ? p + "block_sparse_moe.gate.weight" : p + "mlp.gate.weight";
        double[] logits = matvec(w.get(router), x);
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double z = 0;
        double[] prob = new double[logits.length];
        for (int e = 0; e < prob.length; e++) {
            prob[e] = Math.exp(logits[e] - max);
            z += prob[e];
        }
        for (int e = 0; e < prob.length; e++) {
            prob[e] /= z;
        }
        int k = m.config.get("num_experts_per_tok").asInt();
        List<Integer> order = new ArrayList<>();
        for (int e = 0; e < prob.length; e++) {
            order.add(e);
        }
        order.sort((a, b) -> Double.compare(prob[b], prob[a]));
        List<Integer> top = order.subList(0, k);
        boolean norm = mixtral || m.config.get("norm_topk_prob").asBoolean();
        double topSum = top.stream().mapToDouble(e -> prob[e]).sum();
        double[] out = new double[hidden];
        for (int e : top) {
            double[] y = mixtral ? mlp(p + "block_sparse_moe.experts." + e + ".", "w1", "w3", "w2", x)
                    : mlp(p + "mlp.experts." + e + ".", "gate_proj", "up_proj", "down_proj", x);
            double weight = norm ? prob[e] / topSum : prob[e];
            for (int i = 0; i < hidden; i++) {
                out[i] += weight * y[i];
            }
        }
        if (w.containsKey(p + "mlp.shared_expert_gate.weight")) {
            double[] y = mlp(p + "mlp.shared_expert.", "gate_proj", "up_proj", "down_proj", x);
            double gate = 1 / (1 + Math.exp(-dot(w.get(p + "mlp.shared_expert_gate.weight"), x)));
            for (int i = 0; i < hidden; i++) {
                out[i] += gate * y[i];
            }
        }
        return out;
    }

    private double[] mlp(String prefix, String gate, String up, String down, double[] x) {
        double[] g = matvec(w.get(prefix + gate + ".weight"), x);
        double[] u = matvec(w.get(prefix + up + ".weight"), x);
        for (int i = 0; i < g.length; i++) {
            g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        return matvec(w.get(prefix + down + ".weight"), g);
    }

    /** Rotate-half RoPE: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin) with frequencies theta^(-2i/d). */
    private double[] rope(double[] x, int pos) {
        int half = x.length / 2;
        double[] out = new double[x.length];
        for (int i = 0; i < half; i++) {
            double angle = pos * Math.pow(theta, -2.0 * i / x.length);
            out[i] = x[i] * Math.cos(angle) - x[i + half] * Math.sin(angle);
            out[i + half] = x[i + half] * Math.cos(angle) + x[i] * Math.sin(angle);
        }
        return out;
    }

    private double[][] split(double[] v, int parts) {
        double[][] out = new double[parts][headDim];
        for (int h = 0; h < parts; h++) {
            System.arraycopy(v, h * headDim, out[h], 0, headDim);
        }
        return out;
    }

    private double[] rms(double[] x, double[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * weight[i];
        }
        return out;
    }

    private static double[] row(double[] matrix, int r, int cols) {
        double[] out = new double[cols];
        System.arraycopy(matrix, r * cols, out, 0, cols);
        return out;
    }

    private static double[] matvec(double[] matrix, double[] x) {
        int rows = matrix.length / x.length;
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < x.length; c++) {
                s += matrix[r * x.length + c] * x[c];
            }
            out[r] = s;
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void add(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
    }
}
