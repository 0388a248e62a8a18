package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A directory of one SGLang per_pass dump's per-rank files read as one trace: step i the sum over the ranks of their
 * record i, matched by forward pass id. The fixtures ({@code torch/ranks/}, {@code torch/ranks_other/}) are written by
 * make_fixtures.py, which works the summed logical loads by hand.
 */
class SglangRankDumpsTest {
    private static final String STEM = "expert_distribution_recorder_1718000000.25_";
    /** The three ranks' passes 5, 6, 7 summed, then mapped to logical experts; layer 0 (zero on every rank) dropped. */
    private static final double[][][] SUMMED = {
            {{1, 1, 3, 1}, {3, 0, 0, 0}},
            {{0, 3, 4, 2}, {0, 0, 0, 1}},
            {{2, 0, 1, 1}, {0, 3, 0, 0}}};

    @TempDir
    Path dir;

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = SglangRankDumpsTest.class.getResourceAsStream("torch/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    /** A directory {@code name} holding the fixtures {@code files}, each under the name after its last slash. */
    private Path dump(String name, String... files) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        for (String f : files) {
            Files.write(d.resolve(f.substring(f.lastIndexOf('/') + 1)), fixture(f));
        }
        return d;
    }

    private static String rank(int r) {
        return "ranks/" + STEM + r + ".pt";
    }

    private static double[][][] values(ExpertLoadTrace t) {
        return t.stepList().stream().map(LoadMatrix::toArray).toArray(double[][][]::new);
    }

    private static void assertRefused(Path path, String message) {
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(message);
    }

    /**
     * One rank's file holds only its own tokens' counts; a directory of every rank's was refused as a directory. It
     * now reads as their sum, pass by pass: layer 2, zero on ranks 0 and 2, is kept for rank 1's loads.
     */
    @Test
    void aDirectoryOfRankFilesIsTheirSumPassByPass() throws IOException {
        Path d = dump("dump", rank(0), rank(1), rank(2));
        // Files beside the dump that are not named *.pt, and folders, are no part of it.
        Files.writeString(d.resolve("notes.txt"), "not a dump");
        Files.createDirectory(d.resolve("older.pt"));
        assertThat(values(TraceFiles.read(d))).isDeepEqualTo(SUMMED);
        List<LoadMatrix> steps = new ArrayList<>();
        assertThat(TraceFiles.read(d, steps::add)).isEqualTo(3);
        assertThat(steps.get(2).toArray()).isDeepEqualTo(SUMMED[2]);
        // Rank 0 alone: its layer 2 is zero throughout, dropped as a one-file read drops it.
        Path one = dump("one", rank(0));
        assertThat(values(TraceFiles.read(one))).isDeepEqualTo(values(TraceFiles.read(one.resolve(STEM + "0.pt"))))
                .isDeepEqualTo(new double[][][] {{{1, 0, 3, 0}}, {{0, 3, 0, 2}}, {{0, 0, 0, 0}}});
    }

    @Test
    void filesOfAnotherDumpOrModeAreRefusedNamingThem() throws IOException {
        Path empty = dump("empty");
        Files.writeString(empty.resolve("t.json"), "{}");
        assertRefused(empty, empty + ": holds no .pt file (a trace is a file, or a directory of one SGLang per_pass "
                + "or per_token dump, one .pt file per rank)");

        Path twice = dump("twice", rank(0), rank(1));
        Files.copy(twice.resolve(STEM + "1.pt"), twice.resolve("rank1_copy.pt"));
        assertRefused(twice, twice + ": " + STEM + "1.pt and rank1_copy.pt are both rank 1 (a directory holds one "
                + "dump's files, one per rank)");

        Path gap = dump("gap", rank(0), rank(2));
        assertRefused(gap, gap + ": has rank 2 but no rank 1 (a directory holds one dump's files, one per rank)");

        Path map = dump("map", rank(0), "ranks_other/other_map_1.pt");
        assertRefused(map, map + ": other_map_1.pt's last_physical_to_logical_map differs from " + STEM
                + "0.pt's at [1][4] (2, not 3): the files are of different dumps");

        Path passes = dump("passes", rank(0), "ranks_other/other_passes_1.pt");
        assertRefused(passes, passes + ": other_passes_1.pt's records[2] is forward pass 8, but " + STEM
                + "0.pt's is 7 (every rank records the same forward passes)");

        Path fewer = dump("fewer", rank(0), "ranks_other/fewer_passes_1.pt");
        assertRefused(fewer, fewer + ": fewer_passes_1.pt has 2 forward passes, but " + STEM + "0.pt has 3 (every "
                + "rank records the same forward passes)");

        Path stat = dump("stat", rank(0), "stat_int32.pt");
        assertRefused(stat, stat.resolve("stat_int32.pt") + ": is an SGLang stat dump (\"logical_count\"), not a "
                + "rank's per_pass or per_token file (a directory is read as one such dump, one .pt file per rank; "
                + "give a stat dump as a file)");

        Path json = dump("json", rank(0));
        Files.writeString(json.resolve("x.pt"), "{\"logical_count\": [[1]]}");
        assertRefused(json, json.resolve("x.pt") + ": is not a torch.save file (a directory is read as one SGLang "
                + "per_pass or per_token dump, one .pt file per rank)");

        // A problem of the summed passes names the directory, also where the directory's name begins the field's
        // ("rec" and "records"): rank 0 alone, every count zeroed (its map, storage 3, kept).
        Path rec = Files.createDirectories(dir.resolve("zeros"));
        Path rank0 = Files.write(dir.resolve("rank0.pt"), fixture(rank(0)));
        java.util.Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(rank0.toFile())) {
            for (java.util.zip.ZipEntry e : java.util.Collections.list(zip.entries())) {
                try (InputStream in = zip.getInputStream(e)) {
                    byte[] data = in.readAllBytes();
                    entries.put(e.getName(), e.getName().matches(".*/data/[012]") ? new byte[data.length] : data);
                }
            }
        }
        Files.write(rec.resolve(STEM + "0.pt"), TorchTracesTest.zip(entries));
        assertThatThrownBy(() -> TraceFiles.read(rec, "rec", step -> { }))
                .isInstanceOf(InvalidInputException.class).hasMessage("rec: records: every layer has zero load");

        // A problem inside one rank's file names that file.
        Path noMap = dump("nomap", rank(0), "per_pass_no_map.pt");
        assertRefused(noMap, noMap.resolve("per_pass_no_map.pt") + ": is an SGLang per_pass or per_token dump "
                + "without \"last_physical_to_logical_map\": its counts are of physical slots, and nothing says "
                + "which logical expert each holds");
    }
}
