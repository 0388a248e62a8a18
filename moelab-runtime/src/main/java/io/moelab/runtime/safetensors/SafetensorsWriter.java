package io.moelab.runtime.safetensors;

import io.moelab.runtime.AtomicWrite;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds a safetensors file in memory and writes it atomically (see {@link #write}). Tensors are laid out back to
 * back in the order they were added; the header JSON lists {@code __metadata__} (if any) first, then the tensors in
 * the same order, each as {@code {"dtype", "shape", "data_offsets"}}, padded with spaces to a multiple of 8 bytes.
 * Not thread-safe.
 */
public final class SafetensorsWriter {
    /** The file name of the index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private record Entry(String name, String dtype, long[] shape, byte[] data) {
    }

    /** The most bytes one tensor may have: the largest array the JVM allocates, 2^31 - 9. */
    public static final int MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

    /** Bytes handed to the file at once. */
    private static final int WRITE_SLICE = 1 << 20;

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** An empty writer. */
    public SafetensorsWriter() {
    }

    /**
     * Adds a tensor, converting {@code values} (row-major) to {@code dtype}: F32 exactly, F16 and BF16 rounded to
     * nearest even.
     *
     * @throws IllegalArgumentException if the name is taken or reserved, a dimension is negative, the tensor's
     *                                  bytes would exceed {@value #MAX_TENSOR_BYTES} (they are held in one array;
     *                                  refused before anything is allocated), or the number of values differs from
     *                                  the product of the shape
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        Objects.requireNonNull(dtype, "dtype");
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
        }
        // The size in BigInteger: a shape's element count can overflow a long, and its bytes an int.
        BigInteger elements = BigInteger.ONE;
        for (long d : shape) {
            elements = elements.multiply(BigInteger.valueOf(d));
        }
        BigInteger bytes = elements.multiply(BigInteger.valueOf(dtype.bytes()));
        if (bytes.compareTo(BigInteger.valueOf(MAX_TENSOR_BYTES)) > 0) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " of "
                    + dtype + " is " + bytes + " bytes, more than the " + MAX_TENSOR_BYTES
                    + " (2^31 - 9) one tensor can hold");
        }
        if (elements.longValueExact() != values.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " has "
                    + elements + " elements but " + values.length + " values were given");
        }
        ByteBuffer buf = ByteBuffer.allocate(bytes.intValueExact()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> buf.putFloat(v);
                case F16 -> buf.putShort(HalfFloats.floatToF16(v));
                case BF16 -> buf.putShort(HalfFloats.floatToBf16(v));
            }
        }
        return put(name, dtype.name(), shape, buf.array());
    }

    /**
     * Adds a tensor of any dtype name with the given bytes, unchecked against the shape: for fixtures of
     * unsupported or corrupt files.
     *
     * @throws IllegalArgumentException if the name is taken or reserved
     */
    public SafetensorsWriter addRaw(String name, String dtype, long[] shape, byte[] data) {
        Objects.requireNonNull(dtype, "dtype");
        return put(name, dtype, shape, data.clone());
    }

    private SafetensorsWriter put(String name, String dtype, long[] shape, byte[] data) {
        Objects.requireNonNull(name, "name");
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("tensor name __metadata__ is reserved");
        }
        for (Entry e : entries) {
            if (e.name.equals(name)) {
                throw new IllegalArgumentException("duplicate tensor " + name);
            }
        }
        entries.add(new Entry(name, dtype, shape.clone(), data));
        return this;
    }

    /** Sets a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /**
     * The file's first part: the 8-byte header length and the header, padded. The tensors' bytes follow it in
     * order; they are streamed after it rather than copied into one array, which cannot hold more than 2^31 - 1
     * bytes (a larger checkpoint failed with "integer overflow") and held the checkpoint twice.
     */
    private byte[] header() {
        ObjectNode header = Json.MAPPER.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name);
            t.put("dtype", e.dtype);
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape) {
                shape.add(d);
            }
            long end = offset + e.data.length;
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = Json.MAPPER.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        return out.array();
    }

    /**
     * Writes the file: to a hidden temporary file in the same directory, forced to the disk, then renamed over
     * {@code file} (atomically where the file system allows). A JVM ended by a signal mid-write deletes the
     * temporary file as it shuts down.
     *
     * @throws UncheckedIOException if writing fails
     */
    public void write(Path file) {
        byte[] header = header();
        writeAtomically(file, out -> {
            out.write(header);
            for (Entry e : entries) {
                // In slices: the channel copies each write into a temporary direct buffer of its size.
                for (int at = 0; at < e.data.length; at += WRITE_SLICE) {
                    out.write(e.data, at, Math.min(WRITE_SLICE, e.data.length - at));
                }
            }
        });
    }

    /**
     * Writes {@code dir/model.safetensors.index.json} for a sharded checkpoint: an empty {@code metadata} object
     * and the given {@code weight_map} (tensor name to shard file name), in map order.
     *
     * @throws UncheckedIOException if writing fails
     */
    public static void writeIndex(Path dir, Map<String, String> weightMap) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.putObject("metadata");
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach(map::put);
        byte[] bytes = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root)
                .getBytes(StandardCharsets.UTF_8);
        writeAtomically(dir.resolve(INDEX_FILE), out -> out.write(bytes));
    }

    /** What {@link #writeAtomically} writes. */
    interface Body {
        /** Writes everything to {@code out}; the caller closes it. */
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code file} all-or-nothing through {@link AtomicWrite}: a hidden temporary file beside it, forced to the
     * disk and renamed over it, deleted on failure or when the JVM ends mid-write. Package-private for a test's child
     * JVM.
     */
    static void writeAtomically(Path file, Body body) {
        try {
            AtomicWrite.write(file, channel -> body.writeTo(Channels.newOutputStream(channel)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
