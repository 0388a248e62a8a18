package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.generate.Perplexity;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.trace.ExpertLoadRecorder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Perplexity against the float64 reference, and expert-load recording against the routing it hears. */
class PerplexityAndTraceTest {
    private static final int[] TOKENS = {5, 1, 44, 23, 23, 7, 30, 12, 9, 41};

    @TempDir
    Path tmp;

    @Test
    void perplexityIsTheReferenceNegativeLogLikelihood() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 8);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            // Windows of 4 tokens without BOS overlap by one: tokens 1-3 given token 0, 4-6 given token 3, 7-9 given
            // token 6. Every token but the first is scored, whatever the window length.
            Perplexity.Result r = Perplexity.compute(model, TOKENS, -1, 4);
            ReferenceForward ref = new ReferenceForward(tiny);
            double total = 0;
            for (int start = 1; start < TOKENS.length; start += 3) {
                int end = Math.min(TOKENS.length, start + 3);
                double[][] logits = ref.logits(java.util.Arrays.copyOfRange(TOKENS, start - 1, end - 1));
                for (int i = start; i < end; i++) {
                    total -= logProb(logits[i - start], TOKENS[i]);
                }
            }
            assertThat(r.tokens()).isEqualTo(9);
            assertThat(r.totalNll()).isCloseTo(total, org.assertj.core.data.Offset.offset(1e-4 * total));
            assertThat(r.perplexity()).isCloseTo(Math.exp(total / 9),
                    org.assertj.core.data.Percentage.withPercentage(1e-3));
            // The shortest window (one conditioning token, one target) still scores the same nine tokens.
            assertThat(Perplexity.compute(model, TOKENS, -1, 2).tokens()).isEqualTo(9);
            assertThat(Perplexity.compute(model, TOKENS, -1, 100).tokens()).isEqualTo(9);
            assertThat(r.bitsPerByte(20)).isCloseTo(total / Math.log(2) / 20,
                    org.assertj.core.data.Offset.offset(1e-4));

            // With a BOS token every text token is scored, a single one too.
            assertThat(Perplexity.compute(model, TOKENS, 0, 4).tokens()).isEqualTo(TOKENS.length);
            assertThat(Perplexity.compute(model, TOKENS, 0, 2).tokens()).isEqualTo(TOKENS.length);
            assertThat(Perplexity.compute(model, new int[] {7}, 0, 4).tokens()).isEqualTo(1);
        }
    }

    @Test
    void progressTellsTheTokensScoredAfterEachPass() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 8);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            // Windows of 4 without BOS score 3 tokens each (1-3, 4-6, 7-9), one pass apiece.
            java.util.List<Long> told = new java.util.ArrayList<>();
            Perplexity.Result r = Perplexity.compute(model, TOKENS, -1, 4, told::add);
            assertThat(told).containsExactly(3L, 6L, 9L);
            // One window and one pass: the nine tokens at once; with BOS, all ten.
            told.clear();
            Perplexity.compute(model, TOKENS, -1, 100, told::add);
            assertThat(told).containsExactly(9L);
            told.clear();
            Perplexity.compute(model, TOKENS, 0, 6, told::add);
            assertThat(told).containsExactly(5L, 10L);
            assertThat(Perplexity.compute(model, TOKENS, -1, 4).totalNll()).isEqualTo(r.totalNll());
            // Windows of 128 inputs are two whole passes of 64: no empty third pass is told.
            int[] longer = new int[130];
            for (int i = 0; i < longer.length; i++) {
                longer[i] = TOKENS[i % TOKENS.length];
            }
            told.clear();
            Perplexity.compute(model, longer, 0, 129, told::add);
            assertThat(told).containsExactly(64L, 128L, 130L);
            told.clear();
            Perplexity.compute(model, longer, -1, 65, told::add);
            assertThat(told).containsExactly(64L, 128L, 129L);
        }
    }

    /**
     * A token id outside the vocabulary is refused as the model refuses one it is given, wherever it stands: the last
     * token of a text (of every window, with BOS) is only ever a target, never fed to the model, and was looked up in
     * the logits unchecked (an ArrayIndexOutOfBoundsException, "Index 50 out of bounds for length 50").
     */
    @Test
    void aTokenIdOutsideTheVocabularyIsRefusedWhereverItStands() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 8);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            int[][] texts = {{5, 1, 50}, {50}, {5, -3, 7}, {5, 1, 44, 23, 99, 7}};
            String[] ids = {"50", "50", "-3", "99"};
            for (int t = 0; t < texts.length; t++) {
                for (int bos : new int[] {0, -1}) {
                    for (int context : new int[] {2, 3, 100}) {
                        int[] text = texts[t];
                        List<Long> told = new java.util.ArrayList<>();
                        assertThatThrownBy(() -> Perplexity.compute(model, text, bos, context, told::add))
                                .as("text %d, bos %d, context %d", t, bos, context)
                                .isInstanceOf(IllegalArgumentException.class)
                                .hasMessage("token id " + ids[t] + " outside the vocabulary [0, 50)");
                        assertThat(told).as("nothing scored before the refusal").isEmpty();
                    }
                }
            }
            assertThatThrownBy(() -> Perplexity.compute(model, TOKENS, 50, 4))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("token id 50 outside the vocabulary [0, 50)");
            // The text's first token without BOS is only ever conditioned on; it is fed to the model, and checked.
            assertThat(Perplexity.compute(model, new int[] {49, 0}, -1, 2).tokens()).isEqualTo(1);
        }
    }

    @Test
    void aNegativeBosOtherThanMinusOneIsRefused() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 8);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            // -1 alone means "no BOS"; -2 is a caller's mistake (an unset id, a sentinel), not a second way to say it.
            assertThatThrownBy(() -> Perplexity.compute(model, TOKENS, -2, 4))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bos").hasMessageContaining("-2");
            assertThatThrownBy(() -> Perplexity.compute(model, TOKENS, Integer.MIN_VALUE, 4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bos");
            assertThat(Perplexity.compute(model, TOKENS, -1, 4).tokens()).isEqualTo(9);
        }
    }

    @Test
    void recorderCountsEveryRoutedTokenPerMoeLayer() throws Exception {
        TinyModel tiny = TinyModel.create(Family.QWEN2_MOE, DType.BF16, 2);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            ExpertLoadRecorder recorder = new ExpertLoadRecorder(model.config());
            model.routingListener(recorder);
            model.logits(new int[] {1, 2, 3, 4});
            recorder.endStep();
            model.logits(new int[] {5, 6});
            recorder.endStep();
            recorder.endStep(); // an empty step is not recorded
            List<long[][]> steps = recorder.steps();
            // Handed on as they close, the same steps, none kept.
            List<long[][]> handed = new java.util.ArrayList<>();
            ExpertLoadRecorder streaming = new ExpertLoadRecorder(model.config(), handed::add);
            model.routingListener(streaming);
            model.logits(new int[] {1, 2, 3, 4});
            streaming.endStep();
            assertThat(handed).hasSize(1);
            model.logits(new int[] {5, 6});
            streaming.endStep();
            streaming.endStep();
            assertThat(handed).hasSize(2);
            assertThat(streaming.steps()).isEmpty();
            for (int s = 0; s < 2; s++) {
                assertThat(handed.get(s)).isDeepEqualTo(steps.get(s));
            }
            // mlp_only_layers [1]: layers 0 and 2 are MoE.
            assertThat(recorder.moeLayers()).isEqualTo(2);
            assertThat(steps).hasSize(2);
            for (int s = 0; s < 2; s++) {
                long tokens = s == 0 ? 4 : 2;
                for (long[] layer : steps.get(s)) {
                    assertThat(java.util.Arrays.stream(layer).sum()).isEqualTo(tokens * 2);
                    assertThat(java.util.Arrays.stream(layer).max().orElseThrow()).isLessThanOrEqualTo(tokens);
                }
            }
        }
    }

    private static double logProb(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double z = 0;
        for (double v : logits) {
            z += Math.exp(v - max);
        }
        return logits[target] - max - Math.log(z);
    }
}
