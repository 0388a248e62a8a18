package io.moelab.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.moelab.runtime.tokenizer.ByteTokenizer;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.engine.Pytorch;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.MoeTransformer;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ValidationTest {
    /**
     * A batch of 0 windows was taken, and run() then looped for ever on its first domain (its chunks advance by the
     * batch); a window of another length than seq + 1 failed the forward pass with an index out of bounds.
     */
    @Test
    void refusesWhatItCannotEvaluate() {
        Map<String, int[][]> windows = Map.of("a", new int[][] {{256, 1, 2, 3}});
        assertThatThrownBy(() -> new Validation(windows, 3, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("batch must be at least 1, got 0");
        assertThatThrownBy(() -> new Validation(windows, 0, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("seq must be at least 1, got 0");
        assertThatThrownBy(() -> new Validation(windows, 4, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window 1 of domain a has 4 tokens, not seq + 1 = 5");
        Map<String, int[][]> withNull = new HashMap<>();
        withNull.put("a", null);
        assertThatThrownBy(() -> new Validation(withNull, 3, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain a has no windows (null)");
        // The least of each: one predicted token a window, one window a pass.
        new Validation(Map.of("a", new int[][] {{256, 1}}), 1, 1);
    }

    /** The logit every position gives token {@code v}, by construction of the model below. */
    private static double logit(int v) {
        return v == ByteTokenizer.BOS ? 2.0 : v == ByteTokenizer.EOS ? -1.0 : (v % 7) * 0.3 - 0.5;
    }

    /**
     * Loss, bits per byte (overall and by domain) and routing counts against a hand computation, on a model whose
     * prediction is the same fixed distribution softmax(logit) at every position: embeddings all 1, attention and
     * expert outputs zero (their output projections are), the output projection's row v summing to logit(v). The
     * zero router ties, and top-1 takes expert 0. Targets are each window's tokens 1..seq; BOS and EOS targets count
     * in the loss and not in bits per byte.
     */
    @Test
    void lossAndBitsPerByteByHand() {
        ModelSpec spec = new ModelSpec(TokenStreams.VOCAB, 1, 8, 2, 2, 2, 1, 4, false, 10000, 1e-6);
        int bos = ByteTokenizer.BOS;
        int eos = ByteTokenizer.EOS;
        Map<String, int[][]> windows = new LinkedHashMap<>();
        windows.put("x", new int[][] {{bos, 65, 66, eos, bos}, {67, eos, bos, 0, 255}});
        windows.put("y", new int[][] {{bos, 200, 201, 202, 203}});
        // Four windows: two in each half, so that a pass of two or three windows holds more than one.
        windows.put("z", new int[][] {{bos, 1, 2, 3, 4}, {5, 6, eos, 8, 9}, {10, 11, 12, 13, 14},
                {15, 16, 17, 18, 19}});
        double lse = 0;
        for (int v = 0; v < spec.vocab(); v++) {
            lse += Math.exp(logit(v));
        }
        lse = Math.log(lse);
        double xAll = 0;
        double xBytes = 0;
        for (int t : new int[] {65, 66, eos, bos, eos, bos, 0, 255}) {
            xAll += lse - logit(t);
            xBytes += t < 256 ? lse - logit(t) : 0;
        }
        double yBytes = 0;
        for (int t : new int[] {200, 201, 202, 203}) {
            yBytes += lse - logit(t);
        }
        double zAll = 0;
        double zBytes = 0;
        for (int t : new int[] {1, 2, 3, 4, 6, eos, 8, 9, 11, 12, 13, 14, 16, 17, 18, 19}) {
            zAll += lse - logit(t);
            zBytes += t < 256 ? lse - logit(t) : 0;
        }
        double ln2 = Math.log(2);
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            MoeTransformer model = new MoeTransformer(spec, m, 1);
            for (Map.Entry<String, NDArray> e : model.parameters().all().entrySet()) {
                String name = e.getKey();
                NDArray p = e.getValue();
                if (name.endsWith("norm.weight") || name.endsWith("layernorm.weight")) {
                    continue; // 1
                }
                p.muli(0);
                if (name.equals("model.embed_tokens.weight")) {
                    p.addi(1);
                } else if (name.equals("lm_head.weight")) {
                    float[] rows = new float[spec.vocab() * spec.dModel()];
                    for (int v = 0; v < spec.vocab(); v++) {
                        for (int j = 0; j < spec.dModel(); j++) {
                            rows[v * spec.dModel() + j] = (float) (logit(v) / spec.dModel());
                        }
                    }
                    try (NDArray a = m.create(rows, p.getShape())) {
                        p.addi(a);
                    }
                }
            }
            for (int batch : new int[] {1, 2, 3}) {
                Validation.Result r = new Validation(windows, 4, batch).run(model, m);
                // RMSNorm of a row of ones is 1 / sqrt(1 + eps): within 1e-6 of the logits set.
                assertThat(r.loss()).as("batch %d", batch).isCloseTo((xAll + yBytes + zAll) / 28, within(1e-5));
                assertThat(r.bitsPerByte()).isCloseTo((xBytes + yBytes + zBytes) / ln2 / 23, within(1e-5));
                assertThat(r.bitsPerByteByDomain()).containsOnlyKeys("x", "y", "z");
                assertThat(r.bitsPerByteByDomain().get("z")).isCloseTo(zBytes / ln2 / 15, within(1e-5));
                assertThat(r.bitsPerByteByDomain().get("x")).isCloseTo(xBytes / ln2 / 4, within(1e-5));
                assertThat(r.bitsPerByteByDomain().get("y")).isCloseTo(yBytes / ln2 / 4, within(1e-5));
                // Every input position once, to expert 0: x has 2 windows of 4, y one, z four.
                assertThat(r.routingByDomain().get("x")).isDeepEqualTo(new long[][] {{8, 0}});
                assertThat(r.routingByDomain().get("y")).isDeepEqualTo(new long[][] {{4, 0}});
                assertThat(r.routingByDomain().get("z")).isDeepEqualTo(new long[][] {{16, 0}});
                // All route alike; x's and z's halves alike, y's single window has no halves.
                assertThat(r.specialization().betweenDomains()).containsExactly(0.0);
                assertThat(r.specialization().withinDomain()).containsExactly(0.0);
            }
        }
    }
}
