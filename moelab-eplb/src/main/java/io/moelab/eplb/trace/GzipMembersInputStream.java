package io.moelab.eplb.trace;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses gzip data of one or more members (RFC 1952), like {@link java.util.zip.GZIPInputStream}, but refuses
 * anything after the last member: GZIPInputStream stops silently at bytes that do not start a member, so a file
 * with garbage appended (a botched copy or concatenation) read as if it were whole.
 *
 * <p>Throws {@link EOFException} for a stream that ends inside a member, {@link ZipException} for corrupt data,
 * including data after the last member, a header whose CRC-16 (FHCRC) does not match, and reserved header flags.
 */
final class GzipMembersInputStream extends InputStream {
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;
    private static final int RESERVED = 0xe0;

    private final PushbackInputStream in;
    private final byte[] buffer;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private final CRC32 headerCrc = new CRC32();
    /** How many bytes of {@link #buffer} the inflater was last given. */
    private int filled;
    private boolean eof;

    /** Reads members from {@code in}, which must start with one. */
    GzipMembersInputStream(InputStream in, int bufferSize) throws IOException {
        this.buffer = new byte[bufferSize];
        this.in = new PushbackInputStream(in, bufferSize);
        readHeader();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!eof) {
            int n;
            try {
                n = inflater.inflate(b, off, len);
            } catch (DataFormatException e) {
                throw new ZipException(e.getMessage() == null ? "invalid deflate data" : e.getMessage());
            }
            if (n > 0) {
                crc.update(b, off, n);
                return n;
            }
            if (inflater.finished()) {
                endMember();
            } else if (inflater.needsDictionary()) {
                throw new ZipException("deflate data needs a preset dictionary");
            } else if (inflater.needsInput()) {
                int read = in.read(buffer, 0, buffer.length);
                if (read < 0) {
                    throw new EOFException("unexpected end of gzip data");
                }
                filled = read;
                inflater.setInput(buffer, 0, read);
            }
        }
        return -1;
    }

    /** Checks the trailer, then starts the next member, ends at end of input, or refuses anything else. */
    private void endMember() throws IOException {
        int remaining = inflater.getRemaining();
        if (remaining > 0) {
            // The inflater was given bytes past the deflate data: the trailer and whatever follows.
            in.unread(buffer, filled - remaining, remaining);
        }
        long expectedCrc = readInt();
        long expectedSize = readInt();
        if (expectedCrc != crc.getValue()) {
            throw new ZipException("CRC-32 mismatch");
        }
        if (expectedSize != (inflater.getBytesWritten() & 0xffffffffL)) {
            throw new ZipException("size mismatch (ISIZE)");
        }
        int first = in.read();
        if (first == -1) {
            eof = true;
            return;
        }
        int second = in.read();
        if (first != 0x1f || second != 0x8b) {
            throw new ZipException("unexpected data after the last gzip member");
        }
        in.unread(second);
        in.unread(first);
        inflater.reset();
        crc.reset();
        readHeader();
    }

    private void readHeader() throws IOException {
        headerCrc.reset();
        if (headerByte() != 0x1f || headerByte() != 0x8b) {
            throw new ZipException("not in gzip format");
        }
        if (headerByte() != 8) {
            throw new ZipException("unsupported compression method");
        }
        int flags = headerByte();
        if ((flags & RESERVED) != 0) {
            // RFC 1952 2.3.1.2: a decompressor must refuse them; a new field could follow, read as deflate data.
            throw new ZipException("reserved gzip header flags set (0x" + Integer.toHexString(flags & RESERVED) + ")");
        }
        skipHeader(6); // MTIME, XFL, OS
        if ((flags & FEXTRA) != 0) {
            skipHeader(headerByte() | headerByte() << 8);
        }
        if ((flags & FNAME) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FCOMMENT) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FHCRC) != 0) {
            // The low 16 bits of the CRC-32 of the header's bytes before it, as gzip(1) and GZIPInputStream check.
            int expected = (int) headerCrc.getValue() & 0xffff;
            if ((readByte() | readByte() << 8) != expected) {
                throw new ZipException("gzip header CRC-16 mismatch");
            }
        }
    }

    private void skipZeroTerminated() throws IOException {
        while (headerByte() != 0) {
            // skip
        }
    }

    private void skipHeader(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            headerByte();
        }
    }

    /** A byte of the header, counted in its CRC. */
    private int headerByte() throws IOException {
        int b = readByte();
        headerCrc.update(b);
        return b;
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("unexpected end of gzip data");
        }
        return b;
    }

    private long readInt() throws IOException {
        return (readByte() | readByte() << 8 | readByte() << 16 | (long) readByte() << 24) & 0xffffffffL;
    }

    @Override
    public void close() throws IOException {
        inflater.end();
        in.close();
    }
}
