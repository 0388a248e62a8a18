package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SGLang's torch.save dumps ({@code .pt}), read from fixtures that torch 1.13 wrote ({@code make_fixtures.py} beside
 * them says how), checked against the counts the script put in by hand and against the JSON form of the same dump.
 */
class TorchTracesTest {
    @TempDir
    Path dir;

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = TorchTracesTest.class.getResourceAsStream("torch/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private Path fixtureFile(String name) throws IOException {
        return file(name, fixture(name));
    }

    private static double[][][] values(ExpertLoadTrace t) {
        return t.stepList().stream().map(LoadMatrix::toArray).toArray(double[][][]::new);
    }

    /** Layers 0 and 3 of stat_int32.pt are zero in both passes: dropped, as the JSON form's are. */
    private static final double[][][] STAT_INT32 = {
            {{1, 2, 3}, {0, 0, 0}},
            {{4, 0, 6}, {7, 0, 0}}};

    @Test
    void statModeDumpIsOneStepPerPassWithoutDenseLayers() throws IOException {
        assertThat(values(TraceFiles.read(fixtureFile("stat_int32.pt")))).isDeepEqualTo(STAT_INT32);
    }

    @Test
    void theJsonFormOfTheSameDumpReadsTheSame() throws IOException {
        Path json = file("stat.json", """
                {"rank": 0, "logical_count": [[[0, 0, 0], [1, 2, 3], [0, 0, 0], [0, 0, 0]],
                                              [[0, 0, 0], [4, 0, 6], [7, 0, 0], [0, 0, 0]]],
                 "average_utilization_rate_over_window": null}
                """.getBytes(StandardCharsets.UTF_8));
        assertThat(values(TraceFiles.read(fixtureFile("stat_int32.pt"))))
                .isDeepEqualTo(values(TraceFiles.read(json)));
    }

    @Test
    void anAggregateInt64DumpIsOneStep() throws IOException {
        // Beside the counts: an int rank, a float and a string.
        assertThat(values(TraceFiles.read(fixtureFile("aggregate_int64.pt"))))
                .isDeepEqualTo(new double[][][] {{{5, 0, 0x1p40}}});
    }

    @Test
    void aNonContiguousViewIsReadThroughItsOffsetAndStrides() throws IOException {
        // base[1:4].transpose(1, 2) of arange(60).reshape(5, 3, 4): element [s][l][e] is 12 (s + 1) + 4 e + l.
        double[][][] expected = new double[3][4][3];
        for (int s = 0; s < 3; s++) {
            for (int l = 0; l < 4; l++) {
                for (int e = 0; e < 3; e++) {
                    expected[s][l][e] = 12 * (s + 1) + 4 * e + l;
                }
            }
        }
        assertThat(values(TraceFiles.read(fixtureFile("view_float32.pt")))).isDeepEqualTo(expected);
    }

    @Test
    void float64CountsUnderTheCountsKey() throws IOException {
        assertThat(values(TraceFiles.read(fixtureFile("counts_float64.pt"))))
                .isDeepEqualTo(new double[][][] {{{0.5, 125}}});
    }

    @Test
    void aByteorderRecordOfLittleAsTorch2WritesIsRead() throws IOException {
        assertThat(values(TraceFiles.read(fixtureFile("byteorder_little.pt")))).isDeepEqualTo(STAT_INT32);
    }

