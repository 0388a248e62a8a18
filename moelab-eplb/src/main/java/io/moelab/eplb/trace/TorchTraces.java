package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.MessageText;
import io.moelab.eplb.trace.TorchPickle.Dtype;
import io.moelab.eplb.trace.TorchPickle.Storage;
import io.moelab.eplb.trace.TorchPickle.Tensor;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipException;

/**
 * Reads SGLang's expert-distribution dumps as {@code torch.save} writes them ({@code .pt}): a zip archive whose {@code
 * ARCHIVE/data.pkl} pickles {@code {"rank": ..., "logical_count": <tensor>, ...}} and whose {@code ARCHIVE/data/KEY}
 * entries hold the tensors' storages, raw little-endian elements. The counts are read as the JSON form's are ({@link
 * TraceFormat#SGLANG}): {@code [layers][experts]} one step, {@code [steps][layers][experts]} one per pass, all-zero
 * layers dropped. A per_pass or per_token dump ({@code {"records": [...], "last_physical_to_logical_map": ...}}) is
 * read as one step of logical loads per record ({@link SglangPerPass}); a directory of one such dump's per-rank files
 * as their sum, record by record ({@link SglangPerPass#readRanks}). Only the counts' storages are read, and only the
 * part each tensor spans, after its size is checked against the zip entry's: a stat dump's as a stream, one step's
 * bytes at a time, so that a dump of every pass is not held whole. A per_pass dump's pickle is read as a stream too, a
 * record at a time ({@link TorchPickle}), once to check the records and again for each pass over them, so that no
 * number of forward passes is held.
 */
