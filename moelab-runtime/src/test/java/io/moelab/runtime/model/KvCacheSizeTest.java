package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvCacheSizeTest {
    @TempDir
    Path tmp;

    @Test
    void limitsAndBytesFollowTheKeyRowsAndValues() throws Exception {
        // The tiny Mixtral: 3 layers, 2 KV heads of 4 dimensions (hidden 16 over 4 heads): 8 floats per position.
        Path dir = TinyModel.create(Family.MIXTRAL, DType.F32, 1).write(tmp.resolve("m"));
        ModelConfig config = ModelConfig.ofModel(dir);
        assertThat(config.kvHeads() * config.headDim()).isEqualTo(8);
        // Keys are one array of stride x 8 floats per layer: stride at most (2^31 - 9) / 8 = 268435454, rounded down
        // to a multiple of 64.
        assertThat(KvCache.maxPositions(config)).isEqualTo(268435392);
        // 100 positions: keys with a stride of 128, values of 100, 8 floats each, 3 layers, 4 bytes a float.
        assertThat(KvCache.bytes(config, 100)).isEqualTo(4L * 3 * 8 * (128 + 100));
        assertThat(KvCache.bytes(config, 128)).isEqualTo(4L * 3 * 8 * (128 + 128));
        assertThatThrownBy(() -> new KvCache(config, 268435393)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a KV cache of 268435393 positions does not fit (at most 268435392 for this model)");
        assertThat(new KvCache(config, 100).capacity()).isEqualTo(100);
    }

    /**
     * The scores of every query head are one array of {@code heads x stride} floats too: with many query heads per KV
     * head it is the larger one. The limit only counted the keys, so 2^24 positions of a model with 256 query heads
     * over one KV head of 2 dimensions (limit 1073741760) failed with "integer overflow", not the documented error.
     */
    @Test
    void theLimitCountsTheScoresOfEveryQueryHead() throws Exception {
        Path dir = TinyModel.create(Family.MIXTRAL, DType.F32, 1).write(tmp.resolve("m"));
        ModelConfig c = ModelConfig.ofModel(dir);
        ModelConfig gqa = new ModelConfig(c.family(), c.vocabSize(), c.hidden(), 1, 256, 1, 2, c.intermediate(),
                c.expertIntermediate(), c.experts(), c.topK(), c.normTopKProb(), c.sharedIntermediate(),
                c.sparseStep(), c.mlpOnlyLayers(), false, false, c.ropeTheta(), c.rmsNormEps(), false);
        // Scores: 256 x stride floats, stride at most (2^31 - 9) / 256 = 8388607, rounded down to a multiple of 64.
        assertThat(KvCache.maxPositions(gqa)).isEqualTo(8388544);
        assertThatThrownBy(() -> new KvCache(gqa, 1 << 24)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a KV cache of 16777216 positions does not fit (at most 8388544 for this model)");
    }

    /**
     * A position at the capacity is refused as the contract says, naming it, although the key rows (64 positions
     * wide) have room for it: a bound of {@code position > capacity} let the keys take it and failed later, inside
     * the values' copy, with an index error. The positions below are all usable.
     */
    @Test
    void aPositionAtTheCapacityIsRefusedByNameAndTheOnesBelowAreUsable() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 2);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            KvCache cache = model.newCache(4);
            for (int p = 0; p < 4; p++) {
                assertThat(model.forward(5 + p, p, cache)).hasSize(50);
            }
            assertThatThrownBy(() -> model.forward(9, 4, cache)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("position 4 beyond the KV cache's 4");
            float[] kv = new float[8];
            assertThatThrownBy(() -> cache.store(0, 4, kv, kv)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("position 4 beyond the KV cache's 4");
        }
    }

    /**
     * A negative position is refused by name before anything is stored, as the contract says of positions outside
     * the cache: it failed inside RoPE's store with an index error (-1 into the key rows), and with KV groups on
     * several threads a later group's row could take a key at the position before its own row began. Likewise a
     * prefill chunk whose positions start below 0, or run past the largest int, which the capacity check added up
     * as ints and let through.
     */
    @Test
    void negativeOrOverflowingPositionsAreRefusedByNameAndTheCacheIsUntouched() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 2);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            KvCache cache = model.newCache(8);
            for (int p = 0; p < 3; p++) {
                model.forward(5 + p, p, cache);
            }
            float[][] keys = new float[3][];
            float[][] values = new float[3][];
            for (int l = 0; l < 3; l++) {
                keys[l] = cache.keys(l).clone();
                values[l] = cache.values(l).clone();
            }
            assertThatThrownBy(() -> model.forward(9, -1, cache)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("position -1 is negative");
            assertThatThrownBy(() -> model.prefill(new int[] {1, 2}, -1, cache, true))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("position -1 is negative");
            assertThatThrownBy(() -> model.prefill(new int[] {1, 2}, Integer.MAX_VALUE, cache, true))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("positions up to 2147483648 beyond the KV cache's 8");
            for (int l = 0; l < 3; l++) {
                assertThat(cache.keys(l)).as("layer %d keys", l).isEqualTo(keys[l]);
                assertThat(cache.values(l)).as("layer %d values", l).isEqualTo(values[l]);
            }
        }
    }

    /**
     * A prefill that starts among the held positions and runs past the capacity is refused before it stores
     * anything: the positions held before stay as they were, keys and values alike.
     */
    @Test
    void aRunFromAHeldPositionPastTheCapacityIsRefusedBeforeItStores() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 2);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            KvCache cache = model.newCache(8);
            model.prefill(new int[] {5, 6, 7, 8, 9, 10}, 0, cache, true);
            assertThat(cache.filled()).isEqualTo(6);
            float[][] keys = new float[3][];
            float[][] values = new float[3][];
            for (int l = 0; l < 3; l++) {
                keys[l] = cache.keys(l).clone();
                values[l] = cache.values(l).clone();
            }
            // Positions 5..8: one past the last of 0..7.
            assertThatThrownBy(() -> model.prefill(new int[] {1, 2, 3, 4}, 5, cache, true))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("positions up to 8 beyond the KV cache's 8");
            assertThat(cache.filled()).isEqualTo(6);
            for (int l = 0; l < 3; l++) {
                assertThat(cache.keys(l)).as("layer %d keys", l).isEqualTo(keys[l]);
                assertThat(cache.values(l)).as("layer %d values", l).isEqualTo(values[l]);
            }
            // Positions 5..7 fit.
            model.prefill(new int[] {1, 2, 3}, 5, cache, true);
            assertThat(cache.filled()).isEqualTo(8);
        }
    }

    /**
     * A position past those the cache holds is refused, for forward and prefill: it attended to zeros (a new cache)
     * or to a stale run's keys without a sign. Running an earlier position rewinds the cache to it, and what follows
     * equals a fresh run of the new sequence bit for bit.
     */
    @Test
    void aGapAfterTheHeldPositionsIsRefusedAndAnEarlierPositionRewinds() throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 2);
        try (MoeModel model = MoeModel.load(tiny.write(tmp.resolve("m")), WeightFormat.STORED)) {
            KvCache cache = model.newCache(8);
            assertThat(cache.filled()).isZero();
            assertThatThrownBy(() -> model.forward(5, 1, cache)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("position 1 leaves a gap: the KV cache holds positions none, so the next is at most 0");
            for (int p = 0; p < 4; p++) {
                model.forward(5 + p, p, cache);
            }
            assertThat(cache.filled()).isEqualTo(4);
            assertThatThrownBy(() -> model.prefill(new int[] {1, 2}, 5, cache, true))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("position 5 leaves a gap: the KV cache holds positions 0..3, so the next is at most 4");
            assertThat(cache.filled()).as("a refused run leaves the cache as it was").isEqualTo(4);
            // Rewind to 2 with other tokens: the same logits as a fresh cache given 5, 6, 11, 12.
            model.prefill(new int[] {11}, 2, cache, true);
            assertThat(cache.filled()).isEqualTo(3);
            float[] rewound = model.forward(12, 3, cache);
            float[] fresh = model.logits(new int[] {5, 6, 11, 12})[3];
            assertThat(rewound).isEqualTo(fresh);
            assertThatThrownBy(() -> model.forward(1, 5, cache)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("holds positions 0..3");
        }
    }

    /**
     * A --model that is missing or a file says so: both read "no config.json", as if a directory were there and
     * lacked only that file.
     */
    @Test
    void aDirectoryWithoutConfigIsNamed() throws Exception {
        Path empty = java.nio.file.Files.createDirectory(tmp.resolve("empty"));
        assertThatThrownBy(() -> ModelConfig.ofModel(empty)).isInstanceOf(ModelFormatException.class)
                .hasMessage(empty + ": no config.json");
        assertThatThrownBy(() -> ModelConfig.ofModel(tmp.resolve("none"))).isInstanceOf(ModelFormatException.class)
                .hasMessage(tmp.resolve("none") + ": no such directory");
        Path file = java.nio.file.Files.writeString(tmp.resolve("file.txt"), "{}");
        assertThatThrownBy(() -> ModelConfig.ofModel(file)).isInstanceOf(ModelFormatException.class)
                .hasMessage(file + ": not a directory");
    }
}
