package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers shared by the safetensors tests. */
final class Fixtures {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Fixtures() {
    }

    /** A file: the given length field, header bytes and data. */
    static byte[] file(long lengthField, byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(lengthField).put(header).put(data).array();
    }

    /** A file whose length field is right for {@code header}. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h.length, h, data);
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] floats(MemorySegment s) {
        float[] out = new float[(int) (s.byteSize() / 4)];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.get(F32, 4L * i);
        }
        return out;
    }

    static short[] shorts(MemorySegment s) {
        short[] out = new short[(int) (s.byteSize() / 2)];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.get(I16, 2L * i);
        }
        return out;
    }

    /** Bytes allocated so far by the current thread. */
    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    /**
     * Asserts that opening {@code bytes} (written to {@code dir}) fails with a ModelFormatException naming the
     * file, the tensor (or none when null) and containing {@code problem}.
     */
    static ModelFormatException assertRejects(Path dir, byte[] bytes, String tensor, String problem) {
        return assertRejects(dir, bytes, tensor, problem, Long.MAX_VALUE);
    }

    /** As {@link #assertRejects(Path, byte[], String, String)}, allocating under {@code maxAllocation} bytes. */
    static ModelFormatException assertRejects(Path dir, byte[] bytes, String tensor, String problem,
            long maxAllocation) {
        Path f = write(dir, "bad.safetensors", bytes);
        long before = allocatedBytes();
        Throwable[] thrown = new Throwable[1];
        assertThatThrownBy(() -> {
            try (SafetensorsFile s = SafetensorsFile.open(f)) {
                throw new AssertionError("opened: " + s.tensors());
            }
        }).satisfies(t -> thrown[0] = t).isInstanceOf(ModelFormatException.class);
        assertThat(allocatedBytes() - before).isLessThan(maxAllocation);
        ModelFormatException e = (ModelFormatException) thrown[0];
        assertThat(e.file()).isEqualTo(f.toString());
        assertThat(e.getMessage()).startsWith(f.toString()).contains(problem).doesNotContain("\n");
        if (tensor == null) {
            assertThat(e.tensor()).isNull();
        } else {
            assertThat(e.tensor()).isEqualTo(tensor);
            assertThat(e.getMessage()).contains("tensor " + tensor);
        }
        return e;
    }
}
