package io.moelab.runtime.safetensors;

import static io.moelab.runtime.safetensors.Fixtures.floats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class ShardedCheckpointTest {
    private static final String S1 = "model-00001-of-00002.safetensors";
    private static final String S2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    private static float[] values(int n, float base) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = base + i;
        }
        return v;
    }

    private void twoShards(boolean duplicateB) {
        new SafetensorsWriter()
                .add("a", DType.F32, new long[] {2, 2}, values(4, 10))
                .add("b", DType.BF16, new long[] {3}, values(3, 1))
                .write(dir.resolve(S1));
        SafetensorsWriter w2 = new SafetensorsWriter().add("c", DType.F32, new long[] {3}, values(3, 20));
        if (duplicateB) {
            w2.add("b", DType.BF16, new long[] {3}, values(3, 1));
        }
        w2.write(dir.resolve(S2));
    }

    private static Map<String, String> weightMap(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    @Test
    void twoShardsRoundTrip() throws IOException {
        twoShards(false);
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "b", S1, "c", S2));
        assertThat(Files.readString(dir.resolve("model.safetensors.index.json"))).contains("\"weight_map\"");
        MemorySegment a;
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            assertThat(c.directory()).isEqualTo(dir);
            assertThat(c.listing()).isEqualTo(dir.resolve("model.safetensors.index.json"));
            assertThat(c.tensors().keySet()).containsExactly("a", "b", "c");
            assertThat(c.info("b")).get().extracting(TensorInfo::dtype).isEqualTo(DType.BF16);
            assertThat(c.info("zzz")).isEmpty();
            assertThat(c.fileOf("a").getFileName().toString()).isEqualTo(S1);
            assertThat(c.fileOf("c").getFileName().toString()).isEqualTo(S2);
            a = c.segment("a");
            assertThat(floats(a)).containsExactly(10, 11, 12, 13);
            assertThat(floats(c.segment("c"))).containsExactly(20, 21, 22);
            assertThat(Fixtures.shorts(c.segment("b"))).containsExactly((short) 0x3F80, (short) 0x4000,
                    (short) 0x4040);
            assertThatThrownBy(() -> c.segment("zzz")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("tensor zzz");
            assertThatThrownBy(() -> c.fileOf("zzz")).isInstanceOf(ModelFormatException.class);
        }
        assertThatThrownBy(() -> floats(a)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void missingShardIsNamed() {
        new SafetensorsWriter().add("a", DType.F32, new long[] {1}, values(1, 0)).write(dir.resolve(S1));
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "c", S2));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(S2).hasMessageContaining("missing")
                .extracting(e -> ((ModelFormatException) e).tensor()).isEqualTo("c");
    }

    @Test
    void tensorListedButAbsentFromShard() {
        twoShards(false);
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "b", S1, "c", S2, "d", S2));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(S2).hasMessageContaining("tensor d").hasMessageContaining("absent");
    }

    /**
     * An index that fails after some shards opened unmaps them: nothing else would (the caller has no checkpoint to
     * close), and each failed open left its shards mapped for the life of the process. Read from the kernel's list
     * of this process's mappings, which names each mapped file.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void aFailedOpenUnmapsTheShardsItHadOpened() throws IOException {
        twoShards(false);
        // Both shards open, then "d" is not in the second.
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "c", S2, "d", S2));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tensor d");
        assertThat(mapped()).doesNotContain(S1).doesNotContain(S2);
        // The first shard open, the second refused by its own header.
        Files.write(dir.resolve(S2), new byte[3]);
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(S2);
        assertThat(mapped()).doesNotContain(S1);
        // The check sees a mapping where there is one.
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1));
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            assertThat(mapped()).contains(dir.resolve(S1).toString());
        }
        assertThat(mapped()).doesNotContain(S1);
    }

    /** The files this process has mapped, one a line. */
    private static String mapped() throws IOException {
        return Files.readString(Path.of("/proc/self/maps"));
    }

    @Test
    void toStringNamesTheDirectoryAndCounts() {
        twoShards(false);
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "b", S1, "c", S2));
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir);
             SafetensorsFile f = SafetensorsFile.open(dir.resolve(S1))) {
            assertThat(c).hasToString("ShardedCheckpoint[" + dir + ", 2 shards, 3 tensors]");
            assertThat(f).hasToString("SafetensorsFile[" + dir.resolve(S1) + ", 2 tensors]");
        }
    }

    /**
     * One shard spelled two ways in the index ("x" and "./x") is one file: it was opened twice, and each of its
     * tensors refused as "also present in shard x", naming the file it is in as the other shard.
     */
    @Test
    void oneShardSpelledTwoWaysIsOpenedOnce() {
        twoShards(false);
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "b", "./" + S1, "c", S2));
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            assertThat(c.tensors().keySet()).containsExactly("a", "b", "c");
            assertThat(c.fileOf("b")).isEqualTo(c.fileOf("a"));
            assertThat(floats(c.segment("a"))).containsExactly(values(4, 10));
        }
    }

    @Test
    void tensorInTwoShards() {
        twoShards(true);
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "b", S1, "c", S2));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tensor b").hasMessageContaining("also present in shard " + S1);
    }

    @Test
    void invalidShardOrIndex() throws IOException {
        twoShards(false);
        SafetensorsWriter.writeIndex(dir, weightMap("a", "../" + S1));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not a file name in the checkpoint directory");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": [1]}");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no weight_map object");
        // An empty map opened no shard, and the model then missed its first tensor "from the checkpoint".
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {}}");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("model.safetensors.index.json") + ": weight_map names no tensors");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": 1}}");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tensor a").hasMessageContaining("not a string");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": ");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not valid JSON");
        // Bytes that are not UTF-8 were an UncheckedIOException ("cannot read", exit 1 from the CLI).
        Files.write(dir.resolve("model.safetensors.index.json"), new byte[] {'{', '"', (byte) 0xFF, '"', '}'});
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("model.safetensors.index.json") + ": not UTF-8 text");
        Files.write(dir.resolve(S2), new byte[3]);
        SafetensorsWriter.writeIndex(dir, weightMap("a", S1, "c", S2));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(S2).hasMessageContaining("shorter");
    }

    /**
     * An index past the header's limit of 100 MiB is refused by its size before it is read: a forged one of 2 GB
     * was read whole (its bytes and its text, 4 GB) and ran out of memory. The file is sparse, so nothing is written.
     */
    @Test
    void anIndexOverAHundredMiBIsRefusedUnread() throws IOException {
        twoShards(false);
        Path index = dir.resolve("model.safetensors.index.json");
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(index.toFile(), "rw")) {
            raf.setLength(SafetensorsFile.MAX_HEADER_BYTES + 1);
        }
        long before = Fixtures.allocatedBytes();
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(index + ": too large (104857601 bytes; at most 104857600)");
        assertThat(Fixtures.allocatedBytes() - before).isLessThan(16L << 20);
    }

    /** Valid JSON past the reader's limits is said to be that, as a header's is, not "not valid JSON". */
    @Test
    void anIndexPastTheParsersLimitsIsSaidToBeSo() throws IOException {
        twoShards(false);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"" + "s".repeat(Json.MAX_STRING_CHARS + 1) + "\"}}");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(index + ": beyond this reader's limits: String value length");
    }

    /**
     * The index's strings are shown cut and on one line, as a header's are; a NUL in a shard's name, which no path
     * can hold, was an InvalidPathException (exit 1 from the CLI) rather than a bad checkpoint.
     */
    @Test
    void theIndexsStringsAreShownCutOnOneLineAndANulIsNotAFileName() throws IOException {
        twoShards(false);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"x\\u0000y\"}}");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(index + ": tensor a: shard x\\u0000y is not a file name in the checkpoint directory");
        String longName = "s".repeat(1 << 20);
        SafetensorsWriter.writeIndex(dir, weightMap("a\nb", longName));
        String shownName = "s".repeat(200) + "... (1048576 characters)";
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageEndingWith(": tensor a\\nb: shard file " + shownName + " named in "
                        + "model.safetensors.index.json is missing")
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(2000).doesNotContain("\n"));
        SafetensorsWriter.writeIndex(dir, weightMap("d\r", S1));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve(S1) + ": tensor d\\r: tensor listed in model.safetensors.index.json is"
                        + " absent from shard " + S1);
        Files.writeString(index, "{\"weight_map\": {\"" + "t".repeat(300) + "\": 1}}");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(index + ": tensor " + "t".repeat(200) + "... (300 characters): weight_map value is not"
                        + " a string");
    }

    @Test
    void singleFileWithoutIndex() {
        new SafetensorsWriter().add("x", DType.F16, new long[] {2}, values(2, 1))
                .write(dir.resolve("weights.safetensors"));
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            assertThat(c.tensors()).containsOnlyKeys("x");
            assertThat(c.fileOf("x").getFileName().toString()).isEqualTo("weights.safetensors");
            assertThat(c.listing()).isEqualTo(dir.resolve("weights.safetensors"));
        }
        new SafetensorsWriter().add("y", DType.F32, new long[] {1}, values(1, 1))
                .write(dir.resolve("other.safetensors"));
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no safetensors file");
        new SafetensorsWriter().add("m", DType.F32, new long[] {1}, values(1, 1))
                .write(dir.resolve("model.safetensors"));
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            assertThat(c.tensors()).containsOnlyKeys("m");
            assertThat(c.listing()).isEqualTo(dir.resolve("model.safetensors"));
        }
    }

    @Test
    void emptyOrMissingDirectory() {
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir + ": no safetensors file");
        assertThatThrownBy(() -> ShardedCheckpoint.open(dir.resolve("nope"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not a directory");
    }
}
