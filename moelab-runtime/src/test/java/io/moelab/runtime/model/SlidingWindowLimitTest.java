package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.tensor.DType;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sliding window of at least {@code max_position_embeddings} loads, since it cannot apply within the positions
 * the model was trained for; but transformers does not stop a sequence there, and its attention mask hides a key
 * once the query is {@code sliding_window} or more positions past it (position W no longer sees position 0). Attention
 * here always sees the whole prefix, so a longer sequence got other logits than transformers without a word; it is
 * now refused, and positions up to the window, where the two agree, still run.
 */
class SlidingWindowLimitTest {
    @TempDir
    Path tmp;

    @Test
    void aSequenceReachingPastAnAcceptedWindowIsRefused() throws Exception {
        Path dir = TinyModel.create(Family.MIXTRAL, DType.F32, 3, false,
                c -> c.put("sliding_window", 8).put("max_position_embeddings", 8)).write(tmp.resolve("m"));
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            assertThat(model.config().window()).isEqualTo(8);
            assertThat(KvCache.maxPositions(model.config())).isEqualTo(8);
            int[] tokens = new int[9];
            Arrays.setAll(tokens, i -> (5 * i + 1) % 50);
            assertThat(model.logits(Arrays.copyOf(tokens, 8))).hasNumberOfRows(8);
            assertThatThrownBy(() -> model.logits(tokens)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("a KV cache of 9 positions goes past the model's sliding_window of 8 (config.json), "
                            + "which transformers applies and moelab does not");
            assertThatThrownBy(() -> model.newCache(9)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void withoutAWindowNothingChanges() throws Exception {
        for (Family f : Family.values()) {
            ModelConfig c = ModelConfig.ofModel(TinyModel.create(f, DType.F32, 3).write(tmp.resolve(f.name())));
            assertThat(c.window()).as(f.name()).isEqualTo(Integer.MAX_VALUE);
        }
        // Qwen's window is off unless use_sliding_window is true.
        Path qwen = TinyModel.create(Family.QWEN3_MOE, DType.F32, 3, false,
                c -> c.put("sliding_window", 8).put("max_position_embeddings", 8)).write(tmp.resolve("q"));
        assertThat(ModelConfig.ofModel(qwen).window()).isEqualTo(Integer.MAX_VALUE);
        Path on = TinyModel.create(Family.QWEN3_MOE, DType.F32, 3, false, c -> c.put("use_sliding_window", true)
                .put("sliding_window", 16).put("max_position_embeddings", 8)).write(tmp.resolve("q2"));
        assertThat(ModelConfig.ofModel(on).window()).isEqualTo(16);
        ModelConfig c = ModelConfig.ofModel(qwen);
        assertThatThrownBy(() -> withLimits(c, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window must be positive, got 0");
        assertThatThrownBy(() -> withLimits(c, 1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxPositionEmbeddings must be positive, got 0");
        assertThat(withLimits(c, 8, 8).maxPositionEmbeddings()).isEqualTo(8);
    }

    private static ModelConfig withLimits(ModelConfig c, int window, int maxPositionEmbeddings) {
        return new ModelConfig(c.family(), c.vocabSize(), c.hidden(), c.layers(), c.heads(), c.kvHeads(), c.headDim(),
                c.intermediate(), c.expertIntermediate(), c.experts(), c.topK(), c.normTopKProb(),
                c.sharedIntermediate(), c.sparseStep(), c.mlpOnlyLayers(), c.qkvBias(), c.oBias(), c.ropeTheta(),
                c.rmsNormEps(), c.tieWordEmbeddings(), window, maxPositionEmbeddings);
    }
}
