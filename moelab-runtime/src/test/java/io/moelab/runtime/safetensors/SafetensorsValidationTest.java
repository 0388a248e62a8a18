package io.moelab.runtime.safetensors;

import static io.moelab.runtime.safetensors.Fixtures.assertRejects;
import static io.moelab.runtime.safetensors.Fixtures.file;
import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.ModelFormatException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafetensorsValidationTest {
    @TempDir
    Path dir;

    /** A header with one tensor "t" whose entry is {@code entry}, and {@code dataBytes} zero bytes of data. */
    private static byte[] one(String entry, int dataBytes) {
        return file("{\"t\":" + entry + "}", new byte[dataBytes]);
    }

    private static String entry(String dtype, String shape, String offsets) {
        return "{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void validBaselineOpens() {
        Path f = Fixtures.write(dir, "ok.safetensors", one(entry("\"F32\"", "[2]", "[0,8]"), 8));
        SafetensorsFile.open(f).close();
    }

    @Test
    void shorterThanEightBytes() {
        assertRejects(dir, new byte[0], null, "shorter than the 8-byte header length");
        assertRejects(dir, new byte[7], null, "file is 7 bytes");
    }

    @Test
    void headerLengthZero() {
        assertRejects(dir, new byte[16], null, "header length is 0");
    }

    /** Exactly the length field: its value is read and judged, the file is not "shorter than" it. */
    @Test
    void aFileOfOnlyTheLengthField() {
        assertRejects(dir, new byte[8], null, "header length is 0");
        assertRejects(dir, file(2, new byte[0], new byte[0]), null,
                "header length 2 exceeds the 0 bytes after the length field");
    }

    @Test
    void headerLengthBeyondFile() {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        assertRejects(dir, file(3, h, new byte[0]), null, "header length 3 exceeds the 2 bytes");
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE, 1L << 40, -1L, Long.MIN_VALUE, (100L << 20) + 1})
    void hugeHeaderLengthInTinyFileAllocatesNothing(long length) {
        assertRejects(dir, file(length, new byte[12], new byte[0]), null, "exceeds the limit of 104857600 bytes",
                16L << 20);
    }

    @Test
    void headerOverHundredMiBInABigSparseFile() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(300L << 20);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong((200L << 20)).array());
        }
        long before = Fixtures.allocatedBytes();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(io.moelab.runtime.ModelFormatException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("exceeds the limit");
        assertThat(Fixtures.allocatedBytes() - before).isLessThan(16L << 20);
    }

    /**
     * A header near the 100 MiB limit that is a few huge values: a shape of tens of millions of zeros (a legal
     * tensor of no bytes, but not a checkpoint) or a dtype string of 94 MB. Read as a whole tree after a decoded copy,
     * the first allocated 2.4 GB and the second 1.4 GB (out of memory under {@code -Xmx1g}); now each is refused at
     * the parser's limits, allocating a few times the header's own bytes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"shape", "dtype"})
    void headerOfHugeValuesIsRefusedWithoutAGiantAllocation(String which) {
        int size = 95 << 20;
        StringBuilder h = new StringBuilder(size);
        if (which.equals("shape")) {
            h.append("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,0],\"shape\":[0");
            while (h.length() < size - 8) {
                h.append(",0");
            }
            h.append("]}}");
        } else {
            h.append("{\"w\":{\"shape\":[],\"data_offsets\":[0,4],\"dtype\":\"");
            h.append("F".repeat(size - 60 - h.length()));
            h.append("\"}}");
        }
        assertRejects(dir, file(h.toString(), new byte[4]), null, "header is beyond", 3L * size + (64L << 20));
    }

    @Test
    void headerNotUtf8() {
        byte[] h = {'{', '"', (byte) 0xC3, 0x28, '"', ':', '{', '}', '}'};
        assertRejects(dir, file(h.length, h, new byte[0]), null, "not valid UTF-8");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "nope", "{\"t\":1,}", "{} {}", "{}x", "{'t':1}", "\u0000\u0000"})
    void headerNotJson(String header) {
        assertRejects(dir, file(header, new byte[0]), null, "header is not valid JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"s\"", "42", "null", "        "})
    void headerNotAnObject(String header) {
        assertRejects(dir, file(header, new byte[0]), null, "header is not");
    }

    @Test
    void entryNotAnObject() {
        assertRejects(dir, one("[1,2]", 0), "t", "entry is not an object");
    }

    @Test
    void missingOrExtraKeys() {
        assertRejects(dir, one("{\"dtype\":\"F32\",\"shape\":[2]}", 8), "t", "missing key 'data_offsets'");
        assertRejects(dir, one("{\"shape\":[2],\"data_offsets\":[0,8]}", 8), "t", "missing key 'dtype'");
        assertRejects(dir, one("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}", 8), "t",
                "unexpected key 'x'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"I64", "U8", "F64", "BOOL", "I8", "F8_E4M3", "f32", "garbage"})
    void unsupportedDtypeIsNamed(String dtype) {
        assertRejects(dir, one(entry("\"" + dtype + "\"", "[2]", "[0,8]"), 8), "t", "unsupported dtype " + dtype);
    }

    @Test
    void dtypeNotAString() {
        assertRejects(dir, one(entry("4", "[2]", "[0,8]"), 8), "t", "dtype is not a string");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2", "[-1]", "[2.5]", "[\"2\"]", "[null]", "[[2]]", "[99999999999999999999]", "null",
            "{}"})
    void shapeNotNonNegativeIntegers(String shape) {
        assertRejects(dir, one(entry("\"F32\"", shape, "[0,8]"), 8), "t",
                "shape is not an array of non-negative integers");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[0]", "[0,8,9]", "[-8,0]", "[0,8.0]", "\"0,8\"", "[0,18446744073709551616]"})
    void offsetsNotTwoNonNegativeIntegers(String offsets) {
        assertRejects(dir, one(entry("\"F32\"", "[2]", offsets), 8), "t",
                "data_offsets is not an array of 2 non-negative integers");
    }

    @Test
    void beginAfterEnd() {
        assertRejects(dir, one(entry("\"F32\"", "[2]", "[8,0]"), 8), "t", "data_offsets begin 8 > end 0");
    }

    @Test
    void sizeDisagreesWithShape() {
        assertRejects(dir, one(entry("\"BF16\"", "[2,3]", "[0,8]"), 8), "t",
                "data_offsets [0, 8] span 8 bytes but shape [2, 3] BF16 needs 12");
        // Not at the start of the data: the span is end - begin.
        String header = "{\"a\":" + entry("\"F32\"", "[2]", "[0,8]") + ",\"t\":"
                + entry("\"BF16\"", "[2,3]", "[8,16]") + "}";
        assertRejects(dir, file(header, new byte[16]), "t",
                "data_offsets [8, 16] span 8 bytes but shape [2, 3] BF16 needs 12");
    }

    @Test
    void sizeOverflowIsReported() {
        assertRejects(dir, one(entry("\"F32\"", "[4611686018427387904,4]", "[0,8]"), 8), "t", "overflows");
        assertRejects(dir, one(entry("\"F16\"", "[9223372036854775807]", "[0,8]"), 8), "t", "overflows");
    }

    @Test
    void endBeyondDataSection() {
        assertRejects(dir, one(entry("\"F32\"", "[2]", "[0,8]"), 7), "t",
                "data_offsets end 8 is beyond the data section of 7 bytes");
        assertRejects(dir, one(entry("\"F32\"", "[2]", "[9223372036854775799,9223372036854775807]"), 7), "t",
                "beyond the data section");
    }

    @Test
    void overlappingTensors() {
        String header = "{\"a\":" + entry("\"F32\"", "[2]", "[0,8]") + ",\"b\":" + entry("\"F16\"", "[2]", "[16,20]")
                + ",\"c\":" + entry("\"F32\"", "[2]", "[4,12]") + "}";
        assertRejects(dir, file(header, new byte[20]), "c", "overlap tensor a");
        String nested = "{\"a\":" + entry("\"F32\"", "[4]", "[0,16]") + ",\"b\":" + entry("\"F32\"", "[1]", "[8,12]")
                + "}";
        assertRejects(dir, file(nested, new byte[16]), "b", "overlap tensor a");
        // By a single byte: a bound off by one accepted it (b's first byte is a's last).
        String byOne = "{\"a\":" + entry("\"F16\"", "[2]", "[0,4]") + ",\"b\":" + entry("\"F16\"", "[2]", "[3,7]")
                + "}";
        assertRejects(dir, file(byOne, new byte[7]), "b", "data_offsets [3, 7] overlap tensor a [0, 4]");
    }

    @Test
    void emptyTensorsMayShareOffsets() {
        String header = "{\"a\":" + entry("\"F32\"", "[2]", "[0,8]") + ",\"e\":" + entry("\"F32\"", "[0]", "[4,4]")
                + ",\"f\":" + entry("\"F32\"", "[0,3]", "[8,8]") + "}";
        Path f = Fixtures.write(dir, "ok.safetensors", file(header, new byte[8]));
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertThat(s.tensors()).containsOnlyKeys("a", "e", "f");
        }
    }

    @Test
    void metadataMustMapStringsToStrings() {
        assertRejects(dir, file("{\"__metadata__\":{\"a\":\"x\",\"b\":1}}", new byte[0]), null,
                "__metadata__ value of key 'b' is not a string");
        assertRejects(dir, file("{\"__metadata__\":[\"a\"]}", new byte[0]), null, "__metadata__ is not an object");
        assertRejects(dir, file("{\"__metadata__\":null}", new byte[0]), null, "__metadata__ is not an object");
    }

    @Test
    void bytesAfterTheLastTensorAreRefused() {
        // One F32 of 4 bytes in 7: 3 left over. The reference library refuses any length but the tensors' end.
        assertRejects(dir, one(entry("\"F32\"", "[1]", "[0,4]"), 7), null,
                "3 bytes after the last tensor unaccounted for (the data section is 7 bytes, the tensors' "
                        + "data_offsets end at 4)");
        // The last tensor is the one ending furthest, not the last listed; an empty tensor ends nothing.
        String header = "{\"b\":" + entry("\"F16\"", "[2]", "[8,12]") + ",\"a\":" + entry("\"F32\"", "[2]", "[0,8]")
                + ",\"e\":" + entry("\"F32\"", "[0]", "[4,4]") + "}";
        assertRejects(dir, file(header, new byte[13]), null, "1 byte after the last tensor unaccounted for");
        assertThat(Fixtures.write(dir, "exact.safetensors", file(header, new byte[12]))).satisfies(f -> {
            try (SafetensorsFile s = SafetensorsFile.open(f)) {
                assertThat(s.tensors()).hasSize(3);
            }
        });
        // No tensors at all: any data is unaccounted for.
        assertRejects(dir, file("{}", new byte[2]), null, "2 bytes after the last tensor");
    }

    /** Bytes between tensors, or before the first, belong to none: the reference library refuses them too. */
    @Test
    void gapsBetweenTensorsAreRefused() {
        String gap = "{\"a\":" + entry("\"F32\"", "[1]", "[0,4]") + ",\"b\":" + entry("\"F32\"", "[1]", "[6,10]")
                + "}";
        assertRejects(dir, file(gap, new byte[10]), "b", "data_offsets [6, 10] leave bytes 4..5 unaccounted for "
                + "after tensor a");
        String before = "{\"a\":" + entry("\"F32\"", "[1]", "[2,6]") + "}";
        assertRejects(dir, file(before, new byte[6]), "a", "data_offsets [2, 6] leave bytes 0..1 unaccounted for "
                + "before the first tensor");
    }

    /**
     * The header's own strings are shown cut and with their control characters escaped: a forged 20 MB dtype made a
     * 20 MB "one-line" error (such a string is now refused at the parser's limit of 16 Mi characters; one under it),
     * and a newline in a name cut the CLI's line (it prints the first) before the problem.
     */
    @Test
    void longOrMultiLineStringsOfTheHeaderAreShownCutOnOneLine() {
        String x = "x".repeat(Json.MAX_STRING_CHARS);
        ModelFormatException e = assertRejects(dir, one(entry("\"" + x + "\"", "[2]", "[0,8]"), 8), "t",
                "unsupported dtype " + "x".repeat(200) + "... (16777216 characters)");
        assertThat(e.getMessage()).hasSizeLessThan(1000);
        // Keys: Jackson refuses names over 50,000 characters itself.
        String key = "k".repeat(50_000);
        e = assertRejects(dir, one("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"" + key + "\":1}", 8),
                "t", "unexpected key '" + "k".repeat(200) + "... (50000 characters)'");
        assertThat(e.getMessage()).hasSizeLessThan(1000);
        e = assertRejects(dir, file("{\"__metadata__\":{\"" + key + "\":1}}", new byte[0]), null,
                "__metadata__ value of key '" + "k".repeat(200) + "... (50000 characters)' is not a string");
        assertThat(e.getMessage()).hasSizeLessThan(1000);
        // A name: the tensor the error names is the name as shown.
        String name = "y".repeat(300);
        e = assertRejects(dir, file("{\"" + name + "\":" + entry("\"F64\"", "[1]", "[0,8]") + "}", new byte[8]),
                "y".repeat(200) + "... (300 characters)", "unsupported dtype F64");
        // Control characters, as JSON escapes them; the rest of the line stays.
        assertRejects(dir, file("{\"a\\nb\":" + entry("\"F32\\r\\u0000\"", "[1]", "[0,4]") + "}", new byte[4]),
                "a\\nb", "unsupported dtype F32\\r\\u0000");
        // A space after a control character stays a space.
        assertRejects(dir, file("{\"x\\ty z\":" + entry("\"F64\"", "[1]", "[0,8]") + "}", new byte[8]), "x\\ty z",
                "unsupported dtype F64");
        String overlap = "{\"a\\tb\":" + entry("\"F32\"", "[2]", "[0,8]") + ",\"c\\u001b\":"
                + entry("\"F32\"", "[1]", "[4,8]") + "}";
        assertRejects(dir, file(overlap, new byte[8]), "c\\u001b", "overlap tensor a\\tb [0, 8]");
        // Names of ordinary length, with other characters, are shown as they are.
        String plain = "model.language_model.layers.10.mlp.experts.gate_up_proj_blocks.ünï/😀";
        assertRejects(dir, file("{\"" + plain + "\":" + entry("\"I8\"", "[1]", "[0,1]") + "}", new byte[1]), plain,
                "unsupported dtype I8");
    }

    @Test
    void duplicateTensorName() {
        String e = entry("\"F32\"", "[1]", "[0,4]");
        assertRejects(dir, file("{\"t\":" + e + ",\"t\":" + e + "}", new byte[4]), null, "Duplicate");
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("absent.safetensors");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(io.moelab.runtime.ModelFormatException.class)
                .hasMessage(f + ": no such file");
    }
}
