package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moelab.eplb.LoadMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generating and writing block by block gives the bytes the whole trace in memory gave. */
class SyntheticTraceStreamingTest {
    @TempDir
    Path dir;

    private static SyntheticTraceSpec spec(int layers, int experts, int steps, long seed, int tokens, int topK,
                                           SyntheticTraceSpec.Skew skew, double skewParam, double walk, double revert,
                                           double halfLife, double zero, int domains) {
        return new SyntheticTraceSpec(layers, experts, steps, seed, tokens, topK, skew, skewParam, walk, revert,
                halfLife, zero, domains, 0.5, 200, 1.5);
    }

    @Test
    void writtenFilesAreThoseOfTheBuildThatHeldTheWholeTrace() throws Exception {
        // SHA-256 of `eplb generate` output from the build before streaming (commit b321924), same options.
        SyntheticTraceSpec one = SyntheticTraceSpec.defaults(3, 16, 41, 5);
        SyntheticTraceSpec two = spec(2, 32, 30, 9, 500, 4, SyntheticTraceSpec.Skew.ZIPF, 1.2, 0.02, 0.3, 20, 0.25,
                3);
        SyntheticTraceSpec three = spec(4, 8, 77, 1, 4096, 8, SyntheticTraceSpec.Skew.LOGNORMAL, 1, 0.1, 1, 3, 0, 1);
        assertGolden(one, "compact.mlt", "10c8138cf93638e99a15db73e035206d203f15e73aa04861506911a7cda09793");
        assertGolden(one, "vllm.json", "107596c2d4f2904296ce01fbe1199d9765b44f08cb5ff296618b1b51c908081d");
        assertGolden(one, "vllm.json.gz", "1c131856448b9a73ef0105ec5fc4c03045d3292c1f93600eb90c7476ee1821e0");
        assertGolden(two, "compact.mlt", "db50cdda4251d4fba57653144be065a62e82d16e55584cdfb5da4128a4134356");
        assertGolden(two, "vllm.json", "da59a129df23e1d1ee6920d5a44d0baa672d6bdd1f2bd19d08279eae1f74c224");
        assertGolden(two, "vllm.json.gz", "a76de9738028f48c2df65d4bb654db85b34c52c3a811186b8651e9f7a31a5b5f");
        assertGolden(three, "compact.mlt", "b3958d72a0db3557435526b46ae35041488cbf5a966cff649fa91038bbc1b54b");
        assertGolden(three, "vllm.json", "b1cfc3807a0c1745e9cf6b29295d52adfee483a45f4352cae8d5dd33847d2bb8");
        assertGolden(three, "vllm.json.gz", "a40eb8b3e95277743d327c7f945ee9984ad1ad8dd8eee507c92d525668fbdbf9");
    }

    private void assertGolden(SyntheticTraceSpec spec, String name, String sha256) throws Exception {
        Path path = dir.resolve(spec.seed() + "-" + name);
        TraceFormat format = name.startsWith("compact") ? TraceFormat.COMPACT : TraceFormat.VLLM;
        SyntheticTraceGenerator.write(spec, path, format, SyntheticTraceGenerator.Progress.NONE);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(path));
        assertThat(HexFormat.of().formatHex(digest)).as(path.toString()).isEqualTo(sha256);
    }

    @Test
    void anyBlockSizeGivesTheStepsAndBytesOfTheWholeTrace() {
        qt().withExamples(60).withFixedSeed(11)
                .forAll(longs().all(), integers().between(1, 4), integers().between(2, 40),
                        integers().between(0, Integer.MAX_VALUE))
                .checkAssert((seed, layers, experts, knobs) -> {
                    int steps = 1 + (knobs >>> 20) % 30;
                    int topK = 1 + knobs % Math.min(experts, 8);
                    SyntheticTraceSpec.Skew skew = (knobs >> 3) % 2 == 0
                            ? SyntheticTraceSpec.Skew.LOGNORMAL : SyntheticTraceSpec.Skew.ZIPF;
                    double zero = (knobs >> 4) % 3 == 0 ? 0 : Math.min(0.5, (experts - topK) / (double) experts);
                    SyntheticTraceSpec spec = spec(layers, experts, steps, seed, 1 + (knobs >> 6) % 3000, topK, skew,
                            0.2 + (knobs >> 8) % 20 / 10.0, (knobs >> 9) % 2 * 0.05, (knobs >> 10) % 3 * 0.4,
                            1 + (knobs >> 11) % 30, zero, 1 + (knobs >> 12) % 3);
                    int block = 1 + (knobs >> 14) % steps;
                    List<LoadMatrix> whole = new ArrayList<>();
                    SyntheticTraceGenerator.generate(spec, steps, SyntheticTraceGenerator.Progress.NONE, whole::add);
                    List<LoadMatrix> blocks = new ArrayList<>();
                    List<Integer> reported = new ArrayList<>();
                    SyntheticTraceGenerator.generate(spec, block, (done, total) -> reported.add(done), blocks::add);
                    assertThat(blocks).as("block %d", block).isEqualTo(whole);
                    assertThat(reported).last().isEqualTo(steps);
                    for (TraceFormat format : List.of(TraceFormat.COMPACT, TraceFormat.VLLM)) {
                        for (String name : List.of("a.mlt", "a.json", "a.json.gz")) {
                            try {
                                Path held = dir.resolve("held-" + name);
                                Path streamed = dir.resolve("streamed-" + name);
                                TraceFiles.write(ExpertLoadTrace.of(whole), held, format);
                                SyntheticTraceGenerator.write(spec, streamed, format,
                                        SyntheticTraceGenerator.Progress.NONE);
                                assertThat(Files.readAllBytes(streamed)).as("%s %s", format, name)
                                        .isEqualTo(Files.readAllBytes(held));
                            } catch (IOException e) {
                                throw new AssertionError(e);
                            }
                        }
                    }
                });
    }
}
