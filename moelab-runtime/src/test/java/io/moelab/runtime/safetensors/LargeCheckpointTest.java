package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.WeightMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offsets past 2 GiB and 4 GiB, as real checkpoints have them (OLMoE's 4.6 GiB first shard, embeddings over 2 GiB),
 * in sparse files: a value placed at the end of a large tensor reads back at its row and column, through the index,
 * the shard's mapping and the matrix, in each stored type.
 */
class LargeCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void valuesPastTwoAndFourGibibytesReadBackWhereTheyWerePlaced() throws Exception {
        int rows = 600_000;
        int cols = 2048;
        SparseCheckpoint first = new SparseCheckpoint();
        long bf16 = first.tensor("embed", "BF16", rows, cols); // 2.46 GB: its last rows lie past 2 GiB
        long f32 = first.tensor("head", "F32", rows, cols); // 4.9 GB, starting past 2 GiB, ending past 4 GiB
        // BF16 1.5 at the last element; F32 -2.25 at the last element, and 3.0 at the first row past 4 GiB.
        first.poke16(bf16 + 2L * rows * cols - 2, (short) 0x3FC0);
        long last = f32 + 4L * rows * cols - 4;
        first.poke16(last, (short) 0).poke16(last + 2, (short) 0xC010);
        long row = ((4L << 30) - f32) / (4L * cols) + 1;
        first.poke16(f32 + row * 4 * cols, (short) 0).poke16(f32 + row * 4 * cols + 2, (short) 0x4040);
        first.write(tmp.resolve("a.safetensors"));
        SparseCheckpoint second = new SparseCheckpoint();
        long half = second.tensor("tail", "F16", 1, cols);
        second.poke16(half + 2, (short) 0x3C00); // F16 1.0 at column 1
        second.write(tmp.resolve("b.safetensors"));
        Files.writeString(tmp.resolve(SafetensorsWriter.INDEX_FILE), """
                {"weight_map": {"embed": "a.safetensors", "head": "a.safetensors", "tail": "b.safetensors"}}""");
        try (ShardedCheckpoint c = ShardedCheckpoint.open(tmp)) {
            assertThat(Files.size(tmp.resolve("a.safetensors"))).isGreaterThan(4L << 30);
            WeightMatrix embed = WeightMatrix.of(DType.BF16, c.segment("embed"), rows, cols);
            WeightMatrix head = WeightMatrix.of(DType.F32, c.segment("head"), rows, cols);
            assertThat(embed.get(rows - 1, cols - 1)).isEqualTo(1.5f);
            assertThat(embed.get(rows - 1, cols - 2)).isZero();
            assertThat(head.get(rows - 1, cols - 1)).isEqualTo(-2.25f);
            assertThat(head.get((int) row, 0)).isEqualTo(3.0f);
            assertThat(head.get((int) row - 1, 0)).isZero();
            float[] x = new float[cols];
            x[cols - 1] = 2f;
            assertThat(embed.dot(rows - 1, x)).isEqualTo(3f);
            assertThat(head.dot(rows - 1, x)).isEqualTo(-4.5f);
            assertThat(WeightMatrix.of(DType.F16, c.segment("tail"), 1, cols).get(0, 1)).isEqualTo(1f);
        }
    }
}
