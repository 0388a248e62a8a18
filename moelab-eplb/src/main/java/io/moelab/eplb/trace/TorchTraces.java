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
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipException;

/**
 * Reads SGLang's expert-distribution dumps as {@code torch.save} writes them ({@code .pt}): a zip archive whose
 * {@code ARCHIVE/data.pkl} pickles {@code {"rank": ..., "logical_count": <tensor>, ...}} and whose
 * {@code ARCHIVE/data/KEY} entries hold the tensors' storages, raw little-endian elements. The counts are read as the
 * JSON form's are ({@link TraceFormat#SGLANG}): {@code [layers][experts]} one step, {@code [steps][layers][experts]}
 * one per pass, all-zero layers dropped. A per_pass or per_token dump ({@code {"records": [...],
 * "last_physical_to_logical_map": ...}}) is read as one step of logical loads per record ({@link PerPass}); a directory
 * of one such dump's per-rank files as their sum, record by record ({@link #readRanks}). Only the
 * counts' storages are read, and only the part each tensor spans, after its size is checked against the zip entry's:
 * a stat dump's as a stream, one step's bytes at a time, so that a dump of every pass is not held whole. A per_pass
 * dump's pickle is read as a stream too, a record at a time ({@link TorchPickle}), once to check the records and
 * again for each pass over them, so that no number of forward passes is held.
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
                return PerPass.deliver(List.of(new PerPass(opened, source)), sink);
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
    private record Opened(TorchZip zip, String prefix, Object top, Pickle pickle, Header header) {
    }

    /**
     * Opens the torch.save file {@code file} and reads its pickle, the zip checked (entry names distinct, byte order).
     *
     * @return null, the zip closed, where it holds no {@code ARCHIVE/data.pkl}
     */
    private static Opened open(Path file, String source) throws IOException {
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
    private record Pickle(TorchZip zip, TorchZip.Entry entry, String source, Set<Long> got) {
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
    private static final class Header {
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
                    long v = PerPass.integer(r, record, "rank");
                    if (r > 0 && v != rank) {
                        throw new InvalidInputException(RECORDS + "[" + r + "].rank", "is " + v + ", but records[0]'s "
                                + "is " + rank + " (a file holds one rank's passes)");
                    }
                    rank = v;
                } catch (InvalidInputException e) {
                    rankProblem = e;
                }
            }
            if (shared == null && record instanceof Map<?, ?> dict && dict.get(PerPass.COUNT) instanceof Tensor t) {
                String key = t.storage().key();
                long owner = owners.add(key, r);
                if (owner >= 0) {
                    shared = PerPass.shares(r, key, RECORDS + "[" + owner + "]'s counts");
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
    private interface Records extends AutoCloseable {
        Object next() throws IOException;

        @Override
        void close() throws IOException;
    }

    /** What a directory read as a trace is, for its errors. */
    private static final String RANKS_RULE = "a directory is read as one SGLang per_pass or per_token dump, one .pt "
            + "file per rank";

    /** The files {@link #readRanks} reads from {@code dir}: each regular file named {@code *.pt} directly in it. */
    static List<Path> rankFiles(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(f -> f.getFileName().toString().endsWith(".pt")
                    && Files.isRegularFile(f)).sorted().toList();
        }
    }

    /**
     * Reads the directory {@code dir} as one SGLang per_pass or per_token dump, a file per rank as SGLang writes it
     * ({@code expert_distribution_recorder_<time>_<rank>.pt}): every file named {@code *.pt} directly in it, the
     * others ignored. Each rank's record i holds the counts of its own tokens in forward pass i; step i is their sum
     * over the ranks (what stat mode's all-reduce makes), mapped to logical experts. Refused: no {@code .pt} file, one
     * that is no per_pass or per_token dump, a rank twice or missing below the highest, maps or pass ids that differ
     * between the files. The ranks' records are read one at a time, each file's pickle streamed: one summed step is
     * held, and one rank's beside it.
     *
     * @param source the directory's name for errors; a file's are named {@code source/NAME}
     * @return the number of steps
     * @throws InvalidInputException naming the directory, or the file at fault
     */
    static int readRanks(Path dir, String source, StepSink sink) throws IOException {
        List<Path> files = rankFiles(dir);
        if (files.isEmpty()) {
            throw new InvalidInputException(source, "holds no .pt file (a trace is a file, or a directory of one "
                    + "SGLang per_pass or per_token dump, one .pt file per rank)");
        }
        List<TorchZip> open = new ArrayList<>();
        try {
            List<PerPass> ranks = new ArrayList<>();
            Map<Long, String> names = new TreeMap<>();
            for (Path file : files) {
                String name = file.getFileName().toString();
                String fileSource = Path.of(source).resolve(name).toString();
                PerPass rank = rankFile(file, fileSource, open);
                long r;
                try {
                    r = rank.rank();
                } catch (InvalidInputException e) {
                    throw e.in(fileSource);
                }
                String other = names.putIfAbsent(r, name);
                if (other != null) {
                    throw new InvalidInputException(source, other + " and " + name + " are both rank " + r
                            + " (a directory holds one dump's files, one per rank)");
                }
                ranks.add(rank);
            }
            long expected = 0;
            for (Map.Entry<Long, String> e : names.entrySet()) {
                if (e.getKey() != expected) {
                    throw new InvalidInputException(source, "has rank " + e.getKey() + " but no rank " + expected
                            + " (a directory holds one dump's files, one per rank)");
                }
                expected++;
            }
            PerPass first = ranks.getFirst();
            String firstName = files.getFirst().getFileName().toString();
            for (int k = 1; k < ranks.size(); k++) {
                requireSameDump(source, first, firstName, ranks.get(k), files.get(k).getFileName().toString());
            }
            requireSamePasses(source, ranks, files);
            try {
                return PerPass.deliver(ranks, sink);
            } catch (InvalidInputException e) {
                // A rank's problem names its file (SOURCE/NAME: ...); one of the summed passes, the directory. Told
                // by the files' names, not by the message starting with the directory's ("rec" and "records: ...").
                boolean named = ranks.stream().anyMatch(r -> e.getMessage().startsWith(r.source + ": "));
                throw named ? e : e.in(source);
            }
        } finally {
            for (TorchZip zip : open) {
                zip.close();
            }
        }
    }

    /** One rank's file of a directory read by {@link #readRanks}, its zip added to {@code open}; errors name it. */
    private static PerPass rankFile(Path file, String source, List<TorchZip> open) throws IOException {
        boolean zip;
        try (InputStream in = Files.newInputStream(file)) {
            zip = Arrays.equals(in.readNBytes(MAGIC.length), MAGIC);
        }
        Opened opened = zip ? open(file, source) : null;
        if (opened == null) {
            throw new InvalidInputException(source, "is not a torch.save file (" + RANKS_RULE + ")");
        }
        open.add(opened.zip());
        try {
            Counts counts = counts(opened.top(), source);
            if (!counts.key().equals(RECORDS)) {
                throw new InvalidInputException(source, "is an SGLang stat dump (\"" + counts.key() + "\"), not a "
                        + "rank's per_pass or per_token file (a directory is read as one such dump, one .pt file "
                        + "per rank; give a stat dump as a file)");
            }
            return new PerPass(opened, source);
        } catch (InvalidInputException e) {
            throw e.in(source);
        } catch (ZipException e) {
            throw corrupt(source, e);
        } catch (EOFException e) {
            throw new InvalidInputException(source, "truncated zip archive", e);
        }
    }

    /**
     * Refuses two ranks' files that are not of one dump: another map (another placement) or another count of forward
     * passes ({@link #requireSamePasses} checks the passes). SGLang's MoE layers run on every rank together, so every
     * rank records the same passes, in one order.
     */
    private static void requireSameDump(String source, PerPass a, String aName, PerPass b, String bName) {
        if (a.layers != b.layers || a.slots != b.slots) {
            throw new InvalidInputException(source, bName + "'s last_physical_to_logical_map is [" + b.layers + ", "
                    + b.slots + "], " + aName + "'s [" + a.layers + ", " + a.slots + "]: the files are of different "
                    + "dumps");
        }
        for (int i = 0; i < a.map.length; i++) {
            if (a.map[i] != b.map[i]) {
                throw new InvalidInputException(source, bName + "'s last_physical_to_logical_map differs from "
                        + aName + "'s at [" + i / a.slots + "][" + i % a.slots + "] (" + b.map[i] + ", not "
                        + a.map[i] + "): the files are of different dumps");
            }
        }
        if (a.count != b.count) {
            throw new InvalidInputException(source, bName + " has " + b.count + " forward passes, but "
                    + aName + " has " + a.count + " (every rank records the same forward passes)");
        }
    }

    /**
     * Refuses ranks' files whose records are not of the same forward passes, record by record: one pass over every
     * file's records together (each pickle read once), one record of each held.
     */
    private static void requireSamePasses(String source, List<PerPass> ranks, List<Path> files) throws IOException {
        List<Records> open = new ArrayList<>();
        try {
            for (PerPass rank : ranks) {
                open.add(rank.records());
            }
            PerPass a = ranks.getFirst();
            String aName = files.getFirst().getFileName().toString();
            for (int r = 0; r < a.count; r++) {
                long pa;
                try {
                    pa = PerPass.passId(r, a.record(open.getFirst(), r));
                } catch (InvalidInputException e) {
                    throw e.in(a.source);
                }
                for (int k = 1; k < ranks.size(); k++) {
                    PerPass b = ranks.get(k);
                    long pb;
                    try {
                        pb = PerPass.passId(r, b.record(open.get(k), r));
                    } catch (InvalidInputException e) {
                        throw e.in(b.source);
                    }
                    if (pa != pb) {
                        throw new InvalidInputException(source, files.get(k).getFileName() + "'s records[" + r
                                + "] is forward pass " + pb + ", but " + aName + "'s is " + pa + " (every rank "
                                + "records the same forward passes)");
                    }
                }
            }
        } finally {
            for (Records records : open) {
                records.close();
            }
        }
    }

    private static InvalidInputException corrupt(String source, ZipException e) {
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
    private static String name(TorchZip.Entry entry) {
        return MessageText.oneLine(entry.name());
    }

    private static String printable(String s) {
        return s.codePoints().allMatch(c -> c >= 0x20 && c < 0x7f) ? s : "(not text)";
    }

    /** The whole of {@code entry}, refused past {@code max} bytes before anything is allocated. */
    private static byte[] bytes(TorchZip zip, TorchZip.Entry entry, int max, String source) throws IOException {
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
    private static CheckedInputStream checked(TorchZip zip, TorchZip.Entry entry) throws IOException {
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
        if (entry.crc() != -1 && in.getChecksum().getValue() != entry.crc()) {
            throw new InvalidInputException(source, name(entry) + ": corrupt (its CRC-32 is "
                    + String.format(Locale.ROOT, "%08x", in.getChecksum().getValue()) + ", the archive says "
                    + String.format(Locale.ROOT, "%08x", entry.crc()) + ")");
        }
    }

    /** The key of a per_pass or per_token dump's records. */
    private static final String RECORDS = "records";

    /** The tensor of counts in the pickled dict, and its key, as the JSON form's; no tensor for {@link #RECORDS}. */
    private record Counts(String key, Tensor tensor) {
    }

    private static Counts counts(Object top, String source) {
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
    private static int deliver(TorchZip zip, String prefix, Counts counts, String source, StepSink sink)
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
    private static ByteBuffer span(TorchZip zip, String prefix, String key, Tensor t, String source)
            throws IOException {
        return span(zip, locate(zip, prefix, key, t), key, t, source);
    }

    /**
     * The entry of {@code t}'s storage, after the tensor's type, size and strides are checked against it;
     * {@code key} names the tensor in errors.
     */
    private static TorchZip.Entry locate(TorchZip zip, String prefix, String key, Tensor t) throws IOException {
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
    private static ByteBuffer span(TorchZip zip, TorchZip.Entry entry, String key, Tensor t, String source)
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
    private static void requireIntDimensions(String key, long[] size) {
        for (long s : size) {
            if (s > Integer.MAX_VALUE) {
                throw new InvalidInputException(key, "its size " + Arrays.toString(size) + " has a dimension past "
                        + Integer.MAX_VALUE + ", more than is read");
            }
        }
    }

    /** A counts tensor's steps, layers and experts; one step for {@code [layers][experts]}. */
    private record Shape(boolean threeD, int steps, int layers, int experts) {
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
    private interface Reading {
        /**
         * Gives {@code each} every step in turn; problems of the bytes (size, CRC-32) come before those of the loads,
         * found at the end of the reading.
         */
        void steps(StepVisitor each) throws IOException;
    }

    /** Takes step {@code s} of a {@link Reading}. */
    @FunctionalInterface
    private interface StepVisitor {
        void accept(int s, LoadMatrix step);
    }

    /**
     * Delivers the steps of {@code reading} without the layers that are zero in all of them: a first reading finds
     * those layers (and the problems of the bytes and loads), holding one step, the second delivers.
     */
    private static int deliver(String key, Shape shape, Reading reading, StepSink sink) throws IOException {
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
    private static LoadMatrix step(String key, Tensor t, Dtype dtype, ByteBuffer data, long base, int s,
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

    /**
     * An SGLang per_pass or per_token dump, one rank's: {@code records}, one dict per forward pass in the order run,
     * each with {@code global_physical_count}, {@code [layers][physical slots]} (the slots of every rank, loaded by
     * the tokens this rank recorded), and {@code last_physical_to_logical_map}, {@code [layers][physical slots]}, the
     * logical expert each slot holds. Each record is one step of logical loads: each slot's count added to its
     * logical expert's, as SGLang's stat mode does before it sums over ranks. All-zero layers are dropped, as the
     * stat form's; the records (the pickle streamed again) and their storages are read once to find them and once to
     * deliver. SGLang's dict names the map after the records, so the first reading of the pickle ({@link Header})
     * only checks them and counts them; none is held.
     */
    private static final class PerPass {
        private static final String MAP = "last_physical_to_logical_map";
        static final String COUNT = "global_physical_count";
        private static final String PRIMARY = "primary";

        private final TorchZip zip;
        private final String prefix;
        private final String source;
        /** The pickle, read again for each pass over the records; with {@link #held} null. */
        private final Pickle pickle;
        /** The records where the pickle's reading did not hand them out (no dump of torch's): else null. */
        private final List<?> held;
        private final Header header;
        private final int count;
        private final int layers;
        private final int slots;
        private final int experts;
        /** {@code [layer * slots + slot]}: the logical expert of the slot. */
        private final int[] map;

        PerPass(Opened opened, String source) throws IOException {
            this.zip = opened.zip();
            this.prefix = opened.prefix();
            this.source = source;
            this.pickle = opened.pickle();
            Map<?, ?> dict = (Map<?, ?>) opened.top();
            if (!(dict.get(RECORDS) instanceof List<?> list)) {
                throw new InvalidInputException(RECORDS, "expected a list of forward passes but found "
                        + TorchPickle.describe(dict.get(RECORDS)));
            }
            if (opened.header().streamed) {
                this.held = null;
                this.header = opened.header();
            } else {
                this.held = list;
                this.header = new Header();
                list.forEach(header::accept);
            }
            if (header.count == 0) {
                throw new InvalidInputException(RECORDS, "is empty: no forward pass was recorded");
            }
            if (header.count > Integer.MAX_VALUE) {
                throw new InvalidInputException(RECORDS, "holds " + header.count + " forward passes, more than the "
                        + Integer.MAX_VALUE + " read");
            }
            this.count = (int) header.count;
            if (!dict.containsKey(MAP)) {
                throw new InvalidInputException(source, "is an SGLang per_pass or per_token dump without \"" + MAP
                        + "\": its counts are of physical slots, and nothing says which logical expert each "
                        + "holds");
            }
            if (!(dict.get(MAP) instanceof Tensor t)) {
                throw new InvalidInputException(MAP, "expected a tensor but found "
                        + TorchPickle.describe(dict.get(MAP)));
            }
            long[] size = t.size();
            if (size.length != 2) {
                throw new InvalidInputException(MAP, "expected [layers][physical slots] but found a "
                        + size.length + "-dimensional tensor");
            }
            requireIntDimensions(MAP, size);
            Dtype dtype = t.storage().dtype();
            if (dtype != Dtype.LONG && dtype != Dtype.INT && dtype != Dtype.SHORT && dtype != Dtype.CHAR
                    && dtype != Dtype.BYTE) {
                throw new InvalidInputException(MAP, "is a tensor of " + dtype.torchName + ", expected integers "
                        + "(expert ids)");
            }
            // Before the map's storage or any count is read; every count is of this shape. Each slot is one of a
            // placement's, so the slots are bounded as the experts of a stat dump are.
            TraceLimits.requireShape(MAP, size[0], size[1], "physical slot");
            requireOwnStorages(t.storage().key());
            ByteBuffer data = span(zip, prefix, MAP, t, source);
            layers = (int) size[0];
            slots = (int) size[1];
            map = new int[layers * slots];
            int max = -1;
            for (int l = 0; l < layers; l++) {
                for (int p = 0; p < slots; p++) {
                    double v = element(data, dtype, l * t.stride()[0] + p * t.stride()[1]);
                    if (v < 0 || v >= slots) {
                        throw new InvalidInputException(MAP + "[" + l + "][" + p + "]", "is "
                                + (long) v + ", not an expert id of the " + slots + " slots (0 to "
                                + (slots - 1) + ")");
                    }
                    map[l * slots + p] = (int) v;
                    max = Math.max(max, (int) v);
                }
            }
            experts = max + 1;
            // SGLang places every logical expert in every layer; a map that does not would drop its loads.
            for (int l = 0; l < layers; l++) {
                boolean[] placed = new boolean[experts];
                for (int p = 0; p < slots; p++) {
                    placed[map[l * slots + p]] = true;
                }
                for (int e = 0; e < experts; e++) {
                    if (!placed[e]) {
                        throw new InvalidInputException(MAP + "[" + l + "]", "has no slot for logical expert " + e
                                + " of 0 to " + (experts - 1) + " (every expert has one in every layer)");
                    }
                }
            }
        }

        /**
         * Refuses records whose counts share a storage with another record's or the map's: each record reads and
         * checks its whole storage entry, so one large deflated storage named by thousands of records would be
         * inflated thousands of times (hours of work from a few MB). SGLang clones each pass's counts. The first
         * record at fault is named, as though the map's storage were met first.
         */
        private void requireOwnStorages(String mapKey) {
            long mapOwner = header.owners.owner(mapKey);
            if (mapOwner >= 0 && (header.shared == null || mapOwner < header.sharedAt)) {
                throw shares(mapOwner, mapKey, MAP);
            }
            if (header.shared != null) {
                throw header.shared;
            }
        }

        /** Record {@code r}'s counts sharing storage {@code key} with {@code owner}. */
        static InvalidInputException shares(long r, String key, String owner) {
            return new InvalidInputException(RECORDS + "[" + r + "]." + COUNT, "shares its storage (data/"
                    + MessageText.oneLine(key) + ") with " + owner + " (SGLang writes each forward pass's counts "
                    + "apart)");
        }

        /** The records in turn, from a fresh reading of the pickle (or the list held); the caller closes it. */
        private Records records() throws IOException {
            if (held != null) {
                Iterator<?> items = held.iterator();
                return new Records() {
                    @Override
                    public Object next() {
                        return items.hasNext() ? items.next() : null;
                    }

                    @Override
                    public void close() {
                    }
                };
            }
            Pickle.Reading reading = pickle.read();
            return new Records() {
                @Override
                public Object next() throws IOException {
                    return reading.next();
                }

                @Override
                public void close() throws IOException {
                    reading.close();
                }
            };
        }

        /** Record {@code r} of {@code records}, refused where the pickle holds fewer than its first reading found. */
        private Object record(Records records, int r) throws IOException {
            Object record = records.next();
            if (record == null) {
                throw new InvalidInputException(source, "holds " + r + " forward passes, not the " + count
                        + " read before (changed while read)");
            }
            return record;
        }

        /** Refuses a record past the {@link #count} read, at the end of a pass over them. */
        private void requireEnd(Records records) throws IOException {
            if (records.next() != null) {
                throw new InvalidInputException(source, "holds more forward passes than the " + count
                        + " read before (changed while read)");
            }
        }

        /**
         * Delivers the ranks' records summed pass by pass, record i of every rank in step i (their pass ids checked
         * to match by {@link #readRanks}), the layers zero in every sum dropped as a stat dump's are
         * ({@link TorchTraces#deliver(String, Shape, Reading, StepSink)}: a first reading finds them, holding one
         * step, the second delivers). Each reading reads every rank's pickle again, a record at a time. One rank's
         * dump is a list of one.
         */
        static int deliver(List<PerPass> ranks, StepSink sink) throws IOException {
            PerPass first = ranks.getFirst();
            Shape shape = new Shape(true, first.count, first.layers, first.experts);
            return TorchTraces.deliver(RECORDS, shape, each -> {
                List<Records> open = new ArrayList<>();
                try {
                    for (PerPass rank : ranks) {
                        open.add(rank.records());
                    }
                    for (int r = 0; r < shape.steps(); r++) {
                        each.accept(r, LoadMatrix.ofFlat(shape.layers(), shape.experts(), sum(ranks, open, r),
                                RECORDS + "[" + r + "]"));
                    }
                    for (int k = 0; k < ranks.size(); k++) {
                        ranks.get(k).requireEnd(open.get(k));
                    }
                } finally {
                    for (Records records : open) {
                        records.close();
                    }
                }
            }, sink);
        }

        /** Record {@code r}'s logical loads summed over the ranks, each rank's problems naming its file. */
        private static double[] sum(List<PerPass> ranks, List<Records> open, int r) throws IOException {
            double[] sum = null;
            for (int k = 0; k < ranks.size(); k++) {
                PerPass rank = ranks.get(k);
                double[] step;
                try {
                    step = rank.logical(r, rank.record(open.get(k), r));
                } catch (InvalidInputException e) {
                    throw e.in(rank.source);
                } catch (ZipException e) {
                    throw corrupt(rank.source, e);
                } catch (EOFException e) {
                    throw new InvalidInputException(rank.source, "truncated zip archive", e);
                }
                if (sum == null) {
                    sum = step;
                } else {
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += step[i];
                    }
                }
            }
            return sum;
        }

        /** The rank every record names, the same in all of them. */
        long rank() {
            if (header.rankProblem != null) {
                throw header.rankProblem;
            }
            return header.rank;
        }

        /** {@code record}'s {@code forward_pass_id}, record {@code r}. */
        static long passId(long r, Object record) {
            return integer(r, record, "forward_pass_id");
        }

        static long integer(long r, Object item, String key) {
            String name = RECORDS + "[" + r + "]";
            if (!(item instanceof Map<?, ?> record)) {
                throw new InvalidInputException(name, "expected a dict but found " + TorchPickle.describe(item));
            }
            if (!record.containsKey(key)) {
                throw new InvalidInputException(name, "has no \"" + key + "\"");
            }
            if (!(record.get(key) instanceof Long v)) {
                throw new InvalidInputException(name + "." + key, "expected an integer but found "
                        + TorchPickle.describe(record.get(key)));
            }
            return v;
        }

        /** Record {@code r}'s logical loads, {@code [layer * experts + expert]}, its counts checked as loads. */
        private double[] logical(int r, Object item) throws IOException {
            String name = RECORDS + "[" + r + "]";
            if (!(item instanceof Map<?, ?> record)) {
                throw new InvalidInputException(name, "expected a dict but found " + TorchPickle.describe(item));
            }
            Object key = record.get("gatherer_key");
            if (key != null && !PRIMARY.equals(key)) {
                // SGLang records only "primary" today; another (a two-batch-overlap half) would count passes twice.
                throw new InvalidInputException(name + ".gatherer_key", "is " + (key instanceof String k
                        ? "'" + MessageText.oneLine(k) + "'" : TorchPickle.describe(key))
                        + ", not 'primary', the only gatherer read");
            }
            String field = name + "." + COUNT;
            if (!record.containsKey(COUNT)) {
                throw new InvalidInputException(name, "has no \"" + COUNT + "\" (expert counts of the pass)");
            }
            if (!(record.get(COUNT) instanceof Tensor t)) {
                throw new InvalidInputException(field, "expected a tensor but found "
                        + TorchPickle.describe(record.get(COUNT)));
            }
            long[] size = t.size();
            if (size.length != 2 || size[0] != layers || size[1] != slots) {
                throw new InvalidInputException(field, "its size " + Arrays.toString(size) + " is not the map's ["
                        + layers + ", " + slots + "] (layers, physical slots)");
            }
            Dtype dtype = t.storage().dtype();
            if (dtype.bytes == 0) {
                throw new InvalidInputException(field, "is a tensor of " + dtype.torchName + ", which is not read "
                        + "(counts are int64, int32, int16, int8, uint8, float32 or float64)");
            }
            ByteBuffer data = span(zip, prefix, field, t, source);
            double[] physical = new double[layers * slots];
            for (int l = 0; l < layers; l++) {
                for (int p = 0; p < slots; p++) {
                    physical[l * slots + p] = element(data, dtype, l * t.stride()[0] + p * t.stride()[1]);
                }
            }
            // Checked as loads before they are added up, so a negative count cannot hide in a sum.
            LoadMatrix checked = LoadMatrix.ofFlat(layers, slots, physical, field);
            double[] row = new double[slots];
            double[] logical = new double[layers * experts];
            for (int l = 0; l < layers; l++) {
                checked.copyLayer(l, row);
                for (int p = 0; p < slots; p++) {
                    logical[l * experts + map[l * slots + p]] += row[p];
                }
            }
            return logical;
        }
    }
}
