package io.moelab.eplb.trace;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/**
 * A torch.save zip read through its central directory in memory bounded apart from its storages' count. A per_pass
 * dump has one entry a forward pass ({@code ARCHIVE/data/N}, one storage each): {@link java.util.zip.ZipFile} held
 * its whole directory, about 85 bytes an entry (2^20 passes needed 128 MiB of heap). Here the directory is scanned
 * once, as a stream, and what is kept of the storages named as torch names them ({@code ARCHIVE/data/} and a number
 * below the count of entries) is, per block of 64 numbers, which are present (a bit each) and where the first one's
 * directory record lies: torch writes the storages' records one after another in ascending order, so the others
 * follow it. A lookup reads the records from there, or, looking up the storages in order as a dump's passes are
 * read, the one record after the last found. About 0.2 bytes a storage: a directory of 64 ranks' files of 2^20
 * passes each, all open at once, holds 12 MiB. Where some block's records do not follow one another so (another
 * writer), the directory is scanned again and 4 bytes a storage kept, where its record lies, indexed by the number.
 * The record is read again when the entry is looked up. Other entries (the pickle, {@code version}, {@code byteorder}:
 * a few in torch's files) are kept by name, up to {@link #MAX_OTHERS}. Two entries of one name are found as the
 * directory is scanned ({@link #duplicate}). Zip64 end records (over 65,535 entries or 4 GiB) and extra fields are
 * read; entries are stored or deflated, as {@code ZipFile} reads them. The local headers' sizes are not used: torch
 * 1.13 writes them as 0, flagging each entry as followed by a data descriptor.
 */
final class TorchZip implements AutoCloseable {
    /** Most entries held by name (any but a storage named by number): torch writes fewer than ten. */
    static final int MAX_OTHERS = 1 << 16;
    private static final int LOCSIG = 0x04034b50;
    private static final int CENSIG = 0x02014b50;
    private static final int ENDSIG = 0x06054b50;
    private static final int ZIP64_ENDSIG = 0x06064b50;
    private static final int ZIP64_LOCSIG = 0x07064b50;
    private static final int ENDHDR = 22;
    private static final int CENHDR = 46;
    private static final int LOCHDR = 30;
    private static final int ZIP64_LOCHDR = 20;
    private static final int ZIP64_ENDHDR = 56;
    private static final long UINT32_MAX = 0xffffffffL;

    /** One entry, as its central directory record says. */
    record Entry(String name, int method, long crc, long compressedSize, long size, long localOffset) {
        boolean isDirectory() {
            return name.endsWith("/");
        }
    }

    private final FileChannel channel;
    /** Where the archive starts in the file (bytes before it, as a self-extracting archive has, are skipped). */
    private final long base;
    private final long cenStart;
    private final long cenEnd;
    private final int count;
    /** The first entry's name, null in an empty archive. */
    private final String first;
    /** The first entry's name up to its first slash, torch's {@code ARCHIVE/}; null where none. */
    private final String folder;
    /** The storages' folder, the first entry's up to its first slash and {@code data/}; null where none. */
    private final String storages;
    /** Storage numbers per block of the compact index. */
    private static final int BLOCK = 64;
    /** Compact index, null where the full one is kept: {@code [b]} the numbers {@code 64b + i} present, bit i. */
    private long[] present;
    /** Compact index: {@code [b]} the offset in the directory of block b's first present storage's record. */
    private int[] blockStart;
    /** Full index, null where the compact one holds: {@code [N]} 1 + the offset of storage N's record, 0 where none. */
    private int[] numbered;
    /** Compact index: the storage last looked up (-1: none), its entry and the offset of the record after its own. */
    private int lastNumber = -1;
    private Entry lastEntry;
    private long afterLast;
    /** The other entries' records' offsets in the directory, by name. */
    private final Map<String, Integer> others = new HashMap<>();
    /** The first name two entries have, null if none. */
    private String duplicate;
    /** Whether more entries than {@link #MAX_OTHERS} are of names other than storages' numbers. */
    private boolean tooMany;

    private TorchZip(FileChannel channel, long base, long cenStart, long cenEnd, int count, String first) {
        this.channel = channel;
        this.base = base;
        this.cenStart = cenStart;
        this.cenEnd = cenEnd;
        this.count = count;
        this.first = first;
        int slash = first == null ? -1 : first.indexOf('/');
        this.folder = slash <= 0 ? null : first.substring(0, slash + 1);
        this.storages = folder == null ? null : folder + "data/";
    }

