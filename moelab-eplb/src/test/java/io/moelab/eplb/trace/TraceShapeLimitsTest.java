package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decompression bombs by shape: a few hundred KiB of gzip or deflate that state one step of 2^27 loads (1 GiB as
 * doubles, twice that once validated). A 255 KiB re-zipped .pt of [1][2^28] took 47 s and 5.5 GB, then ran out of
 * memory. No trace of more experts per layer than a placement has slots can be planned, and no model has a step of
 * 2^24 loads, so each is refused as soon as its shape passes a limit: from a compact header, a .pt's pickle, or the
 * JSON numbers as they are parsed, before the rest is read.
 */
class TraceShapeLimitsTest {
    /** 2^27 loads: more than either limit, in one row or in one column. */
    private static final int HUGE = 1 << 27;
    private static final String EXPERTS = "has more than 65536 experts per layer, the most read (a placement has at "
            + "most 65536 slots per layer, so no trace of more can be planned)";
    private static final String LOADS = "has more than 16777216 loads per step (layers x experts), the most read "
            + "(2^24, far above any model: DeepSeek-V3 has 61 x 256)";

    @TempDir
    Path dir;

    /** Gzip of {@code head}, {@code unit} {@code times} times (a separator between, none after), then {@code tail}. */
    private Path gzipRepeating(String name, String head, String unit, String separator, int times, String tail)
            throws IOException {
        Path path = dir.resolve(name);
        try (OutputStream out = gzip(path)) {
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            repeat(out, (unit + separator).getBytes(StandardCharsets.US_ASCII), times - 1);
            out.write((unit + tail).getBytes(StandardCharsets.US_ASCII));
        }
        return path;
    }

