package io.moelab.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.bench.SyntheticCheckpoint.Shape;
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
}
