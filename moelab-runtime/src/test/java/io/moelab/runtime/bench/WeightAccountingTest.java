package io.moelab.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.bench.SyntheticCheckpoint.Shape;
import io.moelab.runtime.model.Family;
import io.moelab.runtime.model.ModelConfig;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.safetensors.ShardedCheckpoint;
import io.moelab.runtime.safetensors.TensorInfo;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.Int4BlockMatrix;
import io.moelab.runtime.tensor.Int4Matrix;
import io.moelab.runtime.tensor.PackedF32Matrix;
import io.moelab.runtime.tensor.Q8Matrix;
import io.moelab.runtime.tensor.WeightMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The accounting agrees with hand-computed sizes, with {@link MoeModel#weightBytes()}, and with the bytes of the
 * real matrices each format builds.
 */
class WeightAccountingTest {
    /** Tiny plus a shape where INT4 leaves the down projections (96 columns) as stored. */
    private static final Shape MIXED = new Shape(50, 64, 2, 4, 2, 16, 96, 4, 2);

    @TempDir
    Path dir;

    @Test
    void tinyF32ByHand() {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 1);
        WeightAccounting a = WeightAccounting.of(d, WeightFormat.STORED);
        // Embedding and lm_head 64·64·4 each, final norm 64·4; per layer q 64·64·4, k and v 32·64·4, o 64·64·4,
        // router 4·64·4, 4 experts of 3·64·64·4, two norms of 64·4.
        long perLayer = 16384 + 8192 + 8192 + 16384 + 1024 + 4 * 3 * 16384 + 2 * 256;
        assertThat(a.residentBytes()).isEqualTo(16384 + 16384 + 256 + 2 * perLayer).isEqualTo(527_616)
                .isEqualTo(4 * Shape.tiny().parameters());
        // lm_head + one embedding row; per layer attention, router and 2 of the 4 experts.
        long activeLayer = 16384 + 8192 + 8192 + 16384 + 1024 + 2 * 3 * 16384;
        assertThat(a.activeBytesPerToken()).isEqualTo(16384 + 256 + 2 * activeLayer).isEqualTo(313_600)
                .isEqualTo(4 * Shape.tiny().activeParameters());
        assertThat(a.quantizedBytes()).isZero();
        assertThat(a.parameters()).isEqualTo(Shape.tiny().parameters());
    }

    @Test
    void tinyInt4ByHand() throws Exception {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 1);
        WeightAccounting a = WeightAccounting.of(d, WeightFormat.INT4);
        // Every quantized row of 64 weights: 32 bytes of nibbles and one binary16 scale = 34 bytes.
        long quantizedLayer = 34L * (64 + 32 + 32 + 64 + 4 * 3 * 64);
        long quantized = 34L * 64 + 2 * quantizedLayer; // lm_head + layers
        assertThat(a.quantizedBytes()).isEqualTo(quantized);
        // The embedding, norms (final and two per layer) and routers stay F32.
        assertThat(a.residentBytes()).isEqualTo(16384 + 5 * 256 + 2 * 1024 + quantized);
        long activeLayer = 34L * (64 + 32 + 32 + 64 + 2 * 3 * 64) + 1024;
        assertThat(a.activeBytesPerToken()).isEqualTo(34L * 64 + 256 + 2 * activeLayer);
        assertThat(a.mappedBytes()).isEqualTo(Files.size(d.resolve("model.safetensors")));
    }

    @Test
    void tiedEmbeddingsCountNoLmHeadEvenWhenTheFileHasOne() throws Exception {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 1);
        Path config = d.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"tie_word_embeddings\" : false",
                "\"tie_word_embeddings\" : true"));
        WeightAccounting stored = WeightAccounting.of(d, WeightFormat.STORED);
        // tinyF32ByHand less the lm_head's 64·64·4; a token still reads 64·64·4 of output projection.
        long perLayer = 16384 + 8192 + 8192 + 16384 + 1024 + 4 * 3 * 16384 + 2 * 256;
        assertThat(stored.residentBytes()).isEqualTo(16384 + 256 + 2 * perLayer);
        assertThat(stored.activeBytesPerToken()).isEqualTo(313_600);
        // INT4 leaves the embedding, now the output projection too, as stored: tinyInt4ByHand less 34·64.
        WeightAccounting int4 = WeightAccounting.of(d, WeightFormat.INT4);
        assertThat(int4.quantizedBytes()).isEqualTo(2 * 34L * (64 + 32 + 32 + 64 + 4 * 3 * 64));
        for (WeightFormat format : WeightFormat.values()) {
            try (MoeModel m = MoeModel.load(d, format)) {
                assertThat(WeightAccounting.of(d, format).residentBytes()).as("%s", format)
                        .isEqualTo(m.weightBytes());
            }
        }
    }

    @Test
    void packedCountsF32CopiesOffHeapAtTheirSize() {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 1);
        WeightAccounting stored = WeightAccounting.of(d, WeightFormat.STORED);
        WeightAccounting packed = WeightAccounting.of(d, WeightFormat.PACKED);
        assertThat(packed.residentBytes()).isEqualTo(stored.residentBytes());
        assertThat(packed.activeBytesPerToken()).isEqualTo(stored.activeBytesPerToken());
        // Tiny's projections (64 and 32 rows of 64 columns) all pack: lm_head and per layer q, k, v, o, experts.
        assertThat(packed.quantizedBytes()).isEqualTo(16384 + 2 * (16384 + 8192 + 8192 + 16384 + 4 * 3 * 16384));
        Path bf16 = SyntheticCheckpoint.write(dir.resolve("bf16"), Shape.tiny(), DType.BF16, 1);
        assertThat(WeightAccounting.of(bf16, WeightFormat.PACKED).quantizedBytes()).as("only F32 packs").isZero();
    }

    @Test
    void agreesWithTheModelAndItsMatrices() throws Exception {
        for (Shape shape : List.of(Shape.tiny(), MIXED)) {
            for (DType dtype : List.of(DType.F32, DType.BF16)) {
                Path d = SyntheticCheckpoint.write(dir.resolve(shape.hidden() + "-" + shape.intermediate() + dtype),
                        shape, dtype, 5);
                for (WeightFormat format : WeightFormat.values()) {
                    WeightAccounting a = WeightAccounting.of(d, format);
                    try (MoeModel m = MoeModel.load(d, format)) {
                        assertThat(a.residentBytes()).as("%s %s %s", shape, dtype, format)
                                .isEqualTo(m.weightBytes());
                    }
                    assertThat(a.activeBytesPerToken()).as("%s %s %s", shape, dtype, format)
                            .isEqualTo(activeFromMatrices(d, shape, format));
                    if (format == WeightFormat.STORED) {
                        assertThat(a.activeBytesPerToken()).isEqualTo(shape.activeParameters() * dtype.bytes());
                    }
                }
            }
        }
    }

    /** Active bytes the second way: build each matrix as the format would and add up {@code bytes()}. */
    private static long activeFromMatrices(Path d, Shape s, WeightFormat format) {
        try (ShardedCheckpoint c = ShardedCheckpoint.open(d)) {
            WeightMatrix embedding = matrix(c, "model.embed_tokens.weight", WeightFormat.STORED);
            long total = embedding.bytes() / embedding.rows() + matrix(c, "lm_head.weight", format).bytes();
            for (int l = 0; l < s.layers(); l++) {
                String p = "model.layers." + l + ".";
                for (String proj : List.of("q", "k", "v", "o")) {
                    total += matrix(c, p + "self_attn." + proj + "_proj.weight", format).bytes();
                }
                total += matrix(c, p + "block_sparse_moe.gate.weight", WeightFormat.STORED).bytes();
                long experts = 0;
                for (int e = 0; e < s.experts(); e++) {
                    for (String w : List.of("w1", "w2", "w3")) {
                        experts += matrix(c, p + "block_sparse_moe.experts." + e + "." + w + ".weight", format)
                                .bytes();
                    }
                }
                total += experts / s.experts() * s.topK();
            }
            return total;
        }
    }

    private static WeightMatrix matrix(ShardedCheckpoint c, String name, WeightFormat format) {
        TensorInfo info = c.info(name).orElseThrow();
        WeightMatrix stored = WeightMatrix.of(info.dtype(), c.segment(name), (int) info.shape()[0],
                (int) info.shape()[1]);
        return switch (format) {
            case STORED -> stored;
            case Q8 -> stored.cols() % Q8Matrix.GROUP == 0 ? Q8Matrix.quantize(stored) : stored;
            case INT4 -> stored.cols() % 64 == 0 ? Int4Matrix.quantize(stored, 64) : stored;
            case INT4_I8 -> stored.cols() % 64 == 0 ? Int4BlockMatrix.quantize(stored, 64) : stored;
            case PACKED -> info.dtype() == DType.F32 && PackedF32Matrix.fits(stored.rows(), stored.cols())
                    ? PackedF32Matrix.pack(stored) : stored;
        };
    }

    @Test
    void matrixBytesOfEachFormatByHand() {
        // As stored and packed: rows x cols x the type's bytes.
        assertThat(WeightAccounting.matrixBytes(3, 5, DType.BF16, WeightFormat.STORED)).isEqualTo(30);
        assertThat(WeightAccounting.matrixBytes(3, 5, DType.F32, WeightFormat.PACKED)).isEqualTo(60);
        // Q8: a byte per weight and a binary16 scale per 32; 48 columns are no whole groups: as stored.
        assertThat(WeightAccounting.matrixBytes(3, 64, DType.F32, WeightFormat.Q8)).isEqualTo(192 + 12);
        assertThat(WeightAccounting.matrixBytes(3, 48, DType.BF16, WeightFormat.Q8)).isEqualTo(288);
        // INT4: half a byte per weight and a scale per 64; 96 columns stay as stored.
        assertThat(WeightAccounting.matrixBytes(3, 128, DType.BF16, WeightFormat.INT4)).isEqualTo(192 + 12);
        assertThat(WeightAccounting.matrixBytes(5, 96, DType.F32, WeightFormat.INT4)).isEqualTo(1920);
        // INT4_I8: INT4's bytes for the rows padded to whole blocks (68 bytes a row of 128).
        long padded = Int4BlockMatrix.paddedRows(5);
        assertThat(padded).isGreaterThanOrEqualTo(5);
        assertThat(WeightAccounting.matrixBytes(5, 128, DType.F32, WeightFormat.INT4_I8)).isEqualTo(68 * padded);
        assertThat(WeightAccounting.matrixBytes(5, 96, DType.F32, WeightFormat.INT4_I8)).isEqualTo(1920);
    }

    /**
     * Families the synthetic (Mixtral) checkpoints do not reach, by hand from a configuration alone, every tensor F32:
     * Qwen2-MoE with q/k/v biases, a dense first layer (MLP of 32) and a shared expert (12) with its gate; OLMoE and
     * Qwen3-MoE with attention biases (o too), their q/k norms and tied embeddings. Hidden 16, 4 heads over 2 KV heads
     * of 4 (q 16, k and v 8 wide), vocabulary 50, experts of 8.
     */
    @Test
    void denseLayersSharedExpertsBiasesAndNormsByHand() {
        java.util.function.Function<String, java.util.Optional<DType>> f32 = name -> java.util.Optional.of(DType.F32);
        ModelConfig qwen2 = new ModelConfig(Family.QWEN2_MOE, 50, 16, 2, 4, 2, 4, 32, 8, 4, 2, false, 12, 2,
                java.util.Set.of(), true, false, 1e6, 1e-6, false);
        WeightAccounting a = WeightAccounting.of(qwen2, f32, WeightFormat.STORED, 0, 0, "test");
        // Embedding and lm_head 3200 each, final norm 64. Attention per layer: q and o 1024, k and v 512; its
        // vectors (two norms, q/k/v biases: 64 floats) 256. Layer 0 dense: 3 x 2048. Layer 1: router 256, four
        // experts of 3 x 512, shared expert 3 x 768 and its gate 64.
        long attention = 1024 + 512 + 512 + 1024;
        long layer0 = attention + 256 + 3 * 2048;
        long layer1 = attention + 256 + 256 + 4 * 1536 + 3 * 768 + 64;
        assertThat(a.residentBytes()).isEqualTo(3200 + 3200 + 64 + layer0 + layer1).isEqualTo(4 * 7008);
        // A token reads lm_head, one embedding row (64), attention, the dense MLP, the router, two of the four
        // experts, the shared expert and its gate.
        assertThat(a.activeBytesPerToken()).isEqualTo(3200 + 64 + attention + 3 * 2048 + attention + 256
                + 2 * 1536 + 3 * 768 + 64);
        assertThat(a.quantizedBytes()).isZero();

        for (Family family : List.of(Family.OLMOE, Family.QWEN3_MOE)) {
            ModelConfig c = new ModelConfig(family, 50, 16, 1, 4, 2, 4, 32, 8, 4, 1, false, 0, 1, java.util.Set.of(),
                    true, true, 1e6, 1e-6, true);
            WeightAccounting w = WeightAccounting.of(c, f32, WeightFormat.STORED, 0, 0, "test");
            // Vectors: two norms (32 floats), q/k/v biases (32) and o's (16), then OLMoE's q and k norms over the
            // whole projections (16 + 8) or Qwen3-MoE's per head (4 + 4).
            long vectors = 32 + 32 + 16 + (family == Family.OLMOE ? 24 : 8);
            // Tied: the embedding once, and no lm_head.
            assertThat(w.residentBytes()).as("%s", family).isEqualTo(3200 + 64 + attention + 4 * vectors + 256
                    + 4 * 1536);
            // The output projection is the embedding: a token reads it whole, and one row of it.
            assertThat(w.activeBytesPerToken()).as("%s", family).isEqualTo(3200 + 64 + attention + 256 + 1536);
        }
    }

    @Test
    void aTensorTheConfigurationImpliesAndTheCheckpointLacksIsNamed() {
        ModelConfig qwen2 = new ModelConfig(Family.QWEN2_MOE, 50, 16, 2, 4, 2, 4, 32, 8, 4, 2, false, 12, 2,
                java.util.Set.of(), true, false, 1e6, 1e-6, false);
        assertThatThrownBy(() -> WeightAccounting.of(qwen2, name -> name.endsWith("shared_expert_gate.weight")
                ? java.util.Optional.empty() : java.util.Optional.of(DType.F32), WeightFormat.STORED, 0, 0, "ckpt"))
                .isInstanceOf(io.moelab.runtime.ModelFormatException.class)
                .hasMessage("ckpt: tensor model.layers.1.mlp.shared_expert_gate.weight: missing from the checkpoint");
    }
}
