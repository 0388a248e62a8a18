package io.moelab.eplb.trace;

import static io.moelab.eplb.trace.TorchTraces.MAGIC;
import static io.moelab.eplb.trace.TorchTraces.RECORDS;
import static io.moelab.eplb.trace.TorchTraces.bytes;
import static io.moelab.eplb.trace.TorchTraces.checked;
import static io.moelab.eplb.trace.TorchTraces.corrupt;
import static io.moelab.eplb.trace.TorchTraces.counts;
import static io.moelab.eplb.trace.TorchTraces.deliver;
import static io.moelab.eplb.trace.TorchTraces.element;
import static io.moelab.eplb.trace.TorchTraces.name;
import static io.moelab.eplb.trace.TorchTraces.open;
import static io.moelab.eplb.trace.TorchTraces.requireIntDimensions;
import static io.moelab.eplb.trace.TorchTraces.span;
import static io.moelab.eplb.trace.TorchTraces.step;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.MessageText;
import io.moelab.eplb.trace.TorchPickle.Dtype;
import io.moelab.eplb.trace.TorchPickle.Tensor;
import io.moelab.eplb.trace.TorchTraces.Counts;
import io.moelab.eplb.trace.TorchTraces.Header;
import io.moelab.eplb.trace.TorchTraces.Opened;
import io.moelab.eplb.trace.TorchTraces.Pickle;
import io.moelab.eplb.trace.TorchTraces.Reading;
import io.moelab.eplb.trace.TorchTraces.Records;
import io.moelab.eplb.trace.TorchTraces.Shape;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipException;

/**
 * An SGLang per_pass or per_token dump, one rank's: {@code records}, one dict per forward pass in the order run,
 * each with {@code global_physical_count}, {@code [layers][physical slots]} (the slots of every rank, loaded by
 * the tokens this rank recorded), and {@code last_physical_to_logical_map}, {@code [layers][physical slots]}, the
 * logical expert each slot holds. Each record is one step of logical loads: each slot's count added to its
 * logical expert's, as SGLang's stat mode does before it sums over ranks. All-zero layers are dropped, as the
 * stat form's; the records (the pickle streamed again) and their storages are read once to find them and once to
 * deliver. SGLang's dict names the map after the records, so the first reading of the pickle ({@link Header})
 * only checks them and counts them; none is held. A directory of one such dump's rank files is read as their sum,
 * pass by pass ({@link #readRanks}). The torch file format itself (zip, pickle, storages, steps) is
 * {@link TorchTraces}'s.
 */
final class SglangPerPass {
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

    SglangPerPass(Opened opened, String source) throws IOException {
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
    static int deliver(List<SglangPerPass> ranks, StepSink sink) throws IOException {
        SglangPerPass first = ranks.getFirst();
        Shape shape = new Shape(true, first.count, first.layers, first.experts);
        return TorchTraces.deliver(RECORDS, shape, each -> {
            List<Records> open = new ArrayList<>();
            try {
                for (SglangPerPass rank : ranks) {
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
    private static double[] sum(List<SglangPerPass> ranks, List<Records> open, int r) throws IOException {
        double[] sum = null;
        for (int k = 0; k < ranks.size(); k++) {
            SglangPerPass rank = ranks.get(k);
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
            List<SglangPerPass> ranks = new ArrayList<>();
            Map<Long, String> names = new TreeMap<>();
            for (Path file : files) {
                String name = file.getFileName().toString();
                String fileSource = Path.of(source).resolve(name).toString();
                SglangPerPass rank = rankFile(file, fileSource, open);
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
            SglangPerPass first = ranks.getFirst();
            String firstName = files.getFirst().getFileName().toString();
            for (int k = 1; k < ranks.size(); k++) {
                requireSameDump(source, first, firstName, ranks.get(k), files.get(k).getFileName().toString());
            }
            requireSamePasses(source, ranks, files);
            try {
                return SglangPerPass.deliver(ranks, sink);
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
    private static SglangPerPass rankFile(Path file, String source, List<TorchZip> open) throws IOException {
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
            return new SglangPerPass(opened, source);
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
    private static void requireSameDump(String source, SglangPerPass a, String aName, SglangPerPass b, String bName) {
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
    private static void requireSamePasses(String source, List<SglangPerPass> ranks, List<Path> files)
            throws IOException {
        List<Records> open = new ArrayList<>();
        try {
            for (SglangPerPass rank : ranks) {
                open.add(rank.records());
            }
            SglangPerPass a = ranks.getFirst();
            String aName = files.getFirst().getFileName().toString();
            for (int r = 0; r < a.count; r++) {
                long pa;
                try {
                    pa = SglangPerPass.passId(r, a.record(open.getFirst(), r));
                } catch (InvalidInputException e) {
                    throw e.in(a.source);
                }
                for (int k = 1; k < ranks.size(); k++) {
                    SglangPerPass b = ranks.get(k);
                    long pb;
                    try {
                        pb = SglangPerPass.passId(r, b.record(open.get(k), r));
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
}
