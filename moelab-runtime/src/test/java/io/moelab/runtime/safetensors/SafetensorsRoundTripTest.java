package io.moelab.runtime.safetensors;

import static io.moelab.runtime.safetensors.Fixtures.floats;
import static io.moelab.runtime.safetensors.Fixtures.shorts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    private static final float[] SAMPLES = {1.0f, -2.0f, 3.14159f, 0.1f, 65504f, 1e-8f, -0.0f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, 123456.789f, -7.5e-3f};

    @Test
    void roundTripsEveryDtypeAndShape() throws IOException {
        float[] six = {1, 2, 3, 4, 5, 6};
        Path f = dir.resolve("model.safetensors");
        new SafetensorsWriter()
                .add("f32", DType.F32, new long[] {2, 3}, six)
                .add("f16", DType.F16, new long[] {SAMPLES.length}, SAMPLES)
                .add("bf16", DType.BF16, new long[] {3, 1, 4}, SAMPLES)
                .add("scalar", DType.F32, new long[0], new float[] {42.5f})
                .add("empty", DType.BF16, new long[] {0, 4}, new float[0])
                .add("tail", DType.F32, new long[] {1}, new float[] {Float.NaN})
                .write(f);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertThat(s.path()).isEqualTo(f);
            assertThat(s.tensors().keySet()).containsExactly("f32", "f16", "bf16", "scalar", "empty", "tail");
            assertThat(s.metadata()).isEmpty();
            assertThat(s.dataStart() % 8).isZero();
            assertThat(s.dataStart() + 24 + 24 + 24 + 4 + 4).isEqualTo(Files.size(f));

            assertThat(s.info("f32")).contains(new TensorInfo("f32", DType.F32, new long[] {2, 3}, 0, 24));
            assertThat(s.info("f16")).contains(new TensorInfo("f16", DType.F16, new long[] {12}, 24, 48));
            assertThat(s.info("bf16")).contains(new TensorInfo("bf16", DType.BF16, new long[] {3, 1, 4}, 48, 72));
            assertThat(s.info("scalar")).contains(new TensorInfo("scalar", DType.F32, new long[0], 72, 76));
            assertThat(s.info("empty")).contains(new TensorInfo("empty", DType.BF16, new long[] {0, 4}, 76, 76));
            assertThat(s.info("nope")).isEmpty();

            assertThat(floats(s.segment("f32"))).containsExactly(six);
            assertThat(floats(s.segment("scalar"))).containsExactly(42.5f);
            assertThat(s.segment("empty").byteSize()).isZero();
            assertThat(Float.isNaN(floats(s.segment("tail"))[0])).isTrue();

            short[] f16 = shorts(s.segment("f16"));
            short[] bf16 = shorts(s.segment("bf16"));
            for (int i = 0; i < SAMPLES.length; i++) {
                assertThat(f16[i]).as("f16 of %s", SAMPLES[i]).isEqualTo(Float.floatToFloat16(SAMPLES[i]));
                assertThat(bf16[i]).as("bf16 of %s", SAMPLES[i])
                        .isEqualTo(HalfFloatsTest.referenceBf16(SAMPLES[i]));
            }
            // By hand.
            assertThat(f16[0]).isEqualTo((short) 0x3C00);
            assertThat(f16[1]).isEqualTo((short) 0xC000);
            assertThat(f16[4]).isEqualTo((short) 0x7BFF);
            assertThat(bf16[0]).isEqualTo((short) 0x3F80);
            assertThat(bf16[1]).isEqualTo((short) 0xC000);
            assertThat(bf16[2]).isEqualTo((short) 0x4049);
            assertThat(bf16[3]).isEqualTo((short) 0x3DCD);
            assertThat(bf16[7]).isEqualTo((short) 0x7F80);

            MemorySegment seg = s.segment("f32");
            assertThat(seg.isReadOnly()).isTrue();
            assertThatThrownBy(() -> s.segment("nope"))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("tensor nope");
        }
    }

    @Test
    void metadataRoundTrips() {
        Path f = dir.resolve("m.safetensors");
        new SafetensorsWriter().metadata("format", "pt").metadata("note", "ünïcode \"quoted\"")
                .add("w", DType.F32, new long[] {1}, new float[] {1}).write(f);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertThat(s.metadata()).containsExactly(
                    java.util.Map.entry("format", "pt"), java.util.Map.entry("note", "ünïcode \"quoted\""));
            assertThat(s.tensors()).containsOnlyKeys("w");
        }
    }

    @Test
    void headerIsPaddedWithSpacesToEight() throws IOException {
        for (int nameLength = 1; nameLength <= 9; nameLength++) {
            Path f = dir.resolve("p" + nameLength + ".safetensors");
            new SafetensorsWriter().add("x".repeat(nameLength), DType.F16, new long[] {3}, new float[] {1, 2, 3})
                    .write(f);
            byte[] bytes = Files.readAllBytes(f);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertThat(n % 8).isZero();
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            assertThat(header.stripTrailing()).endsWith("}");
            assertThat(header.substring(header.stripTrailing().length())).matches(" {0,7}");
            assertThat(bytes.length).isEqualTo(8 + n + 6);
        }
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTemporaries() throws IOException {
        Path f = dir.resolve("model.safetensors");
        new SafetensorsWriter().add("a", DType.F32, new long[] {1}, new float[] {1}).write(f);
        new SafetensorsWriter().add("b", DType.F32, new long[] {1}, new float[] {2}).write(f);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertThat(s.tensors()).containsOnlyKeys("b");
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(f);
        }
    }

    /**
     * The written file gets the permissions of any file the user creates (the umask's), not the owner-only ones of a
     * temporary file, which the rename used to keep: an exported checkpoint others could not read.
     */
    @Test
    void writtenFilesHaveTheUsualPermissions() throws IOException {
        Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path usual = Files.createFile(dir.resolve("usual"));
        Path f = dir.resolve("m.safetensors");
        new SafetensorsWriter().add("a", DType.F32, new long[] {1}, new float[] {1}).write(f);
        SafetensorsWriter.writeIndex(dir, Map.of("a", "m.safetensors"));
        assertThat(Files.getPosixFilePermissions(f)).isEqualTo(Files.getPosixFilePermissions(usual));
        assertThat(Files.getPosixFilePermissions(dir.resolve(SafetensorsWriter.INDEX_FILE)))
                .isEqualTo(Files.getPosixFilePermissions(usual));
    }

    /**
     * A file past 2 GiB (a training checkpoint of ~180M parameters with their optimizer state) is written: the whole
     * file used to be assembled in one byte array first, which failed with "integer overflow" past 2^31 - 1 bytes
     * (and held the checkpoint twice in memory). Needs ~2.7 GiB of heap and 2.2 GB of disk.
     */
    @Test
    void writesAFileLargerThanTwoGibibytes() throws IOException {
        Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() >= 7L << 29, "a heap of at least 3.5 GiB");
        Assumptions.assumeTrue(Files.getFileStore(dir).getUsableSpace() >= 4L << 30, "4 GiB of free disk");
        int bytes = 540_000_000; // four of them: 2.16e9 bytes, past 2^31 - 1
        byte[] data = new byte[bytes];
        Path f = dir.resolve("large.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        for (int t = 0; t < 4; t++) {
            data[bytes - 1] = (byte) (t + 1); // each tensor's last byte tells it apart
            w.addRaw("t" + t, "F32", new long[] {bytes / 4}, data);
        }
        data = null;
        w.write(f);
        try (SafetensorsFile read = SafetensorsFile.open(f)) {
            assertThat(read.tensors()).hasSize(4);
            assertThat(Files.size(f)).isEqualTo(read.dataStart() + 4L * bytes);
            for (int t = 0; t < 4; t++) {
                MemorySegment s = read.segment("t" + t);
                assertThat(s.byteSize()).isEqualTo(bytes);
                assertThat(s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, bytes - 1)).isEqualTo((byte) (t + 1));
                assertThat(s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isZero();
            }
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void writerRejectsBadInput() {
        SafetensorsWriter w = new SafetensorsWriter().add("a", DType.F32, new long[] {1}, new float[] {1});
        assertThatThrownBy(() -> w.add("a", DType.F32, new long[] {1}, new float[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> w.add("b", DType.F32, new long[] {2}, new float[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 values");
        assertThatThrownBy(() -> w.add("c", DType.F32, new long[] {-1}, new float[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addRaw("__metadata__", "F32", new long[0], new byte[4]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** {"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} then 1.0f, -2.0f, built byte by byte. */
    static byte[] golden() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertThat(header.length()).isEqualTo(54);
        byte[] out = new byte[8 + 54 + 8];
        out[0] = 54; // little-endian u64 = 54; bytes 1..7 stay 0
        for (int i = 0; i < 54; i++) {
            out[8 + i] = (byte) header.charAt(i);
        }
        byte[] data = {
            0x00, 0x00, (byte) 0x80, 0x3F, // 1.0f = 0x3F800000
            0x00, 0x00, 0x00, (byte) 0xC0, // -2.0f = 0xC0000000
        };
        System.arraycopy(data, 0, out, 62, 8);
        return out;
    }

    @Test
    void readsHandBuiltGoldenFile() {
        Path f = Fixtures.write(dir, "golden.safetensors", golden());
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertThat(s.dataStart()).isEqualTo(62);
            assertThat(s.tensors()).containsOnlyKeys("w");
            assertThat(s.info("w")).contains(new TensorInfo("w", DType.F32, new long[] {2}, 0, 8));
            assertThat(floats(s.segment("w"))).containsExactly(1.0f, -2.0f);
        }
    }

    @Test
    void writerProducesGoldenBytesUpToPadding() throws IOException {
        Path f = dir.resolve("w.safetensors");
        new SafetensorsWriter().add("w", DType.F32, new long[] {2}, new float[] {1.0f, -2.0f}).write(f);
        byte[] written = Files.readAllBytes(f);
        byte[] golden = golden();
        // Writer pads the 54-byte header to 56 with two spaces.
        assertThat(written.length).isEqualTo(golden.length + 2);
        assertThat(Arrays.copyOfRange(written, 0, 8)).containsExactly(56, 0, 0, 0, 0, 0, 0, 0);
        assertThat(Arrays.copyOfRange(written, 8, 62)).containsExactly(Arrays.copyOfRange(golden, 8, 62));
        assertThat(Arrays.copyOfRange(written, 62, 64)).containsExactly(' ', ' ');
        assertThat(Arrays.copyOfRange(written, 64, 72)).containsExactly(Arrays.copyOfRange(golden, 62, 70));
    }

    @Test
    void closeIsIdempotentAndInvalidatesSegments() {
        Path f = Fixtures.write(dir, "golden.safetensors", golden());
        SafetensorsFile s = SafetensorsFile.open(f);
        MemorySegment seg = s.segment("w");
        s.close();
        s.close();
        assertThatThrownBy(() -> floats(seg)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> s.segment("w")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rawTensorsOfOtherDtypesAreWrittenVerbatim() throws IOException {
        Path f = dir.resolve("raw.safetensors");
        new SafetensorsWriter().addRaw("ids", "I64", new long[] {1}, new byte[] {1, 0, 0, 0, 0, 0, 0, 0}).write(f);
        String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        assertThat(text).contains("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}");
    }
}
