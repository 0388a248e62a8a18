package io.moelab.runtime.safetensors;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Safetensors files of real-checkpoint size that cost no disk and no time: the header is written, the data section
 * is a hole (a sparse file, read as zeros) but for the few bytes a test places. Offsets, sizes and tensors past 2 GiB
 * and 4 GiB are then cheap to test.
 */
public final class SparseCheckpoint {
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, String> dtypes = new LinkedHashMap<>();
    private final Map<String, Long> begins = new LinkedHashMap<>();
    private final Map<Long, byte[]> pokes = new LinkedHashMap<>();
    private long size;

    /** Appends a tensor of {@code dtype} (F32, F16 or BF16) and {@code shape}; returns its first data byte. */
    public long tensor(String name, String dtype, long... shape) {
        long bytes = dtype.equals("F32") ? 4 : 2;
        for (long d : shape) {
            bytes *= d;
        }
        shapes.put(name, shape.clone());
        dtypes.put(name, dtype);
        begins.put(name, size);
        size += bytes;
        return size - bytes;
    }

    /** Places little-endian 16-bit {@code value} at byte {@code offset} of the data section. */
    public SparseCheckpoint poke16(long offset, short value) {
        pokes.put(offset, new byte[] {(byte) value, (byte) (value >> 8)});
        return this;
    }

    /** Writes the file; returns {@code file}. */
    public Path write(Path file) {
        StringBuilder h = new StringBuilder("{");
        for (String name : shapes.keySet()) {
            long[] s = shapes.get(name);
            StringBuilder shape = new StringBuilder();
            long bytes = dtypes.get(name).equals("F32") ? 4 : 2;
            for (long d : s) {
                shape.append(shape.isEmpty() ? "" : ",").append(d);
                bytes *= d;
            }
            long b = begins.get(name);
            h.append(h.length() > 1 ? "," : "").append('"').append(name).append("\":{\"dtype\":\"")
                    .append(dtypes.get(name)).append("\",\"shape\":[").append(shape).append("],\"data_offsets\":[")
                    .append(b).append(',').append(b + bytes).append("]}");
        }
        byte[] header = h.append('}').toString().getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            f.write(header);
            long dataStart = 8 + header.length;
            f.setLength(dataStart + size);
            for (Map.Entry<Long, byte[]> p : pokes.entrySet()) {
                f.seek(dataStart + p.getKey());
                f.write(p.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