    /**
     * Opens {@code file} and scans its central directory.
     *
     * @throws ZipException where it is no zip archive or its directory is corrupt
     */
    static TorchZip open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return scan(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static TorchZip scan(FileChannel channel) throws IOException {
        long length = channel.size();
        long end = findEnd(channel, length);
        ByteBuffer e = read(channel, end, ENDHDR);
        long total = Short.toUnsignedInt(e.getShort(10));
        long cenSize = Integer.toUnsignedLong(e.getInt(12));
        long cenOffset = Integer.toUnsignedLong(e.getInt(16));
        long endOfCen = end;
        if (end >= ZIP64_LOCHDR && read(channel, end - ZIP64_LOCHDR, 4).getInt(0) == ZIP64_LOCSIG) {
            // The zip64 end record lies just before its locator (torch's writer, miniz, writes one always); the
            // locator's offset, from the archive's start, is tried where it does not.
            long at64 = end - ZIP64_LOCHDR - ZIP64_ENDHDR;
            ByteBuffer z = at64 < 0 ? null : read(channel, at64, ZIP64_ENDHDR);
            if (z == null || z.getInt(0) != ZIP64_ENDSIG) {
                at64 = read(channel, end - ZIP64_LOCHDR, ZIP64_LOCHDR).getLong(8);
                z = at64 < 0 || at64 > end - ZIP64_LOCHDR - ZIP64_ENDHDR ? null : read(channel, at64, ZIP64_ENDHDR);
                if (z == null || z.getInt(0) != ZIP64_ENDSIG) {
                    throw new ZipException("invalid zip64 END header (not found where its locator says)");
                }
            }
            long total64 = z.getLong(32);
            long cenSize64 = z.getLong(40);
            long cenOffset64 = z.getLong(48);
            // The END record's fields are the zip64 one's, or marked as too large for them.
            if (total != 0xffff && total != total64 || cenSize != UINT32_MAX && cenSize != cenSize64
                    || cenOffset != UINT32_MAX && cenOffset != cenOffset64) {
                throw new ZipException("invalid zip64 END header (its directory's size, offset or entry count "
                        + "differs from the END header's)");
            }
            total = total64;
            cenSize = cenSize64;
            cenOffset = cenOffset64;
            endOfCen = at64;
        }
        if (cenSize < 0 || cenSize > endOfCen) {
            throw new ZipException("invalid END header (bad central directory size)");
        }
        long cenStart = endOfCen - cenSize;
        long base = cenStart - cenOffset;
        if (cenOffset < 0 || base < 0) {
            throw new ZipException("invalid END header (bad central directory offset)");
        }
        if (total < 0 || total > cenSize / CENHDR) {
            throw new ZipException("invalid END header (bad entry count: " + total + " entries in "
                    + cenSize + " bytes)");
        }
        if (cenSize > Integer.MAX_VALUE - 1) {
            throw new ZipException("central directory of " + cenSize + " bytes, more than the "
                    + (Integer.MAX_VALUE - 1) + " read");
        }
        String first = total == 0 ? null : record(channel, cenStart, cenStart + cenSize, base).entry().name();
        TorchZip zip = new TorchZip(channel, base, cenStart, cenStart + cenSize, (int) total, first);
        zip.index();
        return zip;
    }

    /** The offset of the END record: the last signature whose comment ends the file, or that a directory precedes. */
    private static long findEnd(FileChannel channel, long length) throws IOException {
        long from = Math.max(0, length - ENDHDR - 0xffff);
        if (length < ENDHDR) {
            throw new ZipException("zip END header not found");
        }
        ByteBuffer tail = read(channel, from, (int) (length - from));
        for (int i = tail.limit() - ENDHDR; i >= 0; i--) {
            if (tail.getInt(i) != ENDSIG) {
                continue;
            }
            long end = from + i;
            int comment = Short.toUnsignedInt(tail.getShort(i + 20));
            if (end + ENDHDR + comment == length) {
                return end;
            }
            // Bytes after the comment (padding, say): taken only where the directory and first entry are found.
            long cenSize = Integer.toUnsignedLong(tail.getInt(i + 12));
            long cenStart = end - cenSize;
            long base = cenStart - Integer.toUnsignedLong(tail.getInt(i + 16));
            if (cenStart >= 0 && base >= 0 && read(channel, cenStart, 4).getInt(0) == CENSIG
                    && read(channel, base, 4).getInt(0) == LOCSIG) {
                return end;
            }
        }
        throw new ZipException("zip END header not found");
    }

    /**
     * Scans the directory as a stream, indexing every entry: compactly where each block's storages' records follow
     * one another in ascending order, else (scanned again) by a full array.
     */
    private void index() throws IOException {
        int blocks = (int) ((count + (long) BLOCK - 1) / BLOCK);
        present = new long[blocks];
        blockStart = new int[blocks];
        if (!scanDirectory(true)) {
            present = null;
            blockStart = null;
            numbered = new int[count];
            others.clear();
            duplicate = null;
            tooMany = false;
            scanDirectory(false);
        }
    }

    /**
     * One scan of the directory, each entry {@link #add}ed; {@code compact}: into the compact index, false (the scan
     * abandoned) where a storage's record does not follow its block's previous one.
     */
    private boolean scanDirectory(boolean compact) throws IOException {
        CharsetDecoder utf8 = utf8();
        ByteBuffer header = ByteBuffer.allocate(CENHDR).order(ByteOrder.LITTLE_ENDIAN);
        byte[] name = new byte[0xffff];
        InputStream in = new BufferedInputStream(new Raw(cenStart, cenEnd - cenStart), 1 << 16);
        long at = cenStart;
        int previous = -1;
        for (int i = 0; i < count; i++) {
            if (in.readNBytes(header.array(), 0, CENHDR) != CENHDR) {
                throw new ZipException("invalid CEN header (bad header size)");
            }
            if (header.getInt(0) != CENSIG) {
                throw new ZipException("invalid CEN header (bad signature)");
            }
            int nameLength = Short.toUnsignedInt(header.getShort(28));
            int rest = Short.toUnsignedInt(header.getShort(30)) + Short.toUnsignedInt(header.getShort(32));
            if (in.readNBytes(name, 0, nameLength) != nameLength) {
                throw new ZipException("invalid CEN header (bad header size)");
            }
            try {
                // Not skip(): a buffered stream's skips no further than its buffer's end.
                in.skipNBytes(rest);
            } catch (EOFException e) {
                throw new ZipException("invalid CEN header (bad header size)");
            }
            String entryName = decode(utf8, name, nameLength);
            int offset = (int) (at - cenStart);
            int n = storages == null ? -1 : number(entryName, storages, count);
            if (compact && n >= 0) {
                if (!addCompact(n, offset, previous)) {
                    return false;
                }
            } else {
                add(entryName, n, offset);
            }
            previous = n;
            at += CENHDR + nameLength + rest;
        }
        return true;
    }

    /**
     * Storage {@code n}'s record at {@code offset} into the compact index, the directory's previous record being
     * storage {@code previous}'s (-1: another entry's); false where the record does not follow its block's last.
     */
    private boolean addCompact(int n, int offset, int previous) {
        int b = n / BLOCK;
        long mask = present[b];
        if (mask == 0) {
            blockStart[b] = offset;
        } else if (previous != b * BLOCK + (BLOCK - 1) - Long.numberOfLeadingZeros(mask) || previous >= n) {
            // Out of order, apart from its block's others, or twice (found as a duplicate by the full scan).
            return false;
        }
        present[b] = mask | 1L << (n % BLOCK);
        return true;
    }

    /** Indexes the entry {@code name} (storage {@code n}, -1 if none), its record at {@code offset}. */
    private void add(String name, int n, int offset) {
        if (n >= 0) {
            if (numbered[n] != 0) {
                duplicate(name);
            }
            numbered[n] = offset + 1;
            return;
        }
        if (others.containsKey(name)) {
            duplicate(name);
        } else if (others.size() < MAX_OTHERS || name.equals(folder + "data.pkl")
                || name.equals(folder + "byteorder")) {
            // The pickle and byte order are always found, so that a zip of too many is refused as a torch file.
            others.put(name, offset);
        } else {
            tooMany = true;
        }
    }

    /** Bytes the storages' index holds: about 0.2 a storage where compact, else 4. */
    long indexBytes() {
        return numbered != null ? 4L * numbered.length : 12L * present.length;
    }

    private void duplicate(String name) {
        if (duplicate == null) {
            duplicate = name;
        }
    }

    /** The number after {@code folder} in {@code name}, as torch writes them, where below {@code limit}; else -1. */
    private static int number(String name, String folder, int limit) {
        int n = name.length() - folder.length();
        if (n <= 0 || n > 10 || !name.startsWith(folder) || (n > 1 && name.charAt(folder.length()) == '0')) {
            return -1;
        }
        long v = 0;
        for (int i = folder.length(); i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v < limit ? (int) v : -1;
    }

    /** The number of entries. */
    int size() {
        return count;
    }

    /** The first entry's name, null in an empty archive. */
    String firstName() {
        return first;
    }

    /** The first name that two entries have, null if none. */
    String duplicate() {
        return duplicate;
    }

    /** Whether more than {@link #MAX_OTHERS} entries are named otherwise than storages by number (none indexed). */
    boolean tooMany() {
        return tooMany;
    }

    /**
     * The entry {@code name}, null if none (or among those past {@link #MAX_OTHERS}). Not for concurrent use (the
     * compact index remembers the last storage found).
     */
    Entry entry(String name) throws IOException {
        int n = storages == null ? -1 : number(name, storages, count);
        long offset;
        if (n >= 0 && numbered == null) {
            return storage(n, name);
        }
        if (n >= 0) {
            if (numbered[n] == 0) {
                return null;
            }
            offset = numbered[n] - 1;
        } else {
            Integer o = others.get(name);
            if (o == null) {
                return null;
            }
            offset = o;
        }
        return named(record(channel, cenStart + offset, cenEnd, base), name);
    }

    /** Storage {@code n}'s entry from the compact index: its block's records read from the first, or the last found. */
    private Entry storage(int n, String name) throws IOException {
        int b = n / BLOCK;
        long below = present[b] & ((1L << (n % BLOCK)) - 1);
        if ((present[b] >>> (n % BLOCK) & 1) == 0) {
            return null;
        }
        if (n == lastNumber) {
            return lastEntry;
        }
        long at;
        if (below != 0 && lastNumber == b * BLOCK + (BLOCK - 1) - Long.numberOfLeadingZeros(below)) {
            at = afterLast;
        } else {
            at = cenStart + blockStart[b];
            for (int k = Long.bitCount(below); k > 0; k--) {
                at = record(channel, at, cenEnd, base).end();
            }
        }
        Located found = record(channel, at, cenEnd, base);
        Entry entry = named(found, name);
        lastNumber = n;
        lastEntry = entry;
        afterLast = found.end();
        return entry;
    }

    private static Entry named(Located found, String name) throws ZipException {
        if (!found.entry().name().equals(name)) {
            throw new ZipException("central directory changed while read");
        }
        return found.entry();
    }

    /** A directory record's entry, and the offset of the record after it. */
    private record Located(Entry entry, long end) {
    }

    /** The directory record at {@code at}, its zip64 extra field read. */
    private static Located record(FileChannel channel, long at, long cenEnd, long base) throws IOException {
        if (at + CENHDR > cenEnd) {
            throw new ZipException("invalid CEN header (bad header size)");
        }
        ByteBuffer h = read(channel, at, CENHDR);
        if (h.getInt(0) != CENSIG) {
            throw new ZipException("invalid CEN header (bad signature)");
        }
        int flags = Short.toUnsignedInt(h.getShort(8));
        int method = Short.toUnsignedInt(h.getShort(10));
        long crc = Integer.toUnsignedLong(h.getInt(16));
        long csize = Integer.toUnsignedLong(h.getInt(20));
        long size = Integer.toUnsignedLong(h.getInt(24));
        int nameLength = Short.toUnsignedInt(h.getShort(28));
        int extraLength = Short.toUnsignedInt(h.getShort(30));
        long local = Integer.toUnsignedLong(h.getInt(42));
        if (at + CENHDR + nameLength + extraLength > cenEnd) {
            throw new ZipException("invalid CEN header (bad header size)");
        }
        ByteBuffer ne = read(channel, at + CENHDR, nameLength + extraLength);
        String name = decode(utf8(), ne.array(), nameLength);
        if ((flags & 1) != 0) {
            throw new ZipException("invalid CEN header (encrypted entry)");
        }
        if (method != 0 && method != 8) {
            throw new ZipException("invalid CEN header (bad compression method: " + method + ")");
        }
        // Zip64 extended information: the fields the record marks 0xffffffff, in this order.
        for (int i = nameLength; i + 4 <= nameLength + extraLength; ) {
            int id = Short.toUnsignedInt(ne.getShort(i));
            int len = Short.toUnsignedInt(ne.getShort(i + 2));
            int data = i + 4;
            if (data + len > nameLength + extraLength) {
                throw new ZipException("invalid CEN header (bad extra field)");
            }
            if (id == 1) {
                int p = data;
                if (size == UINT32_MAX) {
                    size = long64(ne, p, data + len);
                    p += 8;
                }
                if (csize == UINT32_MAX) {
                    csize = long64(ne, p, data + len);
                    p += 8;
                }
                if (local == UINT32_MAX) {
                    local = long64(ne, p, data + len);
                }
            }
            i = data + len;
        }
        if (size < 0 || csize < 0 || local < 0 || local > Long.MAX_VALUE - base) {
            throw new ZipException("invalid CEN header (bad zip64 extra field)");
        }
        int commentLength = Short.toUnsignedInt(h.getShort(32));
        return new Located(new Entry(name, method, crc, csize, size, base + local),
                at + CENHDR + nameLength + extraLength + commentLength);
    }

    private static long long64(ByteBuffer b, int at, int end) throws ZipException {
        if (at + 8 > end) {
            throw new ZipException("invalid CEN header (bad zip64 extra field)");
        }
        return b.getLong(at);
    }

    /**
     * The entry's bytes, inflated where deflated; the caller checks their count and CRC-32 against the entry's. The
     * compressed bytes end where the directory says, however the data runs on.
     */
    InputStream getInputStream(Entry entry) throws IOException {
        if (entry.localOffset() > cenStart - LOCHDR) {
            throw new ZipException("invalid CEN header (bad local header offset)");
        }
        ByteBuffer h = read(channel, entry.localOffset(), LOCHDR);
        if (h.getInt(0) != LOCSIG) {
            throw new ZipException("invalid LOC header (bad signature)");
        }
        long data = entry.localOffset() + LOCHDR + Short.toUnsignedInt(h.getShort(26))
                + Short.toUnsignedInt(h.getShort(28));
        InputStream raw = new Raw(data, entry.compressedSize());
        if (entry.method() == 0) {
            return raw;
        }
        return new Inflated(raw);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static CharsetDecoder utf8() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    private static String decode(CharsetDecoder utf8, byte[] bytes, int length) throws ZipException {
        try {
            CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(bytes, 0, length));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new ZipException("invalid CEN header (bad entry name)");
        }
    }

    /** {@code n} bytes of {@code channel} from {@code at}, little-endian; refused where the file ends first. */
    private static ByteBuffer read(FileChannel channel, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (at < 0 || channel.read(b, at + b.position()) < 0) {
                throw new EOFException();
            }
        }
        return b;
    }

    /** {@code length} bytes of the file from {@code at}, read in place (several may be open at once). */
    private final class Raw extends InputStream {
        private long at;
        private long left;

        Raw(long at, long length) {
            this.at = at;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (left <= 0) {
                return -1;
            }
            int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, left)), at);
            if (n < 0) {
                left = 0;
                return -1;
            }
            at += n;
            left -= n;
            return n;
        }

        @Override
        public long skip(long n) {
            long skipped = Math.max(0, Math.min(n, left));
            at += skipped;
            left -= skipped;
            return skipped;
        }
    }

    /** A deflated entry's bytes inflated; its inflater's memory freed on close. */
    private static final class Inflated extends InflaterInputStream {
        private boolean dummy;
        private boolean closed;

        Inflated(InputStream raw) {
            super(raw, new Inflater(true), 8192);
        }

        @Override
        protected void fill() throws IOException {
            len = in.read(buf, 0, buf.length);
            if (len < 0) {
                // Raw deflate may need one byte past its data to finish (Inflater's nowrap mode), as ZipFile gives.
                if (dummy) {
                    throw new EOFException("Unexpected end of ZLIB input stream");
                }
                dummy = true;
                buf[0] = 0;
                len = 1;
            }
            inf.setInput(buf, 0, len);
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                inf.end();
                super.close();
            }
        }
    }
}
