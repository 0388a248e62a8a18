package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TorchZip}'s index of storages ({@code ARCHIVE/data/N}) against {@link ZipFile}, the reference: every name
 * looked up, in order, backwards and at random, finds the same entry (or none), whatever order the directory holds
 * them in; and a directory in torch's order (storages ascending, one after another) is indexed in well under a byte
 * a storage, so that many ranks' long dumps can be open at once.
 */
class TorchZipIndexTest {
    @TempDir
    Path dir;

    /**
     * 8,192 storages written as torch.save writes them: the index held 4 bytes a storage (32 KB), one int per
     * record's offset; now 12 bytes a block of 64.
     */
    @Test
    void storagesInTorchsOrderAreIndexedInUnderAByteEach() throws IOException {
        List<String> names = new ArrayList<>();
        names.add("a/data.pkl");
        for (int n = 0; n < 8_192; n++) {
            names.add("a/data/" + n);
        }
        names.add("a/version");
        Path zip = write(names, "torch-order.zip");
        try (TorchZip torch = TorchZip.open(zip)) {
            assertThat(torch.indexBytes()).isLessThanOrEqualTo(12L * (names.size() + 63) / 64);
        }
        List<String> fewer = new ArrayList<>(names.subList(0, 3_001));
        fewer.add("a/version");
        assertSameEntries(write(fewer, "torch-order-fewer.zip"), fewer.size(), new Random(1));
    }

