package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.generate.Perplexity;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Perplexity over texts longer than a window, against a naive float64 reference written here: each window is
 * its opening token (BOS, or the token before its first target) and its targets but the last, run through the
 * float64 reference forward pass; every target's -log softmax is summed once. Windows longer than the runtime's
 * 64-token prefill chunk cross a chunk boundary, where a target offset by one position would show.
 */
class PerplexityWindowsTest {
    @TempDir
    Path tmp;

    @Test
    void everyTokenIsScoredOnceAgainstTheNaiveReference() throws Exception {
        TinyModel tiny = TinyModel.create(Family.QWEN3_MOE, DType.F32, 21);
        int[] text = new int[150];
        Random r = new Random(4);
        for (int i = 0; i < text.length; i++) {
            text[i] = 1 + r.nextInt(49);
        }
        ReferenceForward ref = new ReferenceForward(tiny);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            for (int bos : new int[] {0, -1}) {
                for (int context : new int[] {2, 5, 70, 200}) {
                    double total = 0;
                    long scored = 0;
                    boolean[] seen = new boolean[text.length];
                    int first = bos >= 0 ? 0 : 1;
                    for (int start = first; start < text.length; start += context - 1) {
                        int end = Math.min(text.length, start + context - 1);
                        int[] input = new int[end - start];
                        input[0] = bos >= 0 ? bos : text[start - 1];
                        System.arraycopy(text, start, input, 1, input.length - 1);
                        double[][] logits = ref.logits(input);
                        for (int i = start; i < end; i++) {
                            assertThat(seen[i]).as("token %d scored twice", i).isFalse();
                            seen[i] = true;
                            total -= naiveLogSoftmax(logits[i - start], text[i]);
                            scored++;
                        }
                    }
                    for (int i = first; i < text.length; i++) {
                        assertThat(seen[i]).as("token %d", i).isTrue();
                    }
                    Perplexity.Result p = Perplexity.compute(model, text, bos, context);
                    String what = "bos " + bos + ", context " + context;
                    assertThat(p.tokens()).as(what).isEqualTo(scored);
                    assertThat(p.totalNll()).as(what).isCloseTo(total,
                            org.assertj.core.data.Percentage.withPercentage(1e-3));
                    assertThat(p.nllPerToken()).as(what).isCloseTo(total / scored,
                            org.assertj.core.data.Percentage.withPercentage(1e-3));
                    assertThat(p.perplexity()).as(what).isCloseTo(Math.exp(total / scored),
                            org.assertj.core.data.Percentage.withPercentage(1e-3));
                }
            }
            // The runtime's own logits of one whole window, put through a naive log-softmax, give the same NLL.
            int[] input = new int[70];
            input[0] = 0;
            System.arraycopy(text, 0, input, 1, 69);
            float[][] logits = model.logits(input);
            double total = 0;
            for (int i = 0; i < 70; i++) {
                double[] row = new double[logits[i].length];
                for (int v = 0; v < row.length; v++) {
                    row[v] = logits[i][v];
                }
                total -= naiveLogSoftmax(row, text[i]);
            }
            assertThat(Perplexity.compute(model, Arrays.copyOf(text, 70), 0, 71).totalNll())
                    .isCloseTo(total, org.assertj.core.data.Percentage.withPercentage(1e-6));
        }
    }

    /** log(exp(x[t]) / sum exp(x)), directly, in float64 (the logits are small enough not to overflow). */
    private static double naiveLogSoftmax(double[] x, int t) {
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v);
        }
        return Math.log(Math.exp(x[t]) / sum);
    }
}