    @Test
    void streamsGzipAndStepByStepReadingGiveTheSameSteps() throws IOException {
        byte[] pt = fixture("stat_int32.pt");
        assertThat(values(TraceFiles.read(new ByteArrayInputStream(pt), "in"))).isDeepEqualTo(STAT_INT32);
        List<LoadMatrix> steps = new ArrayList<>();
        assertThat(TraceFiles.readStream(new ByteArrayInputStream(pt), "standard input", steps::add)).isEqualTo(2);
        assertThat(values(ExpertLoadTrace.of(steps))).isDeepEqualTo(STAT_INT32);
        Path gz = file("dump.pt.gz", gzip(pt));
        assertThat(values(TraceFiles.read(gz))).isDeepEqualTo(STAT_INT32);
        WindowSums sums = new WindowSums(2);
        assertThat(TraceFiles.read(fixtureFile("stat_int32.pt"), sums)).isEqualTo(2);
        assertThat(sums.windows().getFirst().toArray()).isDeepEqualTo(new double[][] {{5, 2, 9}, {7, 0, 0}});
        // Named as the caller says, as a spooled copy of standard input is.
        assertThat(TraceFiles.read(fixtureFile("stat_int32.pt"), "standard input", step -> { })).isEqualTo(2);
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    /**
     * SGLang's per_pass and per_token dumps, one rank's, were refused by name. Each record is now a step of logical
     * loads: the slots' counts summed per logical expert through the map (make_fixtures.py works the sums by hand),
     * dense layer 0 dropped.
     */
    @Test
    void aPerPassDumpIsOneStepOfLogicalLoadsPerForwardPass() throws IOException {
        assertThat(values(TraceFiles.read(fixtureFile("per_pass_rank1.pt")))).isDeepEqualTo(new double[][][] {
                {{1, 7, 3}, {4, 1, 0}},
                {{0, 2, 0}, {0, 0, 7}}});
        // per_token: the same counts beside the pass's tokens and their top-k slots, which are not read.
        assertThat(values(TraceFiles.read(fixtureFile("per_token.pt")))).isDeepEqualTo(new double[][][] {
                {{1, 7, 3}, {4, 1, 0}}});
        // One slot per expert: the counts as they are.
        assertThat(values(TraceFiles.read(fixtureFile("per_pass.pt")))).isDeepEqualTo(new double[][][] {{{1, 2}}});
        List<LoadMatrix> steps = new ArrayList<>();
        assertThat(TraceFiles.readStream(new ByteArrayInputStream(fixture("per_pass_rank1.pt")), "standard input",
                steps::add)).isEqualTo(2);
        assertThat(steps.get(1).toArray()).isDeepEqualTo(new double[][] {{0, 2, 0}, {0, 0, 7}});
    }

    /** per_pass_rank1.pt with its pickle edited, the zip otherwise as torch wrote it. */
    private Path perPassWithPickle(UnaryOperator<byte[]> edit) throws IOException {
        Map<String, byte[]> entries = entries(fixture("per_pass_rank1.pt"));
        entries.put("per_pass_rank1/data.pkl", edit.apply(entries.get("per_pass_rank1/data.pkl")));
        return file("edited_per_pass.pt", zip(entries));
    }

    /** per_pass_rank1.pt with one storage's bytes replaced. */
    private Path perPassWithStorage(String key, byte[] data) throws IOException {
        Map<String, byte[]> entries = entries(fixture("per_pass_rank1.pt"));
        entries.put("per_pass_rank1/data/" + key, data);
        return file("storage_per_pass.pt", zip(entries));
    }

    private static byte[] littleEndian(long[] values, int bytes) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * bytes)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            if (bytes == 8) {
                b.putLong(v);
            } else {
                b.putInt((int) v);
            }
        }
        return b.array();
    }

    @Test
    void aPerPassDumpsMapAndCountsAreChecked() throws IOException {
        // A negative slot count is refused before it is added to its expert's (-1 + 5 would read as 4).
        assertRefused(perPassWithStorage("0", littleEndian(new long[] {0, 0, 0, 0, 1, 2, 3, 5, 0, 4, 1, -1}, 4)),
                "records[0].global_physical_count[2][3]: load is negative (-1)");
        // Slot 3 of layer 1 mapped to expert 4, past the 4 slots.
        assertRefused(perPassWithStorage("2", littleEndian(new long[] {0, 1, 2, 0, 0, 1, 2, 4, 2, 0, 1, 2}, 8)),
                "last_physical_to_logical_map[1][3]: is 4, not an expert id of the 4 slots (0 to 3)");
        // Layer 2 without expert 0: its loads would be lost.
        assertRefused(perPassWithStorage("2", littleEndian(new long[] {0, 1, 2, 0, 0, 1, 2, 1, 2, 2, 1, 2}, 8)),
                "last_physical_to_logical_map[2]: has no slot for logical expert 0 of 0 to 2 (every expert has one "
                        + "in every layer)");
        // The second record's counts as [4, 3]: not the map's shape.
        assertRefused(perPassWithPickle(p -> replace(p, "h\rK\u000ctq\u0017QK\u0000K\u0003K\u0004",
                        "h\rK\u000ctq\u0017QK\u0000K\u0004K\u0003")),
                "records[1].global_physical_count: its size [4, 3] is not the map's [3, 4] (layers, physical slots)");
        // The second record's counts in the first one's storage: each record would read (and check) the whole
        // storage again, so a few MB of deflated zeros shared by thousands of records cost hours. SGLang clones each.
        assertRefused(perPassWithPickle(p -> replace(p, "X\u0001\u0000\u0000\u00001q\u0016",
                        "X\u0001\u0000\u0000\u00000q\u0016")),
                "records[1].global_physical_count: shares its storage (data/0) with records[0]'s counts (SGLang "
                        + "writes each forward pass's counts apart)");
        assertRefused(perPassWithPickle(p -> replace(p, "X\u0001\u0000\u0000\u00000q\u000c",
                        "X\u0001\u0000\u0000\u00002q\u000c")),
                "records[0].global_physical_count: shares its storage (data/2) with last_physical_to_logical_map "
                        + "(SGLang writes each forward pass's counts apart)");
        assertRefused(perPassWithPickle(p -> replace(p, "X\u0007\u0000\u0000\u0000primary",
                        "X\u0007\u0000\u0000\u0000child_a")),
                "records[0].gatherer_key: is 'child_a', not 'primary', the only gatherer read");
        assertRefused(perPassWithPickle(p -> replace(p, "X\u0015\u0000\u0000\u0000global_physical_count",
                        "X\u0015\u0000\u0000\u0000global_physical_coun_")),
                "records[0]: has no \"global_physical_count\" (expert counts of the pass)");
    }

    static Stream<Arguments> badFixtures() {
        return Stream.of(
                // As the JSON form's errors.
                Arguments.of("nan_float32.pt", "logical_count[1][0][1]: load is NaN"),
                Arguments.of("negative_int32.pt", "logical_count[0][1]: load is negative (-1)"),
                Arguments.of("zero.pt", "logical_count: every layer has zero load"),
                Arguments.of("one_dim.pt", "logical_count: expected [layers][experts] or [steps][layers][experts] "
                        + "but found a 1-dimensional tensor"),
                Arguments.of("list.pt", "logical_count: expected a tensor but found a list"),
                Arguments.of("half.pt", "logical_count: is a tensor of float16, which is not read (counts are int64, "
                        + "int32, int16, int8, uint8, float32 or float64)"),
                Arguments.of("per_pass_no_map.pt", "is an SGLang per_pass or per_token dump without "
                        + "\"last_physical_to_logical_map\": its counts are of physical slots, and nothing says which "
                        + "logical expert each holds"),
                Arguments.of("byteorder_big.pt", "is a big-endian torch file (its byteorder record says big); only "
                        + "little-endian ones are read (load and save it again on a little-endian machine)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFixtures")
    void badDumpsAreOneLineNamingTheFile(String name, String problem) throws IOException {
        Path path = fixtureFile(name);
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + problem);
        assertThatThrownBy(() -> TraceFiles.readStream(new ByteArrayInputStream(fixture(name)), "standard input",
                step -> { })).isInstanceOf(InvalidInputException.class).hasMessage("standard input: " + problem);
    }

    /**
     * A source whose name begins an error's field ("log", "logical", a file named so in the working directory): the
     * error was taken as naming it already and left unnamed ("logical_count: every layer has zero load").
     */
    @Test
    void anErrorNamesASourceWhoseNameBeginsItsField() throws IOException {
        Path zero = fixtureFile("zero.pt");
        for (String source : List.of("log", "logical")) {
            assertThatThrownBy(() -> TraceFiles.read(zero, source, step -> { }))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage(source + ": logical_count: every layer has zero load");
        }
    }

    /**
     * torch.save's legacy format (before torch 1.6, or _use_new_zipfile_serialization=False) is no zip but pickles
     * that start with torch's magic number: it was refused as malformed JSON at a replacement character.
     */
    @Test
    void aLegacyTorchFileIsNamedAsSuch() throws IOException {
        // PROTO 2, then LONG1 of 10 bytes: 0x1950a86a20f9469cfc6c, little-endian; the rest as torch writes it.
        byte[] legacy = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
                0x6a, (byte) 0xa8, 0x50, 0x19, '.', (byte) 0x80, 2, 'M', (byte) 0xe9, 3, '.'};
        String problem = "is a torch.save file in the legacy format (torch before 1.6, or "
                + "_use_new_zipfile_serialization=False), which is not read: load it and save it again with a newer "
                + "torch";
        assertRefused(file("legacy.pt", legacy), problem);
        assertThatThrownBy(() -> TraceFiles.readStream(new ByteArrayInputStream(gzip(legacy)), "standard input",
                step -> { })).isInstanceOf(InvalidInputException.class).hasMessage("standard input: " + problem);
    }

    @Test
    void aZipThatIsNoTorchFileIsRefusedAsOtherContentThatIsNoTrace() throws IOException {
        Path zip = file("x.zip", zip(Map.of("a.txt", "hi".getBytes(StandardCharsets.UTF_8))));
        String json = "malformed JSON at line 1, column 1: unexpected character 'P'";
        assertThatThrownBy(() -> TraceFiles.read(zip)).isInstanceOf(InvalidInputException.class)
                .hasMessage(zip + ": " + json);
        assertThatThrownBy(() -> TraceFiles.readStream(new ByteArrayInputStream(Files.readAllBytes(zip)), "stdin",
                step -> { })).isInstanceOf(InvalidInputException.class).hasMessage("stdin: " + json);
        Path flat = file("flat.zip", zip(Map.of("data.pkl", new byte[] {(byte) 0x80, 2, '}', '.'})));
        assertThatThrownBy(() -> TraceFiles.read(flat)).hasMessage(flat + ": " + json);
    }

    // ------------------------------------------------------------- edited fixtures

    /**
     * The entries of a zip, in order. Through its directory: torch marks its stored entries as followed by a data
     * descriptor, which {@link java.util.zip.ZipInputStream} refuses for stored entries.
     */
    private Map<String, byte[]> entries(byte[] zip) throws IOException {
        Path copy = file("entries.zip", zip);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile file = new ZipFile(copy.toFile())) {
            for (ZipEntry e : java.util.Collections.list(file.entries())) {
                try (InputStream in = file.getInputStream(e)) {
                    entries.put(e.getName(), in.readAllBytes());
                }
            }
        }
        return entries;
    }

    /** A zip of stored entries, as torch writes. */
    static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                zip.putNextEntry(entry);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** stat_int32.pt with its pickle edited, the zip otherwise as torch wrote it. */
    private Path withPickle(UnaryOperator<byte[]> edit) throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        entries.put("stat_int32/data.pkl", edit.apply(entries.get("stat_int32/data.pkl")));
        return file("edited.pt", zip(entries));
    }

    /** {@code pickle} with the bytes of {@code from} replaced by those of {@code to} (once, same position). */
    private static byte[] replace(byte[] pickle, String from, String to) {
        String s = new String(pickle, StandardCharsets.ISO_8859_1);
        int at = s.indexOf(from);
        assertThat(at).as(from).isNotNegative();
        return (s.substring(0, at) + to + s.substring(at + from.length())).getBytes(StandardCharsets.ISO_8859_1);
    }

    private void assertRefused(Path path, String problem) {
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + problem);
    }

    /**
     * A damaged byte among the stored counts read as another count (the zip reader checks no stored entry's CRC-32):
     * the 2 of layer 1 read as 5. It is now refused, as is a damaged pickle.
     */
    @Test
    void aDamagedByteFailsTheArchivesChecksum() throws IOException {
        byte[] pt = fixture("stat_int32.pt");
        String raw = new String(pt, StandardCharsets.ISO_8859_1);
        int at = raw.indexOf("\1\0\0\0\2\0\0\0\3\0\0\0");
        assertThat(at).isPositive().isEqualTo(raw.lastIndexOf("\1\0\0\0\2\0\0\0\3\0\0\0"));
        byte[] damaged = pt.clone();
        damaged[at + 4] = 5;
        Path counts = file("damaged.pt", damaged);
        assertThatThrownBy(() -> TraceFiles.read(counts)).isInstanceOf(InvalidInputException.class)
                .hasMessageMatching(java.util.regex.Pattern.quote(counts.toString())
                        + ": stat_int32/data/0: corrupt \\(its CRC-32 is [0-9a-f]{8}, the archive says [0-9a-f]{8}\\)");
        int pickle = raw.indexOf("logical_count");
        assertThat(pickle).isPositive();
        byte[] renamed = pt.clone();
        renamed[pickle] = 'L';
        Path key = file("renamed.pt", renamed);
        assertThatThrownBy(() -> TraceFiles.read(key)).isInstanceOf(InvalidInputException.class)
                .hasMessageMatching(java.util.regex.Pattern.quote(key.toString())
                        + ": stat_int32/data.pkl: corrupt \\(its CRC-32 is .*");
    }

    /**
     * A stat dump's tensor was held whole as its raw bytes before its steps were made, so a long one (SGLang keeps
     * every pass with a negative buffer size) took its whole size in heap, up to 2 GB from a deflated file of a few
     * MB: here 2^22 passes of [1][4] int32, 64 MiB in 65 KiB, ran out of memory in a 32 MiB heap. The storage is now
     * read as a stream, one step's bytes at a time, and the windows are the sums worked here pass by pass.
     */
    @Test
    void aLongStatDumpIsReadAStepAtATimeInASmallHeap() throws Exception {
        int steps = 1 << 22;
        int window = 1 << 20;
        Path pt = longStatDump(steps);
        assertThat(Files.size(pt)).isLessThan(1 << 20);
        double[][] sums = new double[steps / window][4];
        for (int s = 0; s < steps; s++) {
            sums[s / window][s % 3] += 1 + s % 5;
        }
        List<String> expected = new ArrayList<>();
        for (double[] w : sums) {
            expected.add(Arrays.deepToString(new double[][] {w}));
        }
        Path log = dir.resolve("child.log");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                WindowSumsMain.class.getName(), pt.toString(), String.valueOf(window))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(jvm.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            String output = Files.readString(log);
            assertThat(jvm.exitValue()).as(output).isZero();
            assertThat(output.lines().toList()).isEqualTo(expected);
        } finally {
            jvm.destroyForcibly();
        }
    }

    /** stat_int32.pt's storage, the 24 int32 counts of [2][4][3] in order. */
    private static final int[] STAT_INT32_STORAGE = {0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 6, 7, 0, 0, 0,
            0, 0};

    /** The view of {@code storage} at {@code size} and {@code stride}, its all-zero layers dropped, worked naively. */
    private static double[][][] view(int[] storage, int[] size, int[] stride) {
        double[][][] all = new double[size[0]][size[1]][size[2]];
        boolean[] loaded = new boolean[size[1]];
        for (int s = 0; s < size[0]; s++) {
            for (int l = 0; l < size[1]; l++) {
                for (int e = 0; e < size[2]; e++) {
                    all[s][l][e] = storage[s * stride[0] + l * stride[1] + e * stride[2]];
                    loaded[l] |= all[s][l][e] > 0;
                }
            }
        }
        return Arrays.stream(all).map(step -> java.util.stream.IntStream.range(0, size[1]).filter(l -> loaded[l])
                .mapToObj(l -> step[l]).toArray(double[][]::new)).toArray(double[][][]::new);
    }

    /**
     * The storage is read as a stream where each step's elements lie before the next's, at any strides within a
     * step and with gaps between steps (view_float32.pt has both, and an offset); steps that interleave in the storage
     * (the step dimension innermost, as no SGLang dump's) are read from the span held whole, as before. Both against
     * the view worked naively.
     */
    @Test
    void viewsAreReadStreamedOrWholeAsTheirStepsLieInTheStorage() throws IOException {
        // stride [12, 3, 1] -> [1, 6, 2]: element [s][l][e] at s + 6 l + 2 e, every one of the 24 once.
        assertThat(values(TraceFiles.read(withPickle(p -> replace(p, "K\fK\u0003K\u0001", "K\u0001K\u0006K\u0002")))))
                .isDeepEqualTo(view(STAT_INT32_STORAGE, new int[] {2, 4, 3}, new int[] {1, 6, 2}));
        // size [2, 4, 3] -> [2, 4, 2]: each step's last expert skipped, and the gap between the steps.
        assertThat(values(TraceFiles.read(withPickle(p -> replace(p, "K\u0002K\u0004K\u0003",
                "K\u0002K\u0004K\u0002")))))
                .isDeepEqualTo(view(STAT_INT32_STORAGE, new int[] {2, 4, 2}, new int[] {12, 3, 1}));
        // size [2, 4, 3] -> [1, 4, 3] stride [12, 3, 1] -> [0, 3, 1]: one step, whatever its stride.
        assertThat(values(TraceFiles.read(withPickle(p -> replace(replace(p, "K\u0002K\u0004K\u0003",
                "K\u0001K\u0004K\u0003"), "K\fK\u0003K\u0001", "K\u0000K\u0003K\u0001")))))
                .isDeepEqualTo(view(STAT_INT32_STORAGE, new int[] {1, 4, 3}, new int[] {0, 3, 1}))
                .isDeepEqualTo(new double[][][] {{{1, 2, 3}}});
    }

    /**
     * A damaged byte that makes a count negative is named as the damage it is, after the storage is read to its end
     * for the CRC-32, not as the negative load; and no step is delivered before it: each step is made from the
     * storage as it is read, but the first reading checks the entry, the second delivers.
     */
    @Test
    void aDamagedByteMakingABadLoadFailsTheChecksumBeforeAnyStepIsDelivered() throws IOException {
        byte[] pt = fixture("stat_int32.pt");
        String raw = new String(pt, StandardCharsets.ISO_8859_1);
        int at = raw.indexOf("\1\0\0\0\2\0\0\0\3\0\0\0");
        byte[] damaged = pt.clone();
        damaged[at + 7] = (byte) 0x80; // the 2 of pass 0, layer 1, read as -2^31 + 2
        Path counts = file("negative.pt", damaged);
        List<LoadMatrix> steps = new ArrayList<>();
        assertThatThrownBy(() -> TraceFiles.read(counts, steps::add)).isInstanceOf(InvalidInputException.class)
                .hasMessageMatching(java.util.regex.Pattern.quote(counts.toString())
                        + ": stat_int32/data/0: corrupt \\(its CRC-32 is [0-9a-f]{8}, the archive says [0-9a-f]{8}\\)");
        assertThat(steps).isEmpty();
        // The same count stored so, CRC-32 and all: the load it is.
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        entries.get("stat_int32/data/0")[19] = (byte) 0x80;
        assertRefused(file("stored.pt", zip(entries)), "logical_count[0][1][1]: load is negative (-2147483646)");
    }

    /** Reads the trace {@code args[0]} into windows of {@code args[1]} steps and prints each window's loads. */
    static final class WindowSumsMain {
        public static void main(String[] args) {
            WindowSums sums = new WindowSums(Integer.parseInt(args[1]));
            TraceFiles.read(Path.of(args[0]), sums);
            for (LoadMatrix w : sums.windows()) {
                System.out.println(Arrays.deepToString(w.toArray()));
            }
        }
    }

    /**
     * stat_int32.pt re-zipped deflated with {@code steps} passes of [1][4] int32, pass s loaded {@code 1 + s % 5} on
     * expert {@code s % 3}: the storage written in pieces, never held whole here either.
     */
    private Path longStatDump(int steps) throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        int numel = steps * 4;
        // numel 24 -> steps * 4, size [2, 4, 3] -> [steps, 1, 4], stride [12, 3, 1] -> [4, 4, 1] (BININT).
        entries.put("stat_int32/data.pkl", replace(replace(replace(entries.get("stat_int32/data.pkl"),
                "cpuq\u0007K\u0018", "cpuq\u0007J" + int32(numel)),
                "K\u0002K\u0004K\u0003", "J" + int32(steps) + "K\u0001K\u0004"),
                "K\fK\u0003K\u0001", "K\u0004K\u0004K\u0001"));
        Path path = dir.resolve("long.pt");
        try (OutputStream file = Files.newOutputStream(path);
             ZipOutputStream zip = new ZipOutputStream(new java.io.BufferedOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                if (!e.getKey().equals("stat_int32/data/0")) {
                    zip.write(e.getValue());
                    continue;
                }
                int piece = 1 << 12;
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(piece * 16)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int s = 0; s < steps; s += piece) {
                    b.clear();
                    for (int p = s; p < s + piece; p++) {
                        for (int x = 0; x < 4; x++) {
                            b.putInt(x == p % 3 ? 1 + p % 5 : 0);
                        }
                    }
                    zip.write(b.array());
                }
            }
        }
        return path;
    }

    /** {@code v} as a pickle's BININT argument: four bytes, little-endian, as ISO-8859-1 characters. */
    private static String int32(int v) {
        return new String(new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)},
                StandardCharsets.ISO_8859_1);
    }

    /** A zip of deflated entries, as a re-zipped dump may be. */
    private static byte[] deflated(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** {@code zip} with the size its central directory states for {@code name}'s content set to {@code size}. */
    private static byte[] declaring(byte[] zip, String name, int size) {
        byte[] z = zip.clone();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(z).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + 46 + n.length <= z.length; i++) {
            // A central directory header: its signature, name length at 28, name at 46, uncompressed size at 24.
            if (b.getInt(i) == 0x02014b50 && b.getShort(i + 28) == n.length
                    && Arrays.equals(z, i + 46, i + 46 + n.length, n, 0, n.length)) {
                b.putInt(i + 24, size);
                return z;
            }
        }
        throw new AssertionError("no central directory header for " + name);
    }

    /**
     * The directory's uncompressed size of a deflated entry is what the tensor was checked against: a storage stated
     * 100 times its 96 bytes let its 24 counts be read as 200 steps of 12 through a stride of 0 (and a 500-byte file
     * stating 2 GiB ran out of memory); a pickle holding more than stated was read cut short. Both are refused.
     */
    @Test
    void anEntryThatDoesNotHoldTheBytesTheDirectoryStatesIsRefused() throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        // numel 24 -> 2400 (BININT2); the tensor as it was (a stride of 0 is refused before the entry is read).
        entries.put("stat_int32/data.pkl", replace(entries.get("stat_int32/data.pkl"), "cpuq\u0007K\u0018",
                "cpuq\u0007M\u0060\u0009"));
        Path storage = file("storage.pt", declaring(deflated(entries), "stat_int32/data/0", 9600));
        assertRefused(storage, "stat_int32/data/0: holds 96 bytes, but the zip archive says 9600 (truncated or "
                + "corrupt)");
        entries = entries(fixture("stat_int32.pt"));
        entries.put("stat_int32/data.pkl", concat(entries.get("stat_int32/data.pkl"), new byte[1000]));
        Path pickle = file("pickle.pt", declaring(deflated(entries), "stat_int32/data.pkl", 238));
        assertRefused(pickle, "stat_int32/data.pkl: holds more than the 238 bytes the zip archive says (corrupt)");
        // As stated, deflated: read as stored.
        assertThat(values(TraceFiles.read(file("deflated.pt", deflated(entries(fixture("stat_int32.pt")))))))
                .isDeepEqualTo(STAT_INT32);
    }

    /**
     * Two entries of one name: Java's zip reader takes one of them and torch's (miniz) or Python's may take the other,
     * so the counts read would depend on the reader. Each pair was read, silently; it is now refused.
     */
    @Test
    void twoEntriesOfOneNameAreRefused() throws IOException {
        for (String name : List.of("stat_int32/data/0", "stat_int32/data.pkl", "stat_int32/version")) {
            Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
            // A second entry whose name differs in its last character only, then renamed (ZipOutputStream writes
            // no two of one name).
            String other = name.substring(0, name.length() - 1) + "~";
            entries.put(other, entries.get(name).clone());
            byte[] raw = zip(entries);
            String text = new String(raw, StandardCharsets.ISO_8859_1).replace(other, name);
            Path twice = file("twice.pt", text.getBytes(StandardCharsets.ISO_8859_1));
            assertRefused(twice, "has two entries named " + name + " (which of them is read depends on the zip "
                    + "reader)");
        }
    }

    /**
     * The zip's directory is read here ({@link TorchZip}), so that a per_pass dump's, an entry a forward pass, is not
     * held whole: damage to it is refused as a corrupt zip archive naming what is wrong, never read past.
     */
    @Test
    void aDamagedZipDirectoryIsRefusedAsCorrupt() throws IOException {
        byte[] pt = fixture("stat_int32.pt");
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(pt).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int end = new String(pt, StandardCharsets.ISO_8859_1).lastIndexOf("PK\5\6");
        int cenSize = b.getInt(end + 12);
        int cenOffset = b.getInt(end + 16);
        // torch's writer (miniz) adds zip64 end records, 76 bytes, between the directory and the END record.
        assertThat(cenOffset + cenSize).isEqualTo(end - 76);
        byte[] cut = concat(Arrays.copyOf(pt, cenOffset + 30), Arrays.copyOfRange(pt, cenOffset + 50, pt.length));
        assertRefused(file("cut.pt", cut), "corrupt zip archive: invalid END header (bad central directory offset)");
        assertRefused(file("short.pt", Arrays.copyOf(pt, cenOffset + 100)),
                "corrupt zip archive: zip END header not found");
        byte[] larger = pt.clone();
        put32(larger, end + 12, cenSize + 10);
        assertRefused(file("larger.pt", larger), "corrupt zip archive: invalid zip64 END header (its directory's "
                + "size, offset or entry count differs from the END header's)");
        byte[] count = pt.clone();
        put32(count, end - 76 + 32, 1000);
        count[end + 8] = count[end + 10] = (byte) 0xff;
        count[end + 9] = count[end + 11] = (byte) 0xff;
        assertRefused(file("count.pt", count), "corrupt zip archive: invalid END header (bad entry count: 1000 "
                + "entries in " + cenSize + " bytes)");
        int cen = cenHeader(pt, "stat_int32/data/0");
        byte[] signature = pt.clone();
        signature[cen + 3] = 9;
        assertRefused(file("signature.pt", signature), "corrupt zip archive: invalid CEN header (bad signature)");
        byte[] far = pt.clone();
        put32(far, cen + 42, pt.length + 1000);
        assertRefused(file("far.pt", far), "corrupt zip archive: invalid CEN header (bad local header offset)");
        byte[] inside = pt.clone();
        put32(inside, cen + 42, cenOffset - 100);
        assertRefused(file("inside.pt", inside), "corrupt zip archive: invalid LOC header (bad signature)");
    }

    /** The offset of the central directory record of entry {@code name} in {@code zip}. */
    private static int cenHeader(byte[] zip, String name) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(zip).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + 46 + n.length <= zip.length; i++) {
            if (b.getInt(i) == 0x02014b50 && b.getShort(i + 28) == n.length
                    && Arrays.equals(zip, i + 46, i + 46 + n.length, n, 0, n.length)) {
                return i;
            }
        }
        throw new AssertionError("no central directory header for " + name);
    }

    private static void put32(byte[] b, int at, int v) {
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    /**
     * An archive past 4 GiB or 65,535 entries (a per_pass dump of 2^16 passes) states sizes, offsets and its entry
     * count in zip64 fields: here every one of them, in a file written by hand and checked against Java's zip reader,
     * read as the fixture it copies.
     */
    @Test
    void zip64FieldsAreRead() throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        byte[] zip64 = zip64(entries);
        Map<String, byte[]> again = entries(zip64);
        assertThat(again.keySet()).containsExactlyElementsOf(entries.keySet());
        again.forEach((name, bytes) -> assertThat(bytes).as(name).isEqualTo(entries.get(name)));
        assertThat(values(TraceFiles.read(file("zip64.pt", zip64)))).isDeepEqualTo(STAT_INT32);
    }

    /**
     * torch's entries carry extra fields (miniz pads each entry's data to 64 bytes): the directory's, read as a
     * stream, were skipped with one call that may skip less than asked, where they crossed the end of its buffer,
     * and such an archive was refused as corrupt. 20,000 entries here, their directory records 28-byte extra fields
     * each, cross it many times.
     */
    @Test
    void extraFieldsAcrossTheDirectorysReadBufferAreSkipped() throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        for (int i = 0; i < 20_000; i++) {
            entries.put("stat_int32/extra/" + i, new byte[0]);
        }
        assertThat(values(TraceFiles.read(file("extras.pt", zip64(entries))))).isDeepEqualTo(STAT_INT32);
    }

    /** A zip of stored entries whose sizes, offsets and count are all in zip64 fields, the 32-bit ones marked so. */
    private static byte[] zip64(Map<String, byte[]> entries) {
        int size = 200;
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            size += 2 * e.getKey().length() * 3 + 2 * e.getValue().length + 200;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        List<long[]> at = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            CRC32 crc = new CRC32();
            crc.update(e.getValue());
            at.add(new long[] {b.position(), crc.getValue()});
            b.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt((int) crc.getValue()).putInt(e.getValue().length).putInt(e.getValue().length)
                    .putShort((short) name.length).putShort((short) 0).put(name).put(e.getValue());
        }
        int cen = b.position();
        int i = 0;
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            long[] local = at.get(i++);
            b.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                    .putInt(0).putInt((int) local[1]).putInt(-1).putInt(-1).putShort((short) name.length)
                    .putShort((short) 28).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt(-1).put(name)
                    .putShort((short) 1).putShort((short) 24).putLong(e.getValue().length)
                    .putLong(e.getValue().length).putLong(local[0]);
        }
        int end64 = b.position();
        b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(entries.size()).putLong(entries.size()).putLong(end64 - cen).putLong(cen);
        b.putInt(0x07064b50).putInt(0).putLong(end64).putInt(1);
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1)
                .putInt(-1).putInt(-1).putShort((short) 0);
        return Arrays.copyOf(b.array(), b.position());
    }

    /**
     * Entries other than storages named by number are held by name, up to 65,536 (torch writes fewer than ten); a
     * zip with more is refused rather than held whole.
     */
    @Test
    void aZipOfManyEntriesNotNamedAsTorchsStoragesIsRefused() throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        for (int i = 0; i < TorchZip.MAX_OTHERS; i++) {
            entries.put("stat_int32/extra/" + i, new byte[0]);
        }
        assertRefused(file("many.pt", zip(entries)), "has more than 65536 zip entries named otherwise than "
                + "torch.save names its storages (ARCHIVE/data/0, 1, 2, ...)");
    }

    @Test
    void theRoundTripOfTheZipItselfReadsTheSame() throws IOException {
        assertThat(values(TraceFiles.read(withPickle(p -> p)))).isDeepEqualTo(STAT_INT32);
    }

    @Test
    void aGlobalOtherThanTorchsIsRefusedAndNothingIsCalled() throws IOException {
        Path other = withPickle(p -> replace(p, "ctorch._utils\n_rebuild_tensor_v2\n", "cbuiltins\neval\n"));
        assertRefused(other, "stat_int32/data.pkl: pickle refers to builtins.eval, which is not read (only tensors, "
                + "numbers, strings, lists and dicts)");
        Path storage = withPickle(p -> replace(p, "ctorch\nIntStorage\n", "ctorch\nNoStorage\n"));
        assertRefused(storage, "stat_int32/data.pkl: pickle refers to torch.NoStorage, which is not read (only "
                + "tensors, numbers, strings, lists and dicts)");
    }

    @Test
    void unknownOpcodesProtocolsAndTrailingBytesAreRefused() throws IOException {
        assertRefused(withPickle(p -> replace(p, "N", "\u0093")), "stat_int32/data.pkl: pickle has opcode 0x93 at "
                + "byte 235, which is not read (only the opcodes of torch.save's protocol-2 data)");
        assertRefused(withPickle(p -> replace(p, "\u0080\u0002", "\u0080\u0004")),
                "stat_int32/data.pkl: is pickle protocol 4, not 2 as torch.save writes");
        assertRefused(withPickle(p -> concat(p, new byte[] {'N'})),
                "stat_int32/data.pkl: has 1 bytes after the pickle's STOP");
        assertRefused(withPickle(p -> Arrays.copyOf(p, 100)),
                "stat_int32/data.pkl: pickle ends early, at byte 100 (truncated?)");
    }

    /** Errors name what the pickle holds by its Python type, not by the Java class read ("a ArrayList"). */
    @Test
    void misplacedValuesAreNamedByTheirPythonTypes() throws IOException {
        // The key "rank" (memo 1) replaced by an empty list.
        assertRefused(withPickle(p -> replace(p, "X\u0004\u0000\u0000\u0000rankq\u0001", "]q\u0001")),
                "stat_int32/data.pkl: pickle has a dict key that is a list at byte 228");
        // The dict replaced by a tuple; an integer as the tensor's callable.
        assertRefused(withPickle(p -> replace(p, "}q\u0000(", ")q\u0000(")),
                "stat_int32/data.pkl: pickle sets an item of a tuple at byte 236, not a dict");
        assertRefused(withPickle(p -> replace(p, "ctorch._utils\n_rebuild_tensor_v2\nq\u0003", "K\u0007q\u0003")),
                "stat_int32/data.pkl: pickle calls an integer at byte 158, which is not read");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aStorageMissingOrOfTheWrongSizeIsRefused() throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        entries.remove("stat_int32/data/0");
        assertRefused(file("missing.pt", zip(entries)),
                "logical_count: its storage stat_int32/data/0 is missing from the zip archive");
        // numel 24 -> 25 (BININT1 0x18 after the location 'cpu').
        assertRefused(withPickle(p -> replace(p, "cpuq\u0007K\u0018", "cpuq\u0007K\u0019")),
                "logical_count: its storage stat_int32/data/0 is 96 bytes, but the pickle says 25 elements of int32");
    }

    /**
     * Names from the file (a storage key in the pickle, the archive's folder) are written with their control
     * characters escaped: a line break in one made the error two lines, and the CLI prints one.
     */
    @Test
    void namesFromTheFileAreWrittenOnOneLine() throws IOException {
        assertRefused(withPickle(p -> replace(p, "X\u0001\u0000\u0000\u00000q\u0006",
                        "X\u0003\u0000\u0000\u00000\nXq\u0006")),
                "logical_count: its storage stat_int32/data/0\\nX is missing from the zip archive");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries(fixture("stat_int32.pt")).forEach((name, bytes) -> entries.put(name.replace("stat_int32/",
                "stat\r\nint32/"), bytes));
        entries.put("stat\r\nint32/data.pkl", replace(entries.get("stat\r\nint32/data.pkl"), "\u0080\u0002",
                "\u0080\u0004"));
        assertRefused(file("folder.pt", zip(entries)),
                "stat\\r\\nint32/data.pkl: is pickle protocol 4, not 2 as torch.save writes");
    }

    @Test
    void sizesOrStridesReachingPastTheStorageAreRefusedBeforeAnythingIsRead() throws IOException {
        // Offset 0 -> 1: the last element is the storage's 25th of 24.
        assertRefused(withPickle(p -> replace(p, "QK\u0000", "QK\u0001")),
                "logical_count: its size [2, 4, 3] and stride [12, 3, 1] from offset 1 do not fit the 24 elements "
                        + "of its storage");
        // Size 2 -> 200 steps: as large a tensor as an array would hold is never allocated.
        assertRefused(withPickle(p -> replace(p, "K\u0002K\u0004K\u0003", "K\u00c8K\u0004K\u0003")),
                "logical_count: its size [200, 4, 3] and stride [12, 3, 1] from offset 0 do not fit the 24 "
                        + "elements of its storage");
        // A stride of 0 (an expanded tensor) repeats elements: 200 steps of the one storage's 12, refused as more
        // elements than it holds (which bounds the work by the file's size).
        assertRefused(withPickle(p -> replace(replace(p, "K\u0002K\u0004K\u0003", "K\u00c8K\u0004K\u0003"),
                "K\fK\u0003K\u0001", "K\u0000K\u0003K\u0001")),
                "logical_count: its size [200, 4, 3] and stride [0, 3, 1] from offset 0 do not fit the 24 "
                        + "elements of its storage");
    }

    /**
     * A stride of 0 repeats elements: a storage of 2^24 zeros (64 KiB deflated) shown as 256 passes of 65,536 experts
     * through strides of 0 was read as 2^24 counts from the one element it spans; a storage of 2^31 bytes (2 MiB
     * deflated) so shown took minutes. Overlapping strides repeat elements too. A tensor is now refused, before its
     * storage is read, if it shows more elements than lie in the span it reads (SGLang dumps fresh contiguous tensors).
     */
    @Test
    void aTensorThatRepeatsElementsIsRefusedBeforeItsStorageIsRead() throws IOException {
        Map<String, byte[]> entries = entries(fixture("stat_int32.pt"));
        // numel 24 -> 2^24 (BININT), size [2, 4, 3] -> [256, 1, 65536], stride [12, 3, 1] -> [0, 0, 0].
        entries.put("stat_int32/data.pkl", replace(replace(replace(entries.get("stat_int32/data.pkl"),
                "cpuq\u0007K\u0018", "cpuq\u0007J\u0000\u0000\u0000\u0001"),
                "K\u0002K\u0004K\u0003", "M\u0000\u0001K\u0001J\u0000\u0000\u0001\u0000"),
                "K\fK\u0003K\u0001", "K\u0000K\u0000K\u0000"));
        byte[] zeros = new byte[1 << 26];
        zeros[0] = 1;
        entries.put("stat_int32/data/0", zeros);
        Path bomb = file("bomb.pt", deflated(entries));
        assertThat(Files.size(bomb)).isLessThan(1 << 20);
        String problem = "logical_count: its size [256, 1, 65536] and stride [0, 0, 0] show 16777216 elements but "
                + "span 1 of its storage: a stride of 0 or overlapping strides repeat elements, as no SGLang dump's "
                + "tensor does";
        assertThatThrownBy(() -> TraceFiles.read(bomb, step -> { })).isInstanceOf(InvalidInputException.class)
                .hasMessage(bomb + ": " + problem);
        // The small cases: one stride of 0 (pass 0 twice), and strides that overlap (12 elements read as 24).
        assertRefused(withPickle(p -> replace(p, "K\fK\u0003K\u0001", "K\u0000K\u0003K\u0001")),
                "logical_count: its size [2, 4, 3] and stride [0, 3, 1] show 24 elements but span 12 of its storage: "
                        + "a stride of 0 or overlapping strides repeat elements, as no SGLang dump's tensor does");
        assertRefused(withPickle(p -> replace(p, "K\fK\u0003K\u0001", "K\u0001K\u0003K\u0001")),
                "logical_count: its size [2, 4, 3] and stride [1, 3, 1] show 24 elements but span 13 of its storage: "
                        + "a stride of 0 or overlapping strides repeat elements, as no SGLang dump's tensor does");
    }

    @Test
    void bytesAfterAPicklesStopAreRefused() throws IOException {
        // The pickle is read as a stream, of any size: 2 MiB after its STOP (once refused as too large) are named.
        int extra = 1 << 21;
        assertRefused(withPickle(p -> concat(p, new byte[extra])), "stat_int32/data.pkl: has " + extra
                + " bytes after the pickle's STOP");
    }

    /**
     * The pickle's values take far more heap than its bytes: one byte makes an empty dict. A pickle of 1 MiB of them,
     * which deflates to a 1 KiB file, took over 64 MiB (out of memory in -Xmx64m, where evaluate reads long traces);
     * the most values held ({@link TorchPickle#MAX_VALUES}) take little heap, and a pickle that holds more is refused
     * at the first value past them.
     */
    @Test
    void theLargestPickleReadTakesLittleHeap() throws IOException {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (int length : new int[] {TorchPickle.MAX_VALUES + 3, 1 << 21}) {
            byte[] pickle = new byte[length];
            Arrays.fill(pickle, (byte) '}');
            pickle[0] = (byte) 0x80;
            pickle[1] = 2;
            pickle[pickle.length - 1] = '.';
            Path dicts = file("dicts.pt", deflated(Map.of("a/data.pkl", pickle)));
            long before = threads.getCurrentThreadAllocatedBytes();
            assertRefused(dicts, length > TorchPickle.MAX_VALUES + 3 ? "a/data.pkl: pickle holds more than 262144 "
                    + "values at once, more than are read (an SGLang dump's holds a batch of 1,000 forward passes, "
                    + "about 22,000)"
                    : "a/data.pkl: pickle stops with values left on its stack");
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(allocated).as("bytes allocated reading a pickle of empty dicts").isLessThan(32L << 20);
        }
    }

    @Test
    void aDictThatHoldsBothKeysIsAmbiguousAsInJson() throws IOException {
        assertRefused(withPickle(p -> replace(p, "X\u0004\u0000\u0000\u0000rank", "X\u0006\u0000\u0000\u0000counts")),
                "has both \"logical_count\" and \"counts\": which of them holds the expert loads is ambiguous "
                        + "(keep one)");
    }

    /**
     * A dimension past an int, as a storage of 2^33 one-byte counts (4 MiB deflated, all zero but one) allows through
     * strides of 0: 2^32 + 1 steps were cast to 1, and read as one step of one layer; [1][2^32 + 1][1] as one layer.
     * Here over the bytes the tensor spans, its one count.
     */
    @Test
    void aDimensionPastAnIntIsRefusedNotCastDown() {
        TorchPickle.Storage storage = new TorchPickle.Storage(TorchPickle.Dtype.BYTE, "0", "cpu", 1L << 33);
        java.nio.ByteBuffer one = java.nio.ByteBuffer.wrap(new byte[] {1});
        long big = (1L << 32) + 1;
        for (long[] size : List.of(new long[] {big, 1, 1}, new long[] {1, big, 1}, new long[] {big, 1})) {
            TorchPickle.Tensor t = new TorchPickle.Tensor(storage, 0, size, new long[size.length]);
            List<LoadMatrix> steps = new ArrayList<>();
            assertThatThrownBy(() -> new TorchTraces.Steps("logical_count", t, TorchPickle.Dtype.BYTE, one)
                    .deliver(steps::add)).isInstanceOf(InvalidInputException.class)
                    .hasMessage("logical_count: its size " + Arrays.toString(size) + " has a dimension past "
                            + Integer.MAX_VALUE + ", more than is read");
            assertThat(steps).isEmpty();
        }
    }

    // ------------------------------------------------------------- robustness

    /**
     * Seeded random byte flips and truncations, of the whole file (as torch wrote it, or re-zipped deflated) and of
     * its pickle alone (the zip kept valid): every outcome is the trace or one {@link InvalidInputException}, never
     * another exception or a giant allocation.
     */
    @Test
    void mutatedDumpsGiveATraceOrAnInvalidInputException() throws IOException {
        Random random = new Random(20261205);
        List<String> names = List.of("stat_int32.pt", "aggregate_int64.pt", "view_float32.pt", "per_pass.pt",
                "byteorder_little.pt", "per_pass_rank1.pt", "per_token.pt");
        Path path = dir.resolve("mutant.pt");
        int refused = 0;
        for (int i = 0; i < 2000; i++) {
            String name = names.get(random.nextInt(names.size()));
            byte[] original = fixture(name);
            byte[] mutant;
            int kind = random.nextInt(3);
            if (kind == 0) {
                mutant = mutate(original, random);
            } else if (kind == 1) {
                // Re-zipped deflated, as a dump may be passed on: flips in the compressed data and its directory.
                mutant = mutate(deflated(entries(original)), random);
            } else {
                Map<String, byte[]> entries = entries(original);
                String pkl = entries.keySet().stream().filter(k -> k.endsWith("/data.pkl")).findFirst().orElseThrow();
                entries.put(pkl, mutate(entries.get(pkl), random));
                mutant = zip(entries);
            }
            Files.write(path, mutant);
            try {
                TraceFiles.read(path);
            } catch (InvalidInputException e) {
                assertThat(e.getMessage()).as(name).startsWith(path + ": ").doesNotContain("\n");
                refused++;
            }
        }
        assertThat(refused).isGreaterThan(600);
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] b = original.clone();
        if (random.nextInt(4) == 0) {
            return Arrays.copyOf(b, random.nextInt(b.length));
        }
        for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
            b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        }
        return b;
    }
}
