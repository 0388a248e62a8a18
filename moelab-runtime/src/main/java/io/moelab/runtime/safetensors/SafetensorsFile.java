package io.moelab.runtime.safetensors;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * One safetensors file, memory-mapped read-only. {@link #open} validates the whole header before mapping: every
 * tensor has a supported dtype, a shape whose size matches its byte range, and a byte range inside the data
 * section that overlaps no other tensor; the data section ends where the last tensor ends. Segments returned by
 * {@link #segment} are valid until {@link #close}. Thread-safe: the mapping belongs to a shared arena.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The largest header accepted, as the reference implementation limits it. */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final long dataStart;
    private final Arena arena;
    private final MemorySegment mapped;
    private boolean closed;

    private SafetensorsFile(Path path, Header header, long dataStart, Arena arena, MemorySegment mapped) {
        this.path = path;
        this.tensors = header.tensors;
        this.metadata = header.metadata;
        this.dataStart = dataStart;
        this.arena = arena;
        this.mapped = mapped;
    }

    /**
     * Validates the header of {@code file} and maps the file read-only.
     *
     * @throws ModelFormatException if the file is missing, truncated, longer than its tensors, or its header is
     *                              invalid in any way
     * @throws UncheckedIOException if the file cannot be mapped (an address-space limit), or on other I/O failures
     */
    public static SafetensorsFile open(Path file) {
        String f = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new ModelFormatException(f, null,
                        "file is " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lengthBytes, 0, f);
            long n = lengthBytes.getLong(0);
            if (n == 0) {
                throw new ModelFormatException(f, null, "header length is 0");
            }
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new ModelFormatException(f, null, "header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            if (n > size - 8) {
                throw new ModelFormatException(f, null, "header length " + n + " exceeds the "
                        + (size - 8) + " bytes after the length field");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
            readFully(ch, headerBytes, 8, f);
            Header header = parseHeader(f, headerBytes.array(), size - 8 - n);
            Arena arena = Arena.ofShared();
            MemorySegment mapped;
            try {
                mapped = ch.map(MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException e) {
                arena.close();
                // Said as such: "cannot read" named no cause, and the CLI's one line dropped "Map failed".
                throw new UncheckedIOException("cannot map " + f + " (" + size + " bytes) into memory: "
                        + e.getMessage() + " (every shard is mapped whole: an address-space limit such as ulimit -v"
                        + " must leave room for the whole checkpoint)", e);
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
            return new SafetensorsFile(file, header, 8 + n, arena, mapped);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(f, null, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, String f) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new ModelFormatException(f, null, "file shrank while reading the header");
            }
            pos += r;
        }
    }

    private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    private static Header parseHeader(String f, byte[] bytes, long dataSize) {
        if (!isUtf8(bytes)) {
            throw new ModelFormatException(f, null, "header is not valid UTF-8");
        }
        // Decoded once, as a string: checked first in small pieces, the header is not held twice more as chars.
        String text = new String(bytes, StandardCharsets.UTF_8);
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new ModelFormatException(f, null, "header is " + Json.problem(e));
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(f, null, "header is not a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                parseMetadata(f, e.getValue(), metadata);
            } else {
                tensors.put(e.getKey(), parseTensor(f, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkOverlaps(f, tensors);
        checkCovered(f, tensors, dataSize);
        return new Header(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /** Whether the bytes are well-formed UTF-8, decoded into a small buffer that is thrown away as it fills. */
    private static boolean isUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input, replaces nothing
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) {
                return false;
            }
            if (r.isUnderflow()) {
                return !decoder.flush(out).isError();
            }
            out.clear();
        }
    }

    private static void parseMetadata(String f, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new ModelFormatException(f, null, METADATA_KEY + " is not an object");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isString()) {
                throw new ModelFormatException(f, null,
                        METADATA_KEY + " value of key '" + shown(e.getKey()) + "' is not a string");
            }
            out.put(e.getKey(), e.getValue().stringValue());
        }
    }

    private static TensorInfo parseTensor(String f, String name, JsonNode node, long dataSize) {
        // Errors show the name as shown(): a forged header's names are not to be echoed whole.
        String shownName = shown(name);
        if (!node.isObject()) {
            throw new ModelFormatException(f, shownName, "entry is not an object");
        }
        for (String key : node.propertyNames()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new ModelFormatException(f, shownName, "unexpected key '" + shown(key) + "'");
            }
        }
        for (String key : List.of("dtype", "shape", "data_offsets")) {
            if (!node.has(key)) {
                throw new ModelFormatException(f, shownName, "missing key '" + key + "'");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (!dtypeNode.isString()) {
            throw new ModelFormatException(f, shownName, "dtype is not a string");
        }
        String dtypeName = dtypeNode.stringValue();
        DType dtype = DType.parse(dtypeName).orElseThrow(
                () -> new ModelFormatException(f, shownName, "unsupported dtype " + shown(dtypeName)));
        long[] shape = longs(f, shownName, node.get("shape"), "shape", -1);
        long[] offsets = longs(f, shownName, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new ModelFormatException(f, shownName, "data_offsets begin " + begin + " > end " + end);
        }
        long needed;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            needed = Math.multiplyExact(elements, (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(f, shownName, "byte size of shape " + Arrays.toString(shape) + " "
                    + dtype + " overflows a long");
        }
        if (end - begin != needed) {
            throw new ModelFormatException(f, shownName, "data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " " + dtype + " needs "
                    + needed);
        }
        if (end > dataSize) {
            throw new ModelFormatException(f, shownName, "data_offsets end " + end + " is beyond the data section of "
                    + dataSize + " bytes");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** An array of non-negative longs, of length {@code length} unless that is -1. */
    private static long[] longs(String f, String name, JsonNode node, String key, int length) {
        String what = length < 0 ? "an array of non-negative integers" : "an array of " + length
                + " non-negative integers";
        if (!node.isArray() || (length >= 0 && node.size() != length)) {
            throw new ModelFormatException(f, name, key + " is not " + what);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new ModelFormatException(f, name, key + " is not " + what);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /**
     * The data section ends where the last tensor ends, as the reference implementation requires (it refuses a
     * buffer whose length is not the tensors' end): bytes after it belong to no tensor, the sign of a file
     * appended to or written by something else.
     */
    private static void checkCovered(String f, Map<String, TensorInfo> tensors, long dataSize) {
        long end = 0;
        for (TensorInfo t : tensors.values()) {
            end = Math.max(end, t.end());
        }
        if (end != dataSize) {
            long extra = dataSize - end;
            throw new ModelFormatException(f, null, extra + (extra == 1 ? " byte" : " bytes") + " after the last"
                    + " tensor unaccounted for (the data section is " + dataSize + " bytes, the tensors'"
                    + " data_offsets end at " + end + ")");
        }
    }

    /**
     * Empty tensors occupy no bytes and overlap nothing; the others must be pairwise disjoint and, as the reference
     * library requires, leave no gap: the first starts at 0 and each starts where the one before ends (bytes between
     * tensors belong to none of them).
     */
    private static void checkOverlaps(String f, Map<String, TensorInfo> tensors) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : tensors.values()) {
            if (t.begin() < t.end()) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (previous != null && t.begin() < previous.end()) {
                throw new ModelFormatException(f, shown(t.name()), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap tensor " + shown(previous.name()) + " [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            long gapFrom = previous == null ? 0 : previous.end();
            if (t.begin() > gapFrom) {
                throw new ModelFormatException(f, shown(t.name()), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] leave bytes " + gapFrom + ".." + (t.begin() - 1) + " unaccounted for"
                        + (previous == null ? " before the first tensor" : " after tensor " + shown(previous.name())));
            }
            if (previous == null || t.end() > previous.end()) {
                previous = t;
            }
        }
    }

    /** Most characters of a header's string that a message shows. */
    private static final int SHOWN_CHARS = 200;

    /**
     * A string from a header or an index as an error shows it: control characters escaped as JSON escapes them (a
     * newline ended the CLI's one line before the problem), cut after {@value #SHOWN_CHARS} characters with its
     * length (a forged 20 MB dtype was a 20 MB error). Other strings are returned as they are.
     */
    static String shown(String s) {
        int n = Math.min(s.length(), SHOWN_CHARS);
        int i = 0;
        while (i < n && s.charAt(i) >= 0x20) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder b = new StringBuilder(n + 32).append(s, 0, i);
        for (; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return s.length() > n ? b.append("... (").append(s.length()).append(" characters)").toString()
                : b.toString();
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** All tensors, by name, in header order. Unmodifiable. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} entries, in header order; empty if the header has none. Unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor called {@code name}, if there is one. */
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /**
     * A read-only slice of the mapping holding the tensor's bytes (little-endian, row-major). Not aligned beyond
     * what the file's offsets give.
     *
     * @throws ModelFormatException if there is no such tensor
     * @throws IllegalStateException if this file has been closed
     */
    public MemorySegment segment(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path.toString(), name, "no such tensor");
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(path + " is closed");
            }
        }
        return mapped.asSlice(dataStart + t.begin(), t.byteSize()).asReadOnly();
    }

    /** The file offset of the data section: 8 plus the header length. */
    public long dataStart() {
        return dataStart;
    }

    /** Unmaps the file; segments obtained from it become inaccessible. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
