package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SGLang per_pass and per_token dumps of many forward passes, written here as torch.save lays them out (records
 * appended 1,000 a batch, repeated keys and globals got from the memo, one storage per record numbered in order, the
 * map last): their pickle was parsed whole, capped at 2 MiB and 2^18 values, about 11,900 passes. Each is checked
 * step by step against the counts mapped to logical experts here, naively.
 */
class SglangLongPerPassTest {
    /** The map of slots to logical experts: 2 layers of 4 slots, 3 experts, each in every layer. */
    private static final int[][] MAP = {{0, 1, 2, 0}, {2, 1, 0, 1}};
    private static final int SLOTS = 4;
    private static final int EXPERTS = 3;

    @TempDir
    Path dir;

    /** Slot {@code s}'s count of layer {@code l} in pass {@code p}. */
    private static int count(int p, int l, int s) {
        return count(p, l, s, 0);
    }

    /** Rank {@code rank}'s count of slot {@code s} of layer {@code l} in pass {@code p}. */
    private static int count(int p, int l, int s, int rank) {
        return (p * 7 + l * 3 + s * 5 + rank * 2) % 11;
    }

    /** Pass {@code p}'s logical loads, worked naively. */
    private static double[][] expected(int p) {
        return expected(p, 1);
    }

    /** Pass {@code p}'s logical loads summed over ranks 0 to {@code ranks - 1}, worked naively. */
    private static double[][] expected(int p, int ranks) {
        double[][] loads = new double[MAP.length][EXPERTS];
        for (int rank = 0; rank < ranks; rank++) {
            for (int l = 0; l < MAP.length; l++) {
                for (int s = 0; s < SLOTS; s++) {
                    loads[l][MAP[l][s]] += count(p, l, s, rank);
                }
            }
        }
        return loads;
    }

    @Test
    void aPerPassDumpOfTwentyThousandPassesIsReadPassByPass() throws IOException {
        int passes = 20_000;
        Path pt = dir.resolve("long.pt");
        write(pt, passes, 0);
        assertReadPassByPass(pt, passes);
    }

    /** Reads {@code pt}, checking each step against the pass's sums worked here and the count of steps. */
    private static void assertReadPassByPass(Path pt, int passes) throws IOException {
        int[] seen = {0};
        int steps = TraceFiles.read(pt, pt.toString(), step -> {
            assertThat(step.toArray()).as("pass %d", seen[0]).isDeepEqualTo(expected(seen[0]));
            seen[0]++;
        });
        assertThat(steps).isEqualTo(passes);
        assertThat(seen[0]).isEqualTo(passes);
    }

    /**
     * A per_token dump's records hold each pass's token ids and positions: 300 each here, so a batch of 1,000
     * records makes 600,000 numbers, past the values held at once. They are counted, not kept.
     */
    @Test
    void aPerTokenDumpsTokenIdsAreNotHeld() throws IOException {
        int passes = 3_000;
        Path pt = dir.resolve("tokens.pt");
        write(pt, passes, 300);
        assertReadPassByPass(pt, passes);
    }

    /** Two records sharing a storage far into a long dump are named as in a short one. */
    @Test
    void aSharedStorageFarIntoALongDumpIsNamed() throws IOException {
        Path pt = dir.resolve("shared.pt");
        write(pt, 15_000, 0, 12_345, 17);
        assertThatThrownBy(() -> TraceFiles.read(pt)).isInstanceOf(InvalidInputException.class)
                .hasMessage(pt + ": records[12345].global_physical_count: shares its storage (data/17) with "
                        + "records[17]'s counts (SGLang writes each forward pass's counts apart)");
    }