    /**
     * Directories of storages in any order, some missing, other entries among them: TorchZip finds what ZipFile
     * finds.
     */
    @Test
    void anyOrderOfStoragesIsFoundAsZipFileFindsThem() {
        qt().withExamples(40).withFixedSeed(7).forAll(longs().all()).checkAssert(seed -> {
            Random random = new Random(seed);
            int storages = 1 + random.nextInt(300);
            List<String> names = new ArrayList<>();
            for (int n = 0; n < storages; n++) {
                if (random.nextInt(10) != 0) {
                    names.add("a/data/" + n);
                }
            }
            switch (random.nextInt(4)) {
                case 0 -> Collections.shuffle(names, random);
                case 1 -> {
                    // One storage moved elsewhere: its block's records no longer follow one another.
                    if (names.size() > 1) {
                        names.add(random.nextInt(names.size()), names.remove(random.nextInt(names.size())));
                    }
                }
                case 2 -> {
                    if (!names.isEmpty()) {
                        names.add(random.nextInt(names.size()), "a/other" + random.nextInt(3));
                    }
                }
                default -> { }
            }
            names.addFirst("a/data.pkl");
            names.add("a/version");
            try {
                Path zip = write(names, "any-" + seed + ".zip");
                assertSameEntries(zip, names.size() + 2, random);
                Files.delete(zip);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    /**
     * Records of every length: a lookup walks its block's records from the first (or the last found) by their
     * lengths, name, extra field and comment together, so each storage here has an extra field and a comment of a
     * length of its own. The blocks lie in descending order (each one's records still in order), storages 63, 64
     * and 65 around a block boundary missing in turn.
     */
    @Test
    void recordsWithExtraFieldsAndCommentsAndBlocksInAnyOrderAreFound() throws IOException {
        List<String> names = new ArrayList<>();
        for (int b = 4; b >= 0; b--) {
            for (int n = 64 * b; n < 64 * b + 64; n++) {
                if (n != 63 && n != 129 && n != 192) {
                    names.add("a/data/" + n);
                }
            }
        }
        names.addFirst("a/data.pkl");
        names.add("a/version");
        Path zip = dir.resolve("extras.zip");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(zip));
                ZipOutputStream z = new ZipOutputStream(out)) {
            for (int i = 0; i < names.size(); i++) {
                ZipEntry e = new ZipEntry(names.get(i));
                // An unknown extra field (id 0xcafe) of i % 7 bytes; a comment of i % 5 characters.
                byte[] extra = new byte[4 + i % 7];
                extra[0] = (byte) 0xfe;
                extra[1] = (byte) 0xca;
                extra[2] = (byte) (i % 7);
                e.setExtra(extra);
                e.setComment("c".repeat(i % 5));
                z.putNextEntry(e);
                z.write((names.get(i) + "@" + i).getBytes(StandardCharsets.US_ASCII));
                z.closeEntry();
            }
        }
        try (TorchZip torch = TorchZip.open(zip)) {
            assertThat(torch.indexBytes()).as("compact").isLessThan(4L * names.size());
        }
        assertSameEntries(zip, names.size() + 2, new Random(3));
    }

    /**
     * Over 65,535 entries: a zip64 END record, which the directory's size and entry count are read from; the
     * storages, in torch's order, are indexed compactly and found.
     */
    @Test
    void aZip64DirectoryIsIndexedCompactly() throws IOException {
        List<String> names = new ArrayList<>();
        names.add("a/data.pkl");
        for (int n = 0; n < 70_000; n++) {
            if (n % 1000 != 999) {
                names.add("a/data/" + n);
            }
        }
        names.add("a/version");
        Path zip = dir.resolve("zip64.zip");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(zip));
                ZipOutputStream z = new ZipOutputStream(out)) {
            for (int i = 0; i < names.size(); i++) { // not write(): its check for repeats takes quadratic time
                z.putNextEntry(new ZipEntry(names.get(i)));
                z.write((names.get(i) + "@" + i).getBytes(StandardCharsets.US_ASCII));
                z.closeEntry();
            }
        }
        byte[] tail = Files.readAllBytes(zip);
        // The zip64 END record (signature 0x06064b50) and its locator lie before the END record (22 bytes).
        assertThat(sig(tail, tail.length - 22 - 20 - 56)).as("zip64 END record").isEqualTo(0x06064b50);
        try (TorchZip torch = TorchZip.open(zip)) {
            assertThat(torch.size()).isEqualTo(names.size());
            assertThat(torch.indexBytes()).isLessThanOrEqualTo(12L * (names.size() + 63) / 64);
            for (int n : new int[] {0, 63, 64, 65, 998, 999, 1000, 65_535, 65_536, 69_998, 69_999}) {
                TorchZip.Entry entry = torch.entry("a/data/" + n);
                if (n % 1000 == 999) {
                    assertThat(entry).as("" + n).isNull();
                } else {
                    assertThat(entry).as("" + n).isNotNull();
                    try (InputStream in = torch.getInputStream(entry)) {
                        int position = names.indexOf("a/data/" + n);
                        assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII))
                                .isEqualTo("a/data/" + n + "@" + position);
                    }
                }
            }
        }
    }

    @Test
    void aStorageTwiceIsNamedAsTheDuplicate() throws IOException {
        List<String> names = List.of("a/data.pkl", "a/data/0", "a/data/1", "a/data/2", "a/data/1", "a/version");
        Path zip = write(names, "twice.zip");
        try (TorchZip torch = TorchZip.open(zip)) {
            assertThat(torch.duplicate()).isEqualTo("a/data/1");
        }
        List<String> first = List.of("a/data.pkl", "a/data/0", "a/data/1", "a/data/0", "a/version");
        try (TorchZip torch = TorchZip.open(write(first, "twice-first.zip"))) {
            assertThat(torch.duplicate()).isEqualTo("a/data/0");
        }
    }

    /**
     * Looks up every storage number below {@code limit} and the other names, in order, backwards and at random,
     * comparing each with ZipFile's entry and bytes.
     */
    private static void assertSameEntries(Path zip, int limit, Random random) throws IOException {
        List<String> lookups = new ArrayList<>();
        for (int n = 0; n < limit; n++) {
            lookups.add("a/data/" + n);
        }
        lookups.addAll(List.of("a/data.pkl", "a/version", "a/other0", "a/other1", "a/other2", "a/data/x"));
        List<String> order = new ArrayList<>(lookups);
        order.addAll(lookups.reversed());
        List<String> shuffled = new ArrayList<>(lookups);
        Collections.shuffle(shuffled, random);
        order.addAll(shuffled);
        try (TorchZip torch = TorchZip.open(zip); ZipFile reference = new ZipFile(zip.toFile())) {
            for (String name : order) {
                TorchZip.Entry entry = torch.entry(name);
                ZipEntry expected = reference.getEntry(name);
                if (expected == null) {
                    assertThat(entry).as(name).isNull();
                    continue;
                }
                assertThat(entry).as(name).isNotNull();
                assertThat(entry.name()).isEqualTo(name);
                assertThat(entry.size()).as(name).isEqualTo(expected.getSize());
                assertThat(entry.crc()).as(name).isEqualTo(expected.getCrc());
                try (InputStream a = torch.getInputStream(entry); InputStream b = reference.getInputStream(expected)) {
                    assertThat(a.readAllBytes()).as(name).isEqualTo(b.readAllBytes());
                }
            }
        }
    }

    /** A zip of {@code names} in order, each entry's bytes its name and position (so that two of a name differ). */
    private Path write(List<String> names, String file) throws IOException {
        Path path = dir.resolve(file);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path));
                ZipOutputStream zip = new ZipOutputStream(out)) {
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                if (i > 0 && names.subList(0, i).contains(name)) {
                    // ZipOutputStream refuses a name twice; the directory is patched below.
                    name = "b" + name.substring(1);
                }
                zip.putNextEntry(new ZipEntry(name));
                zip.write((name + "@" + i).getBytes(StandardCharsets.US_ASCII));
                zip.closeEntry();
            }
        }
        patchDuplicates(path, names);
        return path;
    }

    /** Renames the {@code b/} entries written for repeated names back to {@code a/} (same length) in place. */
    private static void patchDuplicates(Path path, List<String> names) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        boolean changed = false;
        for (int i = 0; i + 2 < bytes.length; i++) {
            if (bytes[i] == 'b' && bytes[i + 1] == '/' && isNameStart(bytes, i)) {
                bytes[i] = 'a';
                changed = true;
            }
        }
        if (changed) {
            Files.write(path, bytes);
        }
    }

    /** Whether a name starts at {@code i}: just after a local (30-byte) or central (46-byte) header. */
    private static boolean isNameStart(byte[] b, int i) {
        return i >= 30 && sig(b, i - 30) == 0x04034b50 || i >= 46 && sig(b, i - 46) == 0x02014b50;
    }

    private static int sig(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}
