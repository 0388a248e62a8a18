package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mutated files either open consistently or fail with ModelFormatException, and never otherwise. */
class SafetensorsFuzzTest {
    @TempDir
    Path dir;

    private byte[] valid;

    private static final String[] FRAGMENTS = {
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "0", "1e400", "2.5", "99999999999999999999",
        "9223372036854775807", "\"dtype\":\"I64\"", "\"dtype\":\"F32\"", "\"shape\":[]", "\"shape\":[-3]",
        "\"data_offsets\":[0,0]", "\"data_offsets\":[4,0]", "\"__metadata__\":{\"k\":1}", "\"__metadata__\":null",
        "\"x\":{},", "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},", "\"\\ud800\"", "\\",
        "\u00e9", "\u0000", "  ", "[[[[[[[[[[", "\"a\":\"a\",\"a\":\"a\",",
    };

    @BeforeEach
    void buildValid() {
        Path f = dir.resolve("valid.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .add("embed", DType.BF16, new long[] {4, 3}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
                .add("norm", DType.F32, new long[] {3}, new float[] {1, 1, 1})
                .add("scale", DType.F16, new long[0], new float[] {0.5f})
                .add("none", DType.F32, new long[] {0}, new float[0])
                .write(f);
        try {
            valid = Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] mutate(byte[] base, Random r) {
        byte[] b = base.clone();
        int mutations = 1 + r.nextInt(3);
        for (int m = 0; m < mutations; m++) {
            long headerLength = b.length >= 8 ? ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0) : -1;
            int headerEnd = (int) Math.max(8, Math.min(b.length, headerLength < 0 ? b.length : 8 + headerLength));
            switch (r.nextInt(9)) {
                case 0 -> { // flip bytes, mostly in the header
                    int flips = 1 + r.nextInt(4);
                    for (int i = 0; i < flips && b.length > 0; i++) {
                        int at = r.nextBoolean() && headerEnd > 8 ? 8 + r.nextInt(headerEnd - 8) : r.nextInt(b.length);
                        b[at] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                // Truncate, or append bytes that belong to no tensor (refused, as the reference refuses them).
                case 1 -> b = Arrays.copyOf(b, r.nextBoolean() ? r.nextInt(b.length + 1)
                        : b.length + 1 + r.nextInt(16));
                case 2 -> { // overwrite the length field
                    if (b.length >= 8) {
                        long v = switch (r.nextInt(3)) {
                            case 0 -> r.nextLong();
                            case 1 -> headerLength + r.nextInt(17) - 8;
                            default -> r.nextInt(b.length + 8);
                        };
                        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
                    }
                }
                case 3, 4 -> { // splice a JSON fragment into the header, keeping the length field consistent
                    byte[] frag = FRAGMENTS[r.nextInt(FRAGMENTS.length)].getBytes(StandardCharsets.UTF_8);
                    int at = 8 + r.nextInt(Math.max(1, headerEnd - 8 + 1));
                    if (at > b.length) {
                        at = b.length;
                    }
                    byte[] out = new byte[b.length + frag.length];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(frag, 0, out, at, frag.length);
                    System.arraycopy(b, at, out, at + frag.length, b.length - at);
                    if (out.length >= 8 && r.nextInt(4) != 0) {
                        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerLength + frag.length);
                    }
                    b = out;
                }
                case 5 -> { // flip a data byte: harmless, the file stays valid
                    if (headerEnd < b.length) {
                        b[headerEnd + r.nextInt(b.length - headerEnd)] ^= (byte) (1 + r.nextInt(255));
                    }
                }
                case 6 -> b = shiftOffsets(b, headerEnd, r);
                default -> { // replace a digit in the header, to move offsets and dimensions
                    List<Integer> digits = new ArrayList<>();
                    for (int i = 8; i < headerEnd; i++) {
                        if (b[i] >= '0' && b[i] <= '9') {
                            digits.add(i);
                        }
                    }
                    if (!digits.isEmpty()) {
                        b[digits.get(r.nextInt(digits.size()))] = (byte) ('0' + r.nextInt(10));
                    }
                }
            }
        }
        return b;
    }

    private static final Pattern OFFSETS = Pattern.compile("\\[(\\d+),(\\d+)]");

    /** Moves one tensor's data_offsets by a small even amount, fixing up the length field: may overlap. */
    static byte[] shiftOffsets(byte[] b, int headerEnd, Random r) {
        if (b.length < headerEnd) {
            return b;
        }
        String header = new String(b, 8, headerEnd - 8, StandardCharsets.ISO_8859_1);
        List<MatchResult> pairs = OFFSETS.matcher(header).results().toList();
        if (pairs.isEmpty()) {
            return b;
        }
        MatchResult m = pairs.get(r.nextInt(pairs.size()));
        long shift = 2L * (r.nextInt(25) - 12);
        String moved = "[" + (Long.parseLong(m.group(1)) + shift) + "," + (Long.parseLong(m.group(2)) + shift) + "]";
        byte[] h = (header.substring(0, m.start()) + moved + header.substring(m.end()))
                .getBytes(StandardCharsets.ISO_8859_1);
        return Fixtures.file(h.length, h, Arrays.copyOfRange(b, headerEnd, b.length));
    }

    /** Opens {@code bytes}; true if it opened (and was consistent), false on ModelFormatException. */
    private boolean check(byte[] bytes, String what) {
        Path f = dir.resolve("fuzz.safetensors");
        try {
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            long dataSize = bytes.length - s.dataStart();
            assertThat(dataSize).as(what).isNotNegative();
            List<TensorInfo> nonEmpty = new ArrayList<>();
            long end = 0;
            for (TensorInfo t : s.tensors().values()) {
                end = Math.max(end, t.end());
                assertThat(t.begin()).as(what).isNotNegative().isLessThanOrEqualTo(t.end());
                assertThat(t.end()).as(what).isLessThanOrEqualTo(dataSize);
                assertThat(t.byteSize()).as(what).isEqualTo(t.elements() * t.dtype().bytes());
                MemorySegment seg = s.segment(t.name());
                assertThat(seg.byteSize()).as(what).isEqualTo(t.byteSize());
                MemorySegment expected = MemorySegment.ofArray(bytes)
                        .asSlice(s.dataStart() + t.begin(), t.byteSize());
                assertThat(seg.mismatch(expected)).as(what).isEqualTo(-1L);
                if (t.byteSize() > 0) {
                    nonEmpty.add(t);
                }
            }
            assertThat(end).as(what + ": the data section ends where the last tensor ends").isEqualTo(dataSize);
            nonEmpty.sort(Comparator.comparingLong(TensorInfo::begin));
            for (int i = 1; i < nonEmpty.size(); i++) {
                assertThat(nonEmpty.get(i).begin()).as(what).isGreaterThanOrEqualTo(nonEmpty.get(i - 1).end());
            }
            return true;
        } catch (ModelFormatException e) {
            assertThat(e.getMessage()).as(what).startsWith(f.toString());
            return false;
        } catch (Throwable t) {
            throw new AssertionError(what + " threw " + t, t);
        }
    }

    @Test
    void validFileOpens() {
        assertThat(check(valid, "unmutated")).isTrue();
        try (SafetensorsFile s = SafetensorsFile.open(dir.resolve("fuzz.safetensors"))) {
            assertThat(s.tensors()).hasSize(4);
        }
    }

    @Test
    void mutatedFilesOpenConsistentlyOrFailCleanly() {
        int[] outcomes = new int[2];
        qt().withFixedSeed(0x5AFE7E45L).withExamples(2000).withShrinkCycles(50)
                .forAll(longs().all())
                .checkAssert(seed -> outcomes[check(mutate(valid, new Random(seed)), "seed " + seed) ? 1 : 0]++);
        // Neither outcome should dominate completely: some mutants still open, most are rejected.
        assertThat(outcomes[1]).as("opened").isGreaterThan(100);
        assertThat(outcomes[0]).as("rejected").isGreaterThan(500);
    }
}