    /**
     * The owners of storage keys, held as a run of torch's numbers and the rest apart, are those of a map of every
     * key: keys in order at a step (torch's, a per_pass or per_token dump's), with repeats, gaps, leading zeros and
     * names that are no numbers mixed in.
     */
    @Test
    void storageOwnersAreThoseOfAMapOfEveryKey() {
        qt().withExamples(300).withFixedSeed(5).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom random = new SplittableRandom(seed);
            TorchTraces.Owners owners = new TorchTraces.Owners();
            Map<String, Long> naive = new HashMap<>();
            int step = 1 + random.nextInt(3);
            long next = random.nextInt(5);
            int records = random.nextInt(200);
            for (long r = 0; r < records; r++) {
                String key = switch (random.nextInt(random.nextBoolean() ? 40 : 4)) {
                    case 0 -> String.valueOf(random.nextLong(next + 2));
                    case 1 -> "0" + random.nextInt(30);
                    case 2 -> "k" + random.nextInt(30);
                    case 3 -> String.valueOf(next + step * (1 + random.nextInt(3)));
                    default -> String.valueOf(next);
                };
                if (key.equals(String.valueOf(next))) {
                    next += step;
                }
                Long expected = naive.putIfAbsent(key, r);
                assertThat(owners.add(key, r)).as("record %d's key %s", r, key)
                        .isEqualTo(expected == null ? -1 : expected);
            }
            for (long k = 0; k < next + 3; k++) {
                String key = String.valueOf(k);
                assertThat(owners.owner(key)).as(key).isEqualTo(naive.getOrDefault(key, -1L));
            }
        });
    }

    /**
     * 2^19 passes (85 MiB, as many zip entries, a zip64 directory) in a 24 MiB heap: Java's zip reader held the
     * directory, about 85 bytes an entry (45 MiB here), and ran out of memory reading it; 2^20 passes needed 128 MiB.
     * The directory is now scanned, 4 bytes a pass kept (2^20 passes were read in 64 MiB; since 2026-12-05 12 bytes
     * a block of 64 passes, {@link TorchZipIndexTest}). Before that, the pickle
     * parsed whole (6 million values for 2^18 passes) took far more than the directory.
     */
    @Test
    void aDumpOfHalfAMillionPassesIsReadIn24MiB() throws Exception {
        int passes = 1 << 19;
        Path pt = dir.resolve("half-million.pt");
        write(pt, passes, 0);
        assertWindowsInHeap(pt, "24m", passes, 1 << 17, 1);
    }

    /**
     * A directory of 4 ranks of 2^17 passes each in a 24 MiB heap, summed pass by pass: every rank's zip directory was
     * held at once, about 4 x 85 bytes a pass (45 MiB here); 4 ranks of 2^18 passes ran out of memory in 64 MiB.
     */
    @Test
    void fourRanksOfManyPassesAreReadIn24MiB() throws Exception {
        int passes = 1 << 17;
        int ranks = 4;
        Path ranksDir = Files.createDirectories(dir.resolve("ranks"));
        for (int rank = 0; rank < ranks; rank++) {
            write(ranksDir.resolve("expert_distribution_recorder_1718000000.25_" + rank + ".pt"), passes, 0, -1, -1,
                    rank);
        }
        assertWindowsInHeap(ranksDir, "24m", passes, 1 << 15, ranks);
    }

    /**
     * Reads {@code trace} in a child JVM of heap {@code heap} into windows of {@code window} steps and checks them
     * against the sums of {@code ranks} ranks' passes worked here.
     */
    private void assertWindowsInHeap(Path trace, String heap, int passes, int window, int ranks) throws Exception {
        List<String> expected = new ArrayList<>();
        for (int w = 0; w < passes / window; w++) {
            double[][] sum = new double[MAP.length][EXPERTS];
            for (int p = w * window; p < (w + 1) * window; p++) {
                double[][] e = expected(p, ranks);
                for (int l = 0; l < MAP.length; l++) {
                    for (int x = 0; x < EXPERTS; x++) {
                        sum[l][x] += e[l][x];
                    }
                }
            }
            expected.add(Arrays.deepToString(sum));
        }
        Path log = dir.resolve("child.log");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap, "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                TorchTracesTest.WindowSumsMain.class.getName(), trace.toString(), String.valueOf(window))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(jvm.waitFor(600, TimeUnit.SECONDS)).isTrue();
            String output = Files.readString(log);
            assertThat(jvm.exitValue()).as(output).isZero();
            assertThat(output.lines().toList()).isEqualTo(expected);
        } finally {
            jvm.destroyForcibly();
        }
    }

    private static void write(Path path, int passes, int tokens) throws IOException {
        write(path, passes, tokens, -1, -1);
    }

    /**
     * Writes a per_pass dump of {@code passes} records ({@code tokens} > 0: per_token, with that many token ids and
     * positions a pass), record {@code sharer}'s counts naming record {@code owner}'s storage where not -1.
     */
    private static void write(Path path, int passes, int tokens, int sharer, int owner) throws IOException {
        write(path, passes, tokens, sharer, owner, 0);
    }

    /** As {@link #write(Path, int, int, int, int)}, rank {@code rank}'s file: its counts and its records' rank. */
    private static void write(Path path, int passes, int tokens, int sharer, int owner, int rank)
            throws IOException {
        try (OutputStream file = Files.newOutputStream(path);
             ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(file, 1 << 16))) {
            zip.putNextEntry(new ZipEntry("long/data.pkl"));
            Pickler p = new Pickler(zip);
            p.raw(0x80, 2, '}');
            p.memo();
            p.raw('(');
            p.string("records");
            p.raw(']');
            p.memo();
            for (int start = 0; start < passes; start += 1000) {
                int end = Math.min(passes, start + 1000);
                if (end - start > 1) {
                    p.raw('(');
                }
                for (int r = start; r < end; r++) {
                    p.raw('}');
                    p.memo();
                    p.raw('(');
                    p.string("forward_pass_id");
                    p.integer(1000 + r);
                    p.string("rank");
                    p.integer(rank);
                    p.string("gatherer_key");
                    p.string("primary");
                    if (tokens > 0) {
                        for (String key : new String[] {"input_ids", "positions"}) {
                            p.string(key);
                            p.raw(']');
                            p.memo();
                            p.raw('(');
                            for (int t = 0; t < tokens; t++) {
                                p.integer((r + t) % 50_000);
                            }
                            p.raw('e');
                        }
                    }
                    p.string("global_physical_count");
                    p.tensor("IntStorage", String.valueOf(r == sharer ? owner : r), MAP.length, SLOTS);
                    p.raw('u');
                }
                p.raw(end - start > 1 ? 'e' : 'a');
            }
            p.string("last_physical_to_logical_map");
            p.tensor("LongStorage", String.valueOf(passes), MAP.length, SLOTS);
            p.raw('u', '.');
            zip.closeEntry();
            for (int r = 0; r < passes; r++) {
                if (r == sharer) {
                    continue;
                }
                ByteBuffer counts = ByteBuffer.allocate(MAP.length * SLOTS * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int l = 0; l < MAP.length; l++) {
                    for (int s = 0; s < SLOTS; s++) {
                        counts.putInt(count(r, l, s, rank));
                    }
                }
                zip.putNextEntry(new ZipEntry("long/data/" + r));
                zip.write(counts.array());
                zip.closeEntry();
            }
            ByteBuffer map = ByteBuffer.allocate(MAP.length * SLOTS * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int[] layer : MAP) {
                for (int e : layer) {
                    map.putLong(e);
                }
            }
            zip.putNextEntry(new ZipEntry("long/data/" + passes));
            zip.write(map.array());
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("long/version"));
            zip.write("3\n".getBytes(StandardCharsets.US_ASCII));
            zip.closeEntry();
        }
    }

    /**
     * Writes a protocol-2 pickle as Python's pickler does for torch.save: each string, tuple, dict, list and global
     * memoized as made, a string or global met again got from the memo.
     */
    private static final class Pickler {
        private final OutputStream out;
        private final Map<String, Integer> memo = new HashMap<>();
        private int next;

        Pickler(OutputStream out) {
            this.out = out;
        }

        void raw(int... bytes) throws IOException {
            for (int b : bytes) {
                out.write(b);
            }
        }

        /** BINPUT or LONG_BINPUT of the value just made. */
        void memo() throws IOException {
            int index = next++;
            if (index < 256) {
                raw('q', index);
            } else {
                raw('r');
                int32(index);
            }
        }

        private void int32(int v) throws IOException {
            raw(v & 0xff, v >>> 8 & 0xff, v >>> 16 & 0xff, v >>> 24);
        }

        /** A value got from the memo where made before, else made by {@code make} and memoized. */
        private void shared(String id, IoAction make) throws IOException {
            Integer index = memo.get(id);
            if (index != null) {
                if (index < 256) {
                    raw('h', index);
                } else {
                    raw('j');
                    int32(index);
                }
                return;
            }
            make.run();
            memo.put(id, next);
            memo();
        }

        /** A string: torch's keys are the same objects each time, storage keys new ones. */
        void string(String s) throws IOException {
            shared("s:" + s, () -> {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                raw('X');
                int32(b.length);
                out.write(b);
            });
        }

        /** A storage key: a new string each time, as torch's persistent_id makes it. */
        void fresh(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            raw('X');
            int32(b.length);
            out.write(b);
            memo();
        }

        void global(String module, String name) throws IOException {
            shared("g:" + module + "." + name, () -> {
                raw('c');
                out.write((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            });
        }

        void integer(long v) throws IOException {
            if (v < 256) {
                raw('K', (int) v);
            } else if (v < 65536) {
                raw('M', (int) v & 0xff, (int) v >>> 8);
            } else {
                raw('J');
                int32((int) v);
            }
        }

        /** A contiguous [rows][columns] tensor of its own storage {@code key}. */
        void tensor(String storage, String key, int rows, int columns) throws IOException {
            global("torch._utils", "_rebuild_tensor_v2");
            raw('(', '(');
            string("storage");
            global("torch", storage);
            fresh(key);
            string("cpu");
            integer((long) rows * columns);
            raw('t');
            memo();
            raw('Q');
            integer(0);
            integer(rows);
            integer(columns);
            raw(0x86);
            memo();
            integer(columns);
            integer(1);
            raw(0x86);
            memo();
            raw(0x89);
            global("collections", "OrderedDict");
            raw(')', 'R');
            memo();
            raw('t');
            memo();
            raw('R');
            memo();
        }
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }
}