final class TorchTraces {
    /** A zip archive's first bytes (a local file header). */
    static final byte[] MAGIC = {'P', 'K', 3, 4};
    /**
     * The first bytes of torch.save's legacy format (torch before 1.6, or
     * {@code _use_new_zipfile_serialization=False}): a protocol-2 pickle of torch's magic number,
     * 0x1950a86a20f9469cfc6c.
     */
    static final byte[] LEGACY_MAGIC = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};
    /** The problem with a file in torch.save's legacy format. */
    static final String LEGACY = "is a torch.save file in the legacy format (torch before 1.6, or "
            + "_use_new_zipfile_serialization=False), which is not read: load it and save it again with a newer torch";
    /** What {@link #read} returns for a zip that is no torch.save file. */
    static final int NOT_TORCH = -1;
    /** Largest span of a storage read: one Java array. */
    private static final long MAX_SPAN = Integer.MAX_VALUE - 16;

    private TorchTraces() {
    }

    /**
     * Reads the torch.save file {@code file}, delivering its steps.
     *
     * @param source the name for errors
     * @return the number of steps, or {@link #NOT_TORCH} where the zip holds no {@code ARCHIVE/data.pkl}
     * @throws InvalidInputException for a corrupt zip, a pickle that is not read, or counts that are not loads
     */
    static int read(Path file, String source, StepSink sink) throws IOException {
        Opened opened = open(file, source);
        if (opened == null) {
            return NOT_TORCH;
        }
        try (TorchZip zip = opened.zip()) {
            Counts counts = counts(opened.top(), source);
            if (counts.key().equals(RECORDS)) {
                return SglangPerPass.deliver(List.of(new SglangPerPass(opened, source)), sink);
            }
            return deliver(zip, opened.prefix(), counts, source, sink);
        } catch (ZipException e) {
            throw corrupt(source, e);
        } catch (EOFException e) {
            throw new InvalidInputException(source, "truncated zip archive", e);
        }
    }

    /**
     * A torch.save file opened: its zip (the caller closes it), the entries' folder, the pickled object (a per_pass
     * dump's records list empty, its records read again from {@code pickle}) and what that reading found of them.
     */
    record Opened(TorchZip zip, String prefix, Object top, Pickle pickle, Header header) {
    }

    /**
     * Opens the torch.save file {@code file} and reads its pickle, the zip checked (entry names distinct, byte order).
     *
     * @return null, the zip closed, where it holds no {@code ARCHIVE/data.pkl}
     */
    static Opened open(Path file, String source) throws IOException {
        TorchZip zip;
        try {
            zip = TorchZip.open(file);
        } catch (ZipException e) {
            throw corrupt(source, e);
        } catch (EOFException e) {
            throw new InvalidInputException(source, "truncated zip archive", e);
        }
        try {
            String first = zip.firstName();
            if (first == null) {
                zip.close();
                return null;
            }
            // torch names every entry ARCHIVE/...; its reader takes ARCHIVE from the first.
            int slash = first.indexOf('/');
            TorchZip.Entry pkl = slash <= 0 ? null : zip.entry(first.substring(0, slash + 1) + "data.pkl");
            if (pkl == null || pkl.isDirectory()) {
                zip.close();
                return null;
            }
            String prefix = first.substring(0, slash + 1);
            requireDistinctNames(zip, source);
            requireLittleEndian(zip, prefix, source);
            Pickle pickle = Pickle.of(zip, pkl, source);
            Header header = new Header();
            Object top;
            try (Pickle.Reading reading = pickle.read()) {
                for (Object record; (record = reading.next()) != null; ) {
                    header.accept(record);
                }
                top = reading.result();
                header.streamed = reading.streamed(top);
            }
            return new Opened(zip, prefix, top, pickle, header);
        } catch (ZipException e) {
            zip.close();
            throw corrupt(source, e);
        } catch (EOFException e) {
            zip.close();
            throw new InvalidInputException(source, "truncated zip archive", e);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    /**
     * A dump's {@code data.pkl}, read as a stream as often as needed: first scanned for the memo entries it gets
     * again (and checked whole: its size and CRC-32), then each {@link #read} a fresh reading of it, its records
     * handed out one at a time. Nothing of it is held between readings but those entries' numbers.
     */
    record Pickle(TorchZip zip, TorchZip.Entry entry, String source, Set<Long> got) {
        static Pickle of(TorchZip zip, TorchZip.Entry entry, String source) throws IOException {
            if (entry.size() < 0) {
                throw new InvalidInputException(source, name(entry) + ": is of unknown size");
            }
            try (CheckedInputStream in = buffered(zip, entry)) {
                long[] read = new long[1];
                TorchPickle.Input counted = () -> {
                    int b = in.read();
                    read[0] += b < 0 ? 0 : 1;
                    return b;
                };
                Set<Long> got;
                try {
                    got = TorchPickle.gets(counted, entry.size());
                } catch (TorchPickle.Malformed e) {
                    requireIntact(in, entry, read[0], source);
                    throw new InvalidInputException(source, name(entry) + ": " + e.getMessage());
                }
                requireIntact(in, entry, read[0], source);
                return new Pickle(zip, entry, source, got);
            }
        }

        Reading read() throws IOException {
            return new Reading(this, buffered(zip, entry));
        }

        /**
         * One reading: {@link #next} the records in turn, then {@link #result}. A problem of the pickle is reported
         * after the entry's size and CRC-32 are checked, so a damaged byte is named as such.
         */
        static final class Reading implements AutoCloseable {
            private final Pickle pickle;
            private final CheckedInputStream in;
            private final TorchPickle parser;

            Reading(Pickle pickle, CheckedInputStream in) {
                this.pickle = pickle;
                this.in = in;
                this.parser = TorchPickle.open(in::read, pickle.entry.size(), pickle.got);
            }

            /** The next record, null at the pickle's end (its entry then checked whole). */
            Object next() throws IOException {
                Object record;
                try {
                    record = parser.next();
                } catch (TorchPickle.Malformed e) {
                    requireIntact(in, pickle.entry, parser.position(), pickle.source);
                    throw new InvalidInputException(pickle.source, name(pickle.entry) + ": " + e.getMessage());
                }
                if (record == null) {
                    requireIntact(in, pickle.entry, parser.position(), pickle.source);
                }
                return record;
            }

            Object result() {
                return parser.result();
            }

            /** Whether {@code top} is a dict whose records this reading handed out. */
            boolean streamed(Object top) {
                return top instanceof Map<?, ?> dict && parser.streamed(dict.get(RECORDS));
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        }
    }

    /** The entry's bytes, buffered below their CRC-32: a pickle is read a byte at a time. */
    private static CheckedInputStream buffered(TorchZip zip, TorchZip.Entry entry) throws IOException {
        return new CheckedInputStream(new BufferedInputStream(zip.getInputStream(entry), 1 << 16), new CRC32());
    }

    /**
     * What a first reading of a per_pass dump's pickle finds of its records, each looked at once and let go: how
     * many, the rank they name (or the first problem with it, reported only where the rank is asked for) and the
     * first record whose counts share a storage with an earlier one's ({@link Owners}).
     */
    static final class Header {
        long count;
        /** Whether the records were handed out one at a time, read again for each pass over them. */
        boolean streamed;
        long rank = -1;
        InvalidInputException rankProblem;
        final Owners owners = new Owners();
        InvalidInputException shared;
        long sharedAt = -1;

        void accept(Object record) {
            long r = count++;
            if (rankProblem == null) {
                try {
                    long v = SglangPerPass.integer(r, record, "rank");
                    if (r > 0 && v != rank) {
                        throw new InvalidInputException(RECORDS + "[" + r + "].rank", "is " + v + ", but records[0]'s "
                                + "is " + rank + " (a file holds one rank's passes)");
                    }
                    rank = v;
                } catch (InvalidInputException e) {
                    rankProblem = e;
                }
            }
            if (shared == null && record instanceof Map<?, ?> dict
                    && dict.get(SglangPerPass.COUNT) instanceof Tensor t) {
                String key = t.storage().key();
                long owner = owners.add(key, r);
                if (owner >= 0) {
                    shared = SglangPerPass.shares(r, key, RECORDS + "[" + owner + "]'s counts");
                    sharedAt = r;
                }
            }
        }
    }

    /**
     * The record whose counts first named each storage key, in bounded memory for torch's keys: torch.save numbers
     * storages 0, 1, 2, ... as it meets them, so the records' counts name keys in an arithmetic run (every key of a
     * per_pass dump, every other of a per_token one's), held as its start, step and length. A key off the run is held
     * apart, up to {@link #MAX_APART}.
     */
    static final class Owners {
        /** Most keys held off the run: no torch.save file has any. */
        static final int MAX_APART = 1 << 16;
        private long first;
        private long step;
        private long firstRecord;
        private long length;
        private final Map<String, Long> apart = new HashMap<>();

        /**
         * Records that record {@code r}'s counts name storage {@code key}.
         *
         * @return the record that named it before, -1 if none
         */
        long add(String key, long r) {
            long owner = owner(key);
            if (owner >= 0) {
                return owner;
            }
            long k = number(key);
            if (k >= 0 && length == 0) {
                first = k;
                firstRecord = r;
                length = 1;
            } else if (k >= 0 && length == 1 && k > first && r == firstRecord + 1) {
                step = k - first;
                length = 2;
            } else if (k >= 0 && length > 1 && k == first + step * length && r == firstRecord + length) {
                length++;
            } else {
                keepApart(key, r);
            }
            return -1;
        }

        /** The record that named {@code key}, -1 if none. */
        long owner(String key) {
            long k = number(key);
            if (k >= 0 && length > 0 && k >= first) {
                long i = length == 1 ? (k == first ? 0 : -1) : ((k - first) % step == 0 ? (k - first) / step : -1);
                if (i >= 0 && i < length) {
                    return firstRecord + i;
                }
            }
            return apart.getOrDefault(key, -1L);
        }

        private void keepApart(String key, long r) {
            if (apart.size() == MAX_APART) {
                throw new InvalidInputException(RECORDS, "has more than " + MAX_APART + " forward passes whose "
                        + "counts' storages are not numbered in order, as torch.save numbers them");
            }
            apart.put(key, r);
        }

        /** {@code key} as torch writes a storage's number, -1 if it is none. */
        private static long number(String key) {
            if (key.isEmpty() || key.length() > 18 || (key.length() > 1 && key.charAt(0) == '0')) {
                return -1;
            }
            long v = 0;
            for (int i = 0; i < key.length(); i++) {
                char c = key.charAt(i);
                if (c < '0' || c > '9') {
                    return -1;
                }
                v = v * 10 + (c - '0');
            }
            return v;
        }
    }

    /** A pass over one rank's records, one at a time: null after the last. */
    interface Records extends AutoCloseable {
        Object next() throws IOException;

        @Override
        void close() throws IOException;
    }

    static InvalidInputException corrupt(String source, ZipException e) {
        return new InvalidInputException(source, "corrupt zip archive: " + e.getMessage(), e);
    }

    /**
     * Refuses two entries of one name: which of them a reader takes differs (Java's, torch's miniz, Python's), so the
     * counts read here could be other than those torch loads. {@link TorchZip} finds them as it scans the directory;
     * it holds no more than {@link TorchZip#MAX_OTHERS} entries named otherwise than torch names its storages, so a
     * zip with more is refused too.
     */
    private static void requireDistinctNames(TorchZip zip, String source) {
        if (zip.duplicate() != null) {
            throw new InvalidInputException(source, "has two entries named " + MessageText.oneLine(zip.duplicate())
                    + " (which of them is read depends on the zip reader)");
        }
        if (zip.tooMany()) {
            throw new InvalidInputException(source, "has more than " + TorchZip.MAX_OTHERS + " zip entries named "
                    + "otherwise than torch.save names its storages (ARCHIVE/data/0, 1, 2, ...)");
        }
    }

    /** torch 2.x records the byte order it wrote; torch 1.x wrote little-endian without saying so. */
    private static void requireLittleEndian(TorchZip zip, String prefix, String source) throws IOException {
        TorchZip.Entry entry = zip.entry(prefix + "byteorder");
        if (entry == null) {
            return;
        }
        String order = new String(bytes(zip, entry, 16, source), StandardCharsets.US_ASCII);
        if (order.equals("big")) {
            throw new InvalidInputException(source, "is a big-endian torch file (its byteorder record says big); "
                    + "only little-endian ones are read (load and save it again on a little-endian machine)");
        }
        if (!order.equals("little")) {
            throw new InvalidInputException(source, "has a byteorder record of '" + printable(order)
                    + "', expected little or big");
        }
    }

    /** An entry's name, fit for a one-line message. */
    static String name(TorchZip.Entry entry) {
        return MessageText.oneLine(entry.name());
    }

    private static String printable(String s) {
        return s.codePoints().allMatch(c -> c >= 0x20 && c < 0x7f) ? s : "(not text)";
    }

    /** The whole of {@code entry}, refused past {@code max} bytes before anything is allocated. */
    static byte[] bytes(TorchZip zip, TorchZip.Entry entry, int max, String source) throws IOException {
        long size = entry.size();
        if (size < 0 || size > max) {
            throw new InvalidInputException(source, name(entry) + ": is " + (size < 0 ? "of unknown size"
                    : size + " bytes") + ", more than the " + max + " read here (an SGLang stat or per_pass dump's is "
                    + "smaller)");
        }
        try (CheckedInputStream in = checked(zip, entry)) {
            byte[] data = in.readNBytes((int) size);
            if (data.length != size) {
                throw new InvalidInputException(source, name(entry) + ": truncated (" + data.length + " of "
                        + size + " bytes)");
            }
            requireIntact(in, entry, size, source);
            return data;
        }
    }

    /** The entry's bytes with their CRC-32 computed as they are read: the zip reader checks none of a stored one. */
    static CheckedInputStream checked(TorchZip zip, TorchZip.Entry entry) throws IOException {
        return new CheckedInputStream(zip.getInputStream(entry), new CRC32());
    }

    /**
     * Reads the rest of the entry, refusing it if it does not hold the bytes the zip directory says or its CRC-32 is
     * not the archive's. The tensor was checked against the directory's size, which a deflated entry's bytes need not
     * bear out (a tiny file could state gigabytes, read through a stride of 0 as as many counts); a damaged byte among
     * the counts would read as another count (the zip reader checks no stored entry's CRC-32).
     *
     * @param consumed how many of the entry's bytes were read before
     */
    private static void requireIntact(CheckedInputStream in, TorchZip.Entry entry, long consumed, String source)
            throws IOException {
        // One byte past the stated size, no more: a longer entry (a zip bomb, say) is not inflated to its end.
        long left = entry.size() - consumed + 1;
        byte[] buffer = new byte[8192];
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                break;
            }
            left -= n;
        }
        if (left == 0) {
            throw new InvalidInputException(source, name(entry) + ": holds more than the " + entry.size()
                    + " bytes the zip archive says (corrupt)");
        }
        if (left > 1) {
            throw new InvalidInputException(source, name(entry) + ": holds " + (entry.size() + 1 - left)
                    + " bytes, but the zip archive says " + entry.size() + " (truncated or corrupt)");
        }
        if (in.getChecksum().getValue() != entry.crc()) {
            throw new InvalidInputException(source, name(entry) + ": corrupt (its CRC-32 is "
                    + String.format(Locale.ROOT, "%08x", in.getChecksum().getValue()) + ", the archive says "
                    + String.format(Locale.ROOT, "%08x", entry.crc()) + ")");
        }
    }

    /** The key of a per_pass or per_token dump's records. */
    static final String RECORDS = "records";

    /** The tensor of counts in the pickled dict, and its key, as the JSON form's; no tensor for {@link #RECORDS}. */
    record Counts(String key, Tensor tensor) {
    }

    static Counts counts(Object top, String source) {
        if (!(top instanceof Map<?, ?> dict)) {
            throw new InvalidInputException(source, "holds a pickled " + TorchPickle.kind(top) + ", expected a dict "
                    + "with \"logical_count\" (SGLang recorder dump)");
        }
        String key = null;
        for (String k : new String[] {"logical_count", "counts", RECORDS}) {
            if (dict.containsKey(k)) {
                if (key != null) {
                    throw new InvalidInputException(source, "has both \"" + key + "\" and \"" + k + "\": which of "
                            + "them holds the expert loads is ambiguous (keep one)");
                }
                key = k;
            }
        }
        if (key == null) {
            throw new InvalidInputException(source, "no expert loads found: expected a \"logical_count\" tensor "
                    + "(SGLang recorder dump)");
        }
        if (key.equals(RECORDS)) {
            return new Counts(key, null);
        }
        if (!(dict.get(key) instanceof Tensor tensor)) {
            throw new InvalidInputException(key, "expected a tensor but found "
                    + TorchPickle.describe(dict.get(key)));
        }
        return new Counts(key, tensor);
    }

    /**
     * Checks the tensor against its storage and delivers its steps, read from the storage's entry twice as a stream
     * (once to check it, find its all-zero layers and check the entry's size and CRC-32, once to deliver), one step's
     * bytes at a time; a view whose steps interleave in its storage (none of SGLang's) from the bytes of its span.
     */
    static int deliver(TorchZip zip, String prefix, Counts counts, String source, StepSink sink)
            throws IOException {
        String key = counts.key();
        Tensor t = counts.tensor();
        long[] size = t.size();
        if (size.length != 2 && size.length != 3) {
            throw new InvalidInputException(key, "expected [layers][experts] or [steps][layers][experts] but found "
                    + "a " + size.length + "-dimensional tensor");
        }
        requireIntDimensions(key, size);
        // From the pickle, before the storage is read: a deflated storage of 2^28 zeros is 255 KiB.
        TraceLimits.requireShape(key, size[size.length - 2], size[size.length - 1], "expert");
        Dtype dtype = t.storage().dtype();
        TorchZip.Entry entry = locate(zip, prefix, key, t);
        Shape shape = Shape.of(key, t);
        long[] stride = t.stride();
        // One step's span in the storage, in elements: within the tensor's, which locate found to fit a long.
        long step = (shape.layers() - 1) * stride[size.length - 2] + (shape.experts() - 1) * stride[size.length - 1]
                + 1;
        if (shape.steps() > 1 && stride[0] < step) {
            return new Steps(key, t, dtype, span(zip, entry, key, t, source)).deliver(sink);
        }
        if (step * dtype.bytes > MAX_SPAN) {
            throw new InvalidInputException(key, "spans " + step * dtype.bytes + " bytes a step, more than the "
                    + MAX_SPAN + " read at once");
        }
        Streamed streamed = new Streamed(zip, entry, key, t, shape, (int) (step * dtype.bytes), source);
        return deliver(key, shape, streamed, sink);
    }

    /**
     * The bytes of the part of {@code t}'s storage that it spans, little-endian, after its type, size and strides are
     * checked against the storage's entry; {@code key} names the tensor in errors.
     */
    static ByteBuffer span(TorchZip zip, String prefix, String key, Tensor t, String source)
            throws IOException {
        return span(zip, locate(zip, prefix, key, t), key, t, source);
    }

    /**
     * The entry of {@code t}'s storage, after the tensor's type, size and strides are checked against it;
     * {@code key} names the tensor in errors.
     */
    static TorchZip.Entry locate(TorchZip zip, String prefix, String key, Tensor t) throws IOException {
        Storage storage = t.storage();
        long[] size = t.size();
        Dtype dtype = storage.dtype();
        if (dtype.bytes == 0) {
            throw new InvalidInputException(key, "is a tensor of " + dtype.torchName + ", which is not read (counts "
                    + "are int64, int32, int16, int8, uint8, float32 or float64)");
        }
        TorchZip.Entry entry = zip.entry(prefix + "data/" + storage.key());
        if (entry == null || entry.isDirectory()) {
            throw new InvalidInputException(key, "its storage " + MessageText.oneLine(prefix + "data/"
                    + storage.key()) + " is missing from the zip archive");
        }
        long numel = storage.numel();
        if (numel > Long.MAX_VALUE / dtype.bytes || entry.size() != numel * dtype.bytes) {
            throw new InvalidInputException(key, "its storage " + name(entry) + " is " + entry.size()
                    + " bytes, but the pickle says " + numel + " elements of " + dtype.torchName);
        }
        long offset = t.offset();
        long last = last(key, t);
        long elements = 1;
        for (long s : size) {
            elements = s > Long.MAX_VALUE / elements ? Long.MAX_VALUE : elements * s;
        }
        // More elements than the storage from the offset on: strides that overlap, as no dump's do.
        if (offset < 0 || last >= numel || elements > numel - offset) {
            throw new InvalidInputException(key, "its size " + Arrays.toString(size) + " and stride "
                    + Arrays.toString(t.stride()) + " from offset " + offset + " do not fit the " + numel
                    + " elements of its storage");
        }
        // Within the storage, a stride of 0 still repeats elements: one count with strides of 0 (a 64 KiB file
        // stating a storage of 2^24) was read as 2^24 counts. A tensor without repeats shows no more elements than
        // its span holds, which bounds the work by the bytes read; SGLang's are contiguous.
        if (elements > last - offset + 1) {
            throw new InvalidInputException(key, "its size " + Arrays.toString(size) + " and stride "
                    + Arrays.toString(t.stride()) + " show " + elements + " elements but span " + (last - offset + 1)
                    + " of its storage: a stride of 0 or overlapping strides repeat elements, as no SGLang dump's "
                    + "tensor does");
        }
        return entry;
    }

    /** The storage index of {@code t}'s last element, {@link Long#MAX_VALUE} past a long; sizes and strides checked. */
    private static long last(String key, Tensor t) {
        long[] size = t.size();
        long last = t.offset();
        try {
            for (int d = 0; d < size.length; d++) {
                if (size[d] <= 0 || t.stride()[d] < 0) {
                    throw new InvalidInputException(key, "is an empty tensor or has a negative stride (size "
                            + Arrays.toString(size) + ", stride " + Arrays.toString(t.stride()) + ")");
                }
                last = Math.addExact(last, Math.multiplyExact(size[d] - 1, t.stride()[d]));
            }
        } catch (ArithmeticException e) {
            last = Long.MAX_VALUE;
        }
        return last;
    }

    /** The bytes of the part of {@code t}'s storage, {@code entry} (checked by {@link #locate}), that it spans. */
    static ByteBuffer span(TorchZip zip, TorchZip.Entry entry, String key, Tensor t, String source)
            throws IOException {
        Dtype dtype = t.storage().dtype();
        long offset = t.offset();
        long span = (last(key, t) - offset + 1) * dtype.bytes;
        if (span > MAX_SPAN) {
            throw new InvalidInputException(key, "spans " + span + " bytes, more than the " + MAX_SPAN
                    + " read at once");
        }
        ByteBuffer data;
        try (CheckedInputStream in = checked(zip, entry)) {
            in.skipNBytes(offset * dtype.bytes);
            byte[] bytes = in.readNBytes((int) span);
            if (bytes.length != span) {
                throw new EOFException();
            }
            requireIntact(in, entry, offset * dtype.bytes + span, source);
            data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        return data;
    }

    /**
     * Refuses a dimension past an int, before it is cast to one: strides of 0 let a storage of 2^33 counts (a few MiB
     * deflated) show 2^32 + 1 steps, which read as 1.
     */
    static void requireIntDimensions(String key, long[] size) {
        for (long s : size) {
            if (s > Integer.MAX_VALUE) {
                throw new InvalidInputException(key, "its size " + Arrays.toString(size) + " has a dimension past "
                        + Integer.MAX_VALUE + ", more than is read");
            }
        }
    }

    /** A counts tensor's steps, layers and experts; one step for {@code [layers][experts]}. */
    record Shape(boolean threeD, int steps, int layers, int experts) {
        static Shape of(String key, Tensor t) {
            requireIntDimensions(key, t.size());
            boolean threeD = t.size().length == 3;
            int layers = (int) t.size()[threeD ? 1 : 0];
            int experts = (int) t.size()[threeD ? 2 : 1];
            if ((long) layers * experts > Integer.MAX_VALUE) {
                throw new InvalidInputException(key, layers + " layers x " + experts + " experts is more loads than "
                        + "one matrix holds");
            }
            return new Shape(threeD, threeD ? (int) t.size()[0] : 1, layers, experts);
        }
    }

    /** One reading of a tensor's steps, in order, each made when reached and checked as a JSON step is. */
    @FunctionalInterface
    interface Reading {
        /**
         * Gives {@code each} every step in turn; problems of the bytes (size, CRC-32) come before those of the loads,
         * found at the end of the reading.
         */
        void steps(StepVisitor each) throws IOException;
    }

    /** Takes step {@code s} of a {@link Reading}. */
    @FunctionalInterface
    interface StepVisitor {
        void accept(int s, LoadMatrix step);
    }

    /**
     * Delivers the steps of {@code reading} without the layers that are zero in all of them: a first reading finds
     * those layers (and the problems of the bytes and loads), holding one step, the second delivers.
     */
    static int deliver(String key, Shape shape, Reading reading, StepSink sink) throws IOException {
        int layers = shape.layers();
        int experts = shape.experts();
        boolean[] loaded = new boolean[layers];
        reading.steps((s, step) -> {
            for (int l = 0; l < layers; l++) {
                // Loads are checked non-negative: a layer total above zero is a load somewhere in it.
                if (!loaded[l] && step.layerTotal(l) > 0) {
                    loaded[l] = true;
                }
            }
        });
        int kept = 0;
        for (boolean l : loaded) {
            kept += l ? 1 : 0;
        }
        if (kept == 0) {
            throw new InvalidInputException(key, "every layer has zero load");
        }
        int rows = kept;
        double[] row = new double[experts];
        reading.steps((s, step) -> {
            if (rows < layers) {
                double[] values = new double[rows * experts];
                for (int l = 0, i = 0; l < layers; l++) {
                    if (loaded[l]) {
                        step.copyLayer(l, row);
                        System.arraycopy(row, 0, values, i++ * experts, experts);
                    }
                }
                step = LoadMatrix.ofFlat(rows, experts, values, key);
            }
            sink.accept(step);
        });
        return shape.steps();
    }

    /**
     * Step {@code s} of {@code t}, its first element at {@code base} in {@code data} and the rest at {@code t}'s
     * strides from it, checked as a JSON step is (named {@code key[s]}, or {@code key} for one aggregate).
     */
    static LoadMatrix step(String key, Tensor t, Dtype dtype, ByteBuffer data, long base, int s,
                                   Shape shape) {
        long[] stride = t.stride();
        int d = shape.threeD() ? 1 : 0;
        int layers = shape.layers();
        int experts = shape.experts();
        double[] values = new double[layers * experts];
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < experts; e++) {
                values[l * experts + e] = element(data, dtype, base + l * stride[d] + e * stride[d + 1]);
            }
        }
        return LoadMatrix.ofFlat(layers, experts, values, shape.threeD() ? key + "[" + s + "]" : key);
    }

    /** The counts' steps, each made from the bytes of the tensor's span when needed (a view whose steps interleave). */
    record Steps(String key, Tensor t, Dtype dtype, ByteBuffer data) {
        int deliver(StepSink sink) throws IOException {
            Shape shape = Shape.of(key, t);
            long stride = shape.threeD() ? t.stride()[0] : 0;
            return TorchTraces.deliver(key, shape, each -> {
                for (int s = 0; s < shape.steps(); s++) {
                    each.accept(s, step(key, t, dtype, data, s * stride, s, shape));
                }
            }, sink);
        }
    }

    /**
     * The counts' steps read from the storage's entry as a stream, each step's span in turn into one buffer of
     * {@code stepBytes}: the steps lie in order and apart, each one's elements before the next's (SGLang's are
     * contiguous). Each reading checks the entry's size and CRC-32 at its end, before any problem of the loads
     * it found is thrown, so a damaged byte is named as such rather than as the bad load it made; a file changed
     * between the two readings fails the second at its end, after the steps before.
     */
    private record Streamed(TorchZip zip, TorchZip.Entry entry, String key, Tensor t, Shape shape, int stepBytes,
                            String source) implements Reading {
        @Override
        public void steps(StepVisitor each) throws IOException {
            int width = t.storage().dtype().bytes;
            long stride = shape.threeD() ? t.stride()[0] : 0;
            byte[] bytes = new byte[stepBytes];
            ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            // Buffered below the checksum: a step of SGLang's is a few KiB, one of a test's a few bytes.
            try (CheckedInputStream in = new CheckedInputStream(new BufferedInputStream(zip.getInputStream(entry),
                    1 << 16), new CRC32())) {
                long at = 0;
                for (int s = 0; s < shape.steps(); s++) {
                    long start = (t.offset() + s * stride) * width;
                    long skipped = start > at ? in.skip(start - at) : 0;
                    int read = skipped == start - at ? in.readNBytes(bytes, 0, stepBytes) : 0;
                    at += skipped + read;
                    if (at != start + stepBytes) {
                        requireIntact(in, entry, at, source);
                        throw new EOFException();
                    }
                    LoadMatrix step;
                    try {
                        step = step(key, t, t.storage().dtype(), data, 0, s, shape);
                    } catch (InvalidInputException e) {
                        requireIntact(in, entry, at, source);
                        throw e;
                    }
                    each.accept(s, step);
                }
                requireIntact(in, entry, at, source);
            }
        }
    }

    /** Element {@code i} of {@code data}, bytes of a storage from a tensor's offset or a step's first element. */
    static double element(ByteBuffer data, Dtype dtype, long i) {
        int at = (int) (i * dtype.bytes);
        return switch (dtype) {
            case DOUBLE -> data.getDouble(at);
            case FLOAT -> data.getFloat(at);
            case LONG -> data.getLong(at);
            case INT -> data.getInt(at);
            case SHORT -> data.getShort(at);
            case CHAR -> data.get(at);
            case BYTE -> Byte.toUnsignedInt(data.get(at));
            default -> throw new IllegalStateException(dtype + " is not read");
        };
    }
}