    /** A gzip stream to {@code path}, fast rather than small: the files are written in every run. */
    private static OutputStream gzip(Path path) throws IOException {
        return new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(path)), 1 << 16) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        };
    }

    /** Writes {@code unit} {@code times} times, a chunk at a time. */
    private static void repeat(OutputStream out, byte[] unit, long times) throws IOException {
        int perChunk = Math.max(1, (1 << 16) / unit.length);
        byte[] chunk = new byte[perChunk * unit.length];
        for (int i = 0; i < perChunk; i++) {
            System.arraycopy(unit, 0, chunk, i * unit.length, unit.length);
        }
        for (long left = times; left > 0; left -= perChunk) {
            out.write(chunk, 0, (int) Math.min(left, perChunk) * unit.length);
        }
    }

    /**
     * Asserts that reading {@code path} is refused with {@code path: problem}. (Before the limits the bombs here took
     * 10 to 45 s with a 6 GB heap, and ran out of memory with less; refused, they take milliseconds where the shape
     * is known up front, seconds where 2^24 numbers are parsed first.)
     */
    private static void assertRefused(Path path, String problem) {
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + problem);
        assertThatThrownBy(() -> TraceFiles.read(path, new WindowSums(1))).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + problem);
    }

    // ---------------------------------------------------------------- JSON

    @Test
    void aJsonRowOfTooManyExpertsIsRefusedWhileItIsParsed() throws IOException {
        // 256 MiB of JSON in 250 KiB of gzip: each is refused at the 65,537th number of its first row.
        assertRefused(gzipRepeating("sglang.json.gz", "{\"logical_count\": [[", "0", ",", HUGE, "]]}"),
                "logical_count[0]: " + EXPERTS);
        assertRefused(gzipRepeating("passes.json.gz", "{\"logical_count\": [[[1, 2], [3, 4]], [[", "0", ",", HUGE,
                "]]]}"), "logical_count[1][0]: " + EXPERTS);
        assertRefused(gzipRepeating("vllm.json.gz", "{\"load_history\": [{\"logical_expert_load\": [[", "0", ",",
                HUGE, "]]}]}"), "load_history[0].logical_expert_load[0]: " + EXPERTS);
    }

    @Test
    void aJsonStepOfTooManyLoadsIsRefusedWhileItIsParsed() throws IOException {
        // [2^24 + 1][1]: rows of one expert, one load past the limit (each parsed number costs time, so one format
        // here; NumericArrayTest checks the limits' arithmetic, the row test above that every format passes them on).
        assertRefused(gzipRepeating("sglang.json.gz", "{\"logical_count\": [", "[0]", ",", (1 << 24) + 1, "]}"),
                "logical_count: " + LOADS);
    }

    @Test
    void aRowAtTheLimitIsRead() throws IOException {
        ExpertLoadTrace wide = TraceFiles.read(gzipRepeating("wide.json.gz", "{\"logical_count\": [[1,", "0", ",",
                65535, "]]}"));
        assertThat(wide.experts()).isEqualTo(65536);
        assertThat(wide.step(0).load(0, 0)).isEqualTo(1);
    }

    // ---------------------------------------------------------------- compact

    private static byte[] varint(long v) {
        byte[] out = new byte[10];
        int n = 0;
        while ((v & ~0x7FL) != 0) {
            out[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[n++] = (byte) v;
        return java.util.Arrays.copyOf(out, n);
    }

    /** A compact trace of one step of {@code layers} x {@code experts} zeros, gzip'd. */
    private Path compactZeros(String name, int layers, int experts) throws IOException {
        Path path = dir.resolve(name);
        try (OutputStream out = gzip(path)) {
            out.write("MOELABTR".getBytes(StandardCharsets.US_ASCII));
            out.write(1);
            out.write(varint(layers));
            out.write(varint(experts));
            out.write(varint(1));
            out.write(0); // integers: a zig-zag delta of 0 is one byte 0
            repeat(out, new byte[] {0}, (long) layers * experts);
        }
        return path;
    }

    @Test
    void aCompactHeaderOfTooLargeAStepIsRefusedBeforeAnyLoadIsRead() throws IOException {
        assertRefused(compactZeros("wide.mlt", 1, HUGE), "header: has 134217728 experts per layer, more than the "
                + "65536 read (a placement has at most 65536 slots per layer, so no trace of more can be planned)");
        assertRefused(compactZeros("tall.mlt", HUGE, 1), "header: has 134217728 layers x 1 expert = 134217728 loads "
                + "per step, more than the 16777216 read (2^24, far above any model: DeepSeek-V3 has 61 x 256)");
        assertRefused(compactZeros("past.mlt", 257, 65536), "header: has 257 layers x 65536 experts = 16842752 loads "
                + "per step, more than the 16777216 read (2^24, far above any model: DeepSeek-V3 has 61 x 256)");
        assertThat(TraceFiles.read(compactZeros("edge.mlt", 1, 65536)).experts()).isEqualTo(65536);
    }

    // ---------------------------------------------------------------- .pt

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = TraceShapeLimitsTest.class.getResourceAsStream("torch/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static String binint(int v) {
        byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
        return "J" + new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String replace(String pickle, String from, String to) {
        int at = pickle.indexOf(from);
        assertThat(at).as(from).isNotNegative();
        return pickle.substring(0, at) + to + pickle.substring(at + from.length());
    }

    /**
     * stat_int32.pt re-zipped deflated, its tensor of uint8 {@code [layers][experts]} (contiguous) over a storage of
     * that many zeros: 2^27 of them deflate to about 128 KiB.
     */
    private Path torchZeros(String name, int layers, int experts) throws IOException {
        return rezipped(name, "stat_int32.pt", "data/0", (long) layers * experts, p -> {
            p = replace(p, "ctorch\nIntStorage\n", "ctorch\nByteStorage\n");
            p = replace(p, "cpuq\u0007K\u0018", "cpuq\u0007" + binint(layers * experts));
            // Offset 0, size (2, 4, 3), stride (12, 3, 1) -> size (layers, experts), stride (experts, 1).
            return replace(p, "K\u0000K\u0002K\u0004K\u0003\u0087q\u0009K\u000cK\u0003K\u0001\u0087",
                    "K\u0000" + binint(layers) + binint(experts) + "\u0086q\u0009" + binint(experts) + "K\u0001\u0086");
        });
    }

    /**
     * The fixture {@code fixture} re-zipped deflated, its pickle edited by {@code edit} and its entry ending in
     * {@code storage} replaced by {@code zeros} zero bytes.
     */
    private Path rezipped(String name, String fixture, String storage, long zeros,
                          java.util.function.UnaryOperator<String> edit) throws IOException {
        Path original = Files.write(dir.resolve(fixture), fixture(fixture));
        Path path = dir.resolve(name);
        try (ZipFile in = new ZipFile(original.toFile());
             ZipOutputStream out = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(path)))) {
            for (ZipEntry e : Collections.list(in.entries())) {
                out.putNextEntry(new ZipEntry(e.getName()));
                if (e.getName().endsWith("data.pkl")) {
                    String p;
                    try (InputStream pkl = in.getInputStream(e)) {
                        p = new String(pkl.readAllBytes(), StandardCharsets.ISO_8859_1);
                    }
                    out.write(edit.apply(p).getBytes(StandardCharsets.ISO_8859_1));
                } else if (e.getName().endsWith(storage)) {
                    repeat(out, new byte[] {0}, zeros);
                } else {
                    try (InputStream data = in.getInputStream(e)) {
                        data.transferTo(out);
                    }
                }
                out.closeEntry();
            }
        }
        return path;
    }

    @Test
    void aTorchTensorOfTooLargeAStepIsRefusedBeforeItsStorageIsRead() throws IOException {
        Path wide = torchZeros("wide.pt", 1, HUGE);
        assertThat(Files.size(wide)).isLessThan(1 << 20);
        assertRefused(wide, "logical_count: has 134217728 experts per layer, more than the 65536 read (a placement "
                + "has at most 65536 slots per layer, so no trace of more can be planned)");
        assertRefused(torchZeros("tall.pt", HUGE, 1), "logical_count: has 134217728 layers x 1 expert = 134217728 "
                + "loads per step, more than the 16777216 read (2^24, far above any model: DeepSeek-V3 has 61 x 256)");
        // The edit itself reads: at the limit, every layer zero.
        assertRefused(torchZeros("edge.pt", 1, 65536), "logical_count: every layer has zero load");
    }

    /**
     * A per_pass dump's map of 2^27 physical slots per layer (uint8 zeros, 128 KiB deflated): every record's count is
     * of its shape, so it is refused from the pickle, before the map's storage is read.
     */
    @Test
    void aPerPassMapOfTooManySlotsIsRefusedBeforeItsStorageIsRead() throws IOException {
        // The map: storage "1", int64, 2 elements; size (1, 2), stride (2, 1).
        Path wide = rezipped("map.pt", "per_pass.pt", "data/1", HUGE, p -> {
            p = replace(p, "ctorch\nLongStorage\nq\u0016X\u0001\u0000\u0000\u00001q\u0017h\rK\u0002t",
                    "ctorch\nByteStorage\nq\u0016X\u0001\u0000\u0000\u00001q\u0017h\r" + binint(HUGE) + "t");
            return replace(p, "K\u0000K\u0001K\u0002\u0086q\u0019K\u0002K\u0001\u0086",
                    "K\u0000K\u0001" + binint(HUGE) + "\u0086q\u0019" + binint(HUGE) + "K\u0001\u0086");
        });
        assertRefused(wide, "last_physical_to_logical_map: has 134217728 physical slots per layer, more than the "
                + "65536 read (a placement has at most 65536 slots per layer, so no trace of more can be planned)");
    }
}
