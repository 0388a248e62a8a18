package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.ZipException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GzipMembersInputStream} against files that Python's gzip and zlib modules wrote and gzip(1) checked
 * ({@code gzip/make_fixtures.py}): several members, every optional header field, and headers gzip(1) refuses.
 */
class GzipMembersTest {
    /** Buffer sizes from the smallest the stream takes to TraceFiles' own: members end inside and across them. */
    private static final int[] BUFFERS = {2, 3, 5, 16, 64, 1 << 16};

    @TempDir
    Path dir;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = GzipMembersTest.class.getResourceAsStream("gzip/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    /** Everything the stream gives, read {@code chunk} bytes at a time (1: through {@code read()}). */
    private static byte[] inflate(byte[] gz, int buffer, int chunk) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GzipMembersInputStream in = new GzipMembersInputStream(new ByteArrayInputStream(gz), buffer)) {
            if (chunk == 1) {
                for (int b = in.read(); b != -1; b = in.read()) {
                    out.write(b);
                }
                assertThat(in.read()).as("read() after the end").isEqualTo(-1);
            } else {
                byte[] part = new byte[chunk];
                for (int n = in.read(part, 0, chunk); n != -1; n = in.read(part, 0, chunk)) {
                    assertThat(n).as("a read of %d bytes", chunk).isBetween(1, chunk);
                    out.write(part, 0, n);
                }
                assertThat(in.read(part, 0, chunk)).as("read after the end").isEqualTo(-1);
            }
        }
        return out.toByteArray();
    }

    @Test
    void membersThatPythonWroteAreReadWholeWhateverTheBufferAndReadSizes() throws IOException {
        byte[] trace = resource("trace.json");
        byte[] members = resource("members.json.gz");
        for (int buffer : BUFFERS) {
            for (int chunk : new int[] {1, 7, 4096}) {
                assertThat(inflate(members, buffer, chunk)).as("buffer %d, reads of %d", buffer, chunk)
                        .isEqualTo(trace);
            }
        }
        // And through the trace reader: the loads of trace.json, by hand.
        Path path = Files.write(dir.resolve("members.json.gz"), members);
        assertThat(TraceFiles.read(path).stepList()).extracting(step -> step.load(1, 2))
                .containsExactly(3.0, 7.0, 1.0);
        assertThat(TraceFiles.read(path).stepList())
                .isEqualTo(TraceFiles.read(Files.write(dir.resolve("trace.json"), trace)).stepList());
    }

    @Test
    void everyOptionalHeaderFieldIsSkipped() throws IOException {
        // FTEXT, FHCRC, a 300-byte FEXTRA (both bytes of its length count), FNAME and FCOMMENT with bytes past 0x7f.
        byte[] trace = resource("trace.json");
        for (int buffer : BUFFERS) {
            assertThat(inflate(resource("header-fields.json.gz"), buffer, 4096)).as("buffer %d", buffer)
                    .isEqualTo(trace);
        }
    }

    @Test
    void readsOfNothingReturnZero() throws IOException {
        try (GzipMembersInputStream in = new GzipMembersInputStream(
                new ByteArrayInputStream(resource("members.json.gz")), 64)) {
            assertThat(in.read(new byte[4], 2, 0)).isZero();
            byte[] two = new byte[4];
            assertThat(in.read(two, 2, 2)).isEqualTo(2);
            assertThat(Arrays.copyOfRange(two, 2, 4)).isEqualTo(new byte[] {'{', '"'});
        }
    }

    /**
     * Every prefix of a file of four members (the third empty) either fails or, where it ends just after a member,
     * gives exactly the data of the members before it: a file cut short never reads as a shorter whole.
     */
    @Test
    void aPrefixReadsOnlyWhereItEndsAMember() throws IOException {
        byte[] trace = resource("trace.json");
        byte[] members = resource("members.json.gz");
        Set<String> wholes = Set.of("", new String(trace, 0, 40), new String(trace, 0, 100), new String(trace));
        int read = 0;
        Set<String> seen = new HashSet<>();
        for (int length = 0; length <= members.length; length++) {
            byte[] prefix = Arrays.copyOf(members, length);
            for (int buffer : new int[] {2, 64}) {
                String data;
                try {
                    data = new String(inflate(prefix, buffer, 4096));
                } catch (EOFException e) {
                    assertThat(e).hasMessage("unexpected end of gzip data");
                    continue;
                } catch (ZipException e) {
                    // Cut one byte into a member: a lone 0x1f may as well be a byte appended.
                    assertThat(e).hasMessage("unexpected data after the last gzip member");
                    continue;
                }
                assertThat(wholes).as("length %d", length).contains(data);
                seen.add(data);
                read++;
            }
        }
        // Four member ends (the empty member's end gives what the second's did), each read at both buffer sizes.
        assertThat(read).isEqualTo(4 * 2);
        assertThat(seen).hasSize(3).doesNotContain("");
    }

    /** A byte changed anywhere in the file either fails the read or changes no data (file names, times: no check). */
    @Test
    void aChangedByteNeverReadsAsOtherData() throws IOException {
        byte[] trace = resource("trace.json");
        for (String name : new String[] {"members.json.gz", "header-fields.json.gz"}) {
            byte[] gz = resource(name);
            for (int i = 0; i < gz.length; i++) {
                for (int bit = 0; bit < 8; bit++) {
                    byte[] changed = gz.clone();
                    changed[i] ^= (byte) (1 << bit);
                    byte[] data;
                    try {
                        data = inflate(changed, 64, 4096);
                    } catch (ZipException | EOFException e) {
                        continue;
                    }
                    assertThat(data).as("%s byte %d bit %d", name, i, bit).isEqualTo(trace);
                }
            }
        }
    }

    @Test
    void aWrongTrailerIsNamed() throws IOException {
        byte[] gz = resource("header-fields.json.gz");
        int trailer = gz.length - 8;
        byte[] crc = gz.clone();
        crc[trailer + 3] ^= (byte) 0x80;
        assertThatThrownBy(() -> inflate(crc, 64, 4096)).isInstanceOf(ZipException.class)
                .hasMessage("CRC-32 mismatch");
        // ISIZE one more, and one less, than the 174 bytes inflated.
        for (int delta : new int[] {1, -1}) {
            byte[] size = gz.clone();
            size[trailer + 4] += (byte) delta;
            assertThatThrownBy(() -> inflate(size, 64, 4096)).as("%+d", delta).isInstanceOf(ZipException.class)
                    .hasMessage("size mismatch (ISIZE)");
        }
        byte[] high = gz.clone();
        high[trailer + 7] = 1; // 174 + 2^24
        assertThatThrownBy(() -> inflate(high, 64, 4096)).isInstanceOf(ZipException.class)
                .hasMessage("size mismatch (ISIZE)");
    }

    @Test
    void whatFollowsTheLastMemberMustBeAnotherMember() throws IOException {
        byte[] gz = resource("members.json.gz");
        byte[][] tails = {{0x1f}, {0x1f, 0x00}, {0x00, (byte) 0x8b}, {0x1f, (byte) 0x8b}, {0x1f, (byte) 0x8b, 8},
            {0x1f, (byte) 0x8b, 7, 0, 0, 0, 0, 0, 0, 0}, {(byte) 0x8b, 0x1f}};
        String[] problems = {"unexpected data after the last gzip member", "unexpected data after the last gzip member",
            "unexpected data after the last gzip member", "unexpected end of gzip data",
            "unexpected end of gzip data", "unsupported compression method",
            "unexpected data after the last gzip member"};
        for (int i = 0; i < tails.length; i++) {
            byte[] file = Arrays.copyOf(gz, gz.length + tails[i].length);
            System.arraycopy(tails[i], 0, file, gz.length, tails[i].length);
            for (int buffer : new int[] {2, 64, 1 << 16}) {
                assertThatThrownBy(() -> inflate(file, buffer, 4096)).as("tail %d, buffer %d", i, buffer)
                        .isInstanceOf(IOException.class).hasMessage(problems[i]);
            }
        }
        assertThatThrownBy(() -> inflate(new byte[] {0x1f, 0x0b, 8, 0, 0, 0, 0, 0, 0, 0}, 64, 4096))
                .isInstanceOf(ZipException.class).hasMessage("not in gzip format");
        assertThatThrownBy(() -> inflate(new byte[] {0x0f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0}, 64, 4096))
                .isInstanceOf(ZipException.class).hasMessage("not in gzip format");
    }

    @Test
    void aHeaderCutShortInAnyFieldIsTruncated() throws IOException {
        // Cut inside the fixed header (10 bytes), the extra field's length (2) and data (300), the name (11 with its
        // zero), the comment (15), the header CRC (2), and where the deflate data would start.
        byte[] gz = resource("header-fields.json.gz");
        for (int length : new int[] {1, 2, 3, 4, 9, 10, 11, 12, 200, 311, 312, 320, 322, 330, 337, 338, 339, 340}) {
            byte[] prefix = Arrays.copyOf(gz, length);
            assertThatThrownBy(() -> inflate(prefix, 64, 4096)).as("length %d", length)
                    .isInstanceOf(EOFException.class).hasMessage("unexpected end of gzip data");
        }
    }

    @Test
    void aHeaderWithAWrongCrcOrReservedFlagsIsRefused() throws IOException {
        Path bad = Files.write(dir.resolve("bad.json.gz"), resource("bad-header-crc.json.gz"));
        assertThatThrownBy(() -> TraceFiles.read(bad)).isInstanceOf(InvalidInputException.class)
                .hasMessage(bad + ": corrupt gzip data: gzip header CRC-16 mismatch");
        Path reserved = Files.write(dir.resolve("reserved.json.gz"), resource("reserved-flag.json.gz"));
        assertThatThrownBy(() -> TraceFiles.read(reserved)).isInstanceOf(InvalidInputException.class)
                .hasMessage(reserved + ": corrupt gzip data: reserved gzip header flags set (0x20)");
    }

    /** Each member's header CRC covers that header alone: two members with one read as two, whatever the buffer. */
    @Test
    void aLaterMembersHeaderCrcIsItsOwn() throws IOException {
        byte[] trace = resource("trace.json");
        byte[] one = resource("header-fields.json.gz");
        byte[] members = resource("members.json.gz");
        byte[] file = new byte[2 * one.length + members.length];
        System.arraycopy(one, 0, file, 0, one.length);
        System.arraycopy(members, 0, file, one.length, members.length);
        System.arraycopy(one, 0, file, one.length + members.length, one.length);
        byte[] expected = new byte[3 * trace.length];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(trace, 0, expected, i * trace.length, trace.length);
        }
        for (int buffer : BUFFERS) {
            assertThat(inflate(file, buffer, 4096)).as("buffer %d", buffer).isEqualTo(expected);
        }
    }

    /** zlib's own words for bad deflate data reach the error: a block of the reserved type 3. */
    @Test
    void badDeflateDataIsNamedAsZlibNamesIt() throws IOException {
        byte[] gz = resource("header-fields.json.gz");
        gz[340] |= 0x06; // the first deflate byte, after the 340-byte header: BTYPE 11
        assertThatThrownBy(() -> inflate(gz, 64, 4096)).isInstanceOf(ZipException.class)
                .hasMessage("invalid block type");
        Path path = Files.write(dir.resolve("block.json.gz"), gz);
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": corrupt gzip data: invalid block type");
    }

    @Test
    void closingClosesTheSource() throws IOException {
        boolean[] closed = {false};
        InputStream source = new ByteArrayInputStream(resource("members.json.gz")) {
            @Override
            public void close() {
                closed[0] = true;
            }
        };
        new GzipMembersInputStream(source, 64).close();
        assertThat(closed[0]).isTrue();
    }
}
