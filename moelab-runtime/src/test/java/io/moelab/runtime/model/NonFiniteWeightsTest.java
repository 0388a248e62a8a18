package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.safetensors.ShardedCheckpoint;
import io.moelab.runtime.safetensors.SparseCheckpoint;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.MatVec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights that are NaN or infinite, or large enough to overflow float32, end a forward pass with an error naming the
 * weight, instead of logits of NaN (which went silently into sampling, perplexity and written JSON, and with a NaN
 * router sent every token to expert 0).
 */
class NonFiniteWeightsTest {
    @TempDir
    Path tmp;

    @Test
    void aNanRouterWeightIsNamedWithItsIndex() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 3);
        String router = Family.MIXTRAL.router(1);
        tiny.weights.get(router)[16 + 3] = Double.NaN; // row 1, column 3 of [4 experts, hidden 16]
        Path dir = tiny.write(tmp.resolve("nan"));
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            assertThatThrownBy(() -> model.logits(new int[] {1, 2, 3}))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(dir.resolve("model.safetensors") + ": tensor " + router + ": holds NaN at [1, 3] "
                            + "(the forward pass gave non-finite logits at position 0)");
        }
    }

    @Test
    void anInfiniteEmbeddingRowFailsTheTokenThatUsesIt() throws Exception {
        TinyModel tiny = TinyModel.create(Family.QWEN3_MOE, DType.F16, 4);
        tiny.weights.get("model.embed_tokens.weight")[7 * 16 + 5] = Double.POSITIVE_INFINITY;
        Path dir = tiny.write(tmp.resolve("inf"));
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            KvCache cache = model.newCache(4);
            // Tokens that do not read row 7 decode; the one that does is refused at its position.
            assertThat(MatVec.allFinite(model.forward(1, 0, cache))).isTrue();
            assertThat(MatVec.allFinite(model.forward(2, 1, cache))).isTrue();
            assertThatThrownBy(() -> model.forward(7, 2, cache))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(dir.resolve("model.safetensors") + ": tensor model.embed_tokens.weight: holds "
                            + "Infinity at [7, 5] (the forward pass gave non-finite logits at position 2)");
            // A prefill from position 1 names the position of the first non-finite row it returns: token 7's at 2,
            // or with the last row only, position 3's (which attends to it).
            assertThatThrownBy(() -> model.prefill(new int[] {2, 7, 4}, 1, cache, true))
                    .hasMessageEndingWith("(the forward pass gave non-finite logits at position 2)");
            assertThatThrownBy(() -> model.prefill(new int[] {2, 7, 4}, 1, cache, false))
                    .hasMessageEndingWith("(the forward pass gave non-finite logits at position 3)");
        }
    }

    @Test
    void finiteWeightsThatOverflowAreReportedAsOverflow() throws Exception {
        TinyModel tiny = TinyModel.create(Family.OLMOE, DType.F32, 5);
        Arrays.fill(tiny.weights.get("model.norm.weight"), 1e30);
        Arrays.fill(tiny.weights.get("lm_head.weight"), 1e20);
        Path dir = tiny.write(tmp.resolve("big"));
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            assertThatThrownBy(() -> model.logits(new int[] {4, 5}))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(dir + ": the forward pass gave non-finite logits at position 0 although every "
                            + "weight is finite: float32 overflowed (weights far larger than a trained model's)");
        }
    }

    /**
     * Only the weights the model computes with are blamed: a NaN in a tensor it ignores (a bias Mixtral has no
     * place for, an lm_head.weight that tied embeddings replace) did not make the logits overflow, and was named as
     * their cause.
     */
    @Test
    void aNonFiniteTensorTheModelIgnoresIsNotBlamed() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 5);
        Arrays.fill(tiny.weights.get("model.norm.weight"), 1e30);
        Arrays.fill(tiny.weights.get("lm_head.weight"), 1e20);
        tiny.stray("model.layers.0.self_attn.o_proj.bias", Double.NaN, 16);
        Path dir = tiny.write(tmp.resolve("stray"));
        try (MoeModel model = MoeModel.load(dir, WeightFormat.STORED)) {
            assertThatThrownBy(() -> model.logits(new int[] {4, 5}))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(dir + ": the forward pass gave non-finite logits at position 0 although every "
                            + "weight is finite: float32 overflowed (weights far larger than a trained model's)");
        }
        // Tied: the embedding is the output projection; the NaN in the lm_head.weight left in the file is not used.
        TinyModel tied = TinyModel.create(Family.QWEN3_MOE, DType.F32, 5, false,
                c -> c.put("tie_word_embeddings", true));
        Arrays.fill(tied.weights.get("model.norm.weight"), 1e30);
        Arrays.fill(tied.weights.get("model.embed_tokens.weight"), 1e10);
        Arrays.fill(tied.weights.get("lm_head.weight"), Double.NaN);
        Path tiedDir = tied.write(tmp.resolve("tied"));
        try (MoeModel model = MoeModel.load(tiedDir, WeightFormat.STORED)) {
            assertThatThrownBy(() -> model.logits(new int[] {4, 5}))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageStartingWith(tiedDir + ": the forward pass gave non-finite logits at position 0 "
                            + "although every weight is finite");
        }
    }

    /**
     * Quantizing at load reads every weight of a projection, so a weight no format can hold (not finite, or so large
     * that its group's scale overflows binary16) is refused at load, naming the file and tensor as bad input. It
     * used to surface as a bare IllegalArgumentException (exit 1, "rerun with --verbose") naming neither.
     */
    @Test
    void quantizingAWeightNoFormatHoldsNamesTheTensor() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 6, true);
        String expert = Family.MIXTRAL.expert(1, 2)[0];
        tiny.weights.get(expert)[3 * 64 + 40] = Double.POSITIVE_INFINITY; // row 3, column 40 of [64, 64]
        Path dir = tiny.write(tmp.resolve("inf"));
        String file = dir.resolve("model.safetensors").toString();
        assertThatThrownBy(() -> MoeModel.load(dir, WeightFormat.Q8)).isInstanceOf(ModelFormatException.class)
                .hasMessage(file + ": tensor " + expert + ": Q8 quantization: cannot quantize non-finite weight "
                        + "Infinity in row 3, column 40");
        for (WeightFormat f : new WeightFormat[] {WeightFormat.INT4, WeightFormat.INT4_I8}) {
            assertThatThrownBy(() -> MoeModel.load(dir, f)).as(f.name()).isInstanceOf(ModelFormatException.class)
                    .hasMessageStartingWith(file + ": tensor " + expert + ": " + f + " quantization: ");
        }
        // As stored the weight is only read when a token uses the expert.
        MoeModel.load(dir, WeightFormat.STORED).close();

        TinyModel big = TinyModel.create(Family.MIXTRAL, DType.F32, 6, true);
        // 1e7 / 127 is past binary16's largest finite value, 65504.
        big.weights.get("lm_head.weight")[5] = 1e7;
        Path bigDir = big.write(tmp.resolve("big"));
        assertThatThrownBy(() -> MoeModel.load(bigDir, WeightFormat.Q8)).isInstanceOf(ModelFormatException.class)
                .hasMessage(bigDir.resolve("model.safetensors") + ": tensor lm_head.weight: Q8 quantization: row 0: "
                        + "group scale 78740.16 is beyond the binary16 range");
    }

    @Test
    void indexOfAFlatPositionIsRowMajor() {
        assertThat(NonFiniteWeights.index(0, new long[] {4, 16})).isEqualTo("[0, 0]");
        assertThat(NonFiniteWeights.index(16 * 3 + 15, new long[] {4, 16})).isEqualTo("[3, 15]");
        assertThat(NonFiniteWeights.index(2 * 12 + 2 * 4 + 1, new long[] {5, 3, 4})).isEqualTo("[2, 2, 1]");
        assertThat(NonFiniteWeights.index(9, new long[] {16})).isEqualTo("[9]");
    }

    /** The vectorized check against a scalar loop, with one bad value at every position of short and long arrays. */
    @Test
    void allFiniteAgreesWithAScalarLoop() {
        Random random = new Random(11);
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (int n : new int[] {0, 1, 7, 16, 17, 33, 100}) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (random.nextFloat() - 0.5f) * (i % 3 == 0 ? Float.MAX_VALUE : 1f);
            }
            assertThat(MatVec.allFinite(a)).as("n=%d", n).isTrue();
            for (int i = 0; i < n; i++) {
                float keep = a[i];
                a[i] = bad[i % bad.length];
                assertThat(MatVec.allFinite(a)).as("n=%d, bad at %d", n, i).isFalse();
                a[i] = keep;
            }
        }
    }

    /**
     * A tensor of more than 2^31 elements (a 4 GiB BF16 embedding of 1,050,000 x 2048, a sparse file) was skipped
     * by the search, so a NaN in it was reported as float32 overflowing although a weight is not finite.
     */
    @Test
    void aNanInATensorOfMoreThanTwoToTheThirtyOneElementsIsNamed() throws Exception {
        SparseCheckpoint file = new SparseCheckpoint();
        long begin = file.tensor("model.embed_tokens.weight", "BF16", 1_050_000, 2048);
        file.poke16(begin + 2 * 5, (short) 0x7FC0); // BF16 NaN at row 0, column 5
        Path dir = Files.createDirectories(tmp.resolve("huge"));
        file.write(dir.resolve("model.safetensors"));
        try (ShardedCheckpoint checkpoint = ShardedCheckpoint.open(dir)) {
            assertThat(NonFiniteWeights.blame(checkpoint, Set.of("model.embed_tokens.weight"), 3))
                    .hasMessage(dir.resolve("model.safetensors") + ": tensor model.embed_tokens.weight: holds NaN at "
                            + "[0, 5] (the forward pass gave non-finite logits at position 3)");
        }
    }
}
