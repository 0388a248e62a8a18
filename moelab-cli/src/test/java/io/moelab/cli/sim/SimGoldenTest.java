package io.moelab.cli.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code sim} and {@code sim sweep} write what the build that held the whole trace in memory wrote, byte for byte:
 * golden outputs it made (resources golden/CASE) for a 150-step trace, alone and concatenated with a 30-step vLLM
 * one, over windows that overlap (K below W), leave gaps (K above W), rescaled steps, overlapped migration,
 * node-local routing and both sweeps. Planning is charged at a fixed time so that the numbers are reproducible;
 * the plots are drawn from the same per-step series as steps.csv. The two overlapped cases (sim-overlap-local,
 * sweep-window) were made again when an overlapped transfer began to share the links with the all-to-all; the
 * stalled ones are as that build wrote them.
 */
class SimGoldenTest {
    private static final String GOLDEN = "golden/";
    private static final Set<String> INPUTS = Set.of("trace.mlt", "part2.json.gz", "model.json");

    @TempDir
    Path dir;

    static List<String> cases() throws IOException {
        return new String(resource("cases.txt"), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void writesWhatTheBuildThatHeldTheTraceWrote(String line) throws Exception {
        String name = line.substring(0, line.indexOf('|'));
        List<String> args = new ArrayList<>();
        for (String arg : line.substring(name.length() + 1).split(" ")) {
            if (INPUTS.contains(arg)) {
                Files.write(dir.resolve(arg), resource(arg));
                arg = dir.resolve(arg).toString();
            }
            args.add(arg);
        }
        Path out = dir.resolve("out");
        args.addAll(List.of("--out", out.toString()));
        Result r = CliRunner.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(relative(r.out())).isEqualTo(text(name + "/stdout.txt"));
        boolean sweep = name.startsWith("sweep");
        for (String file : sweep ? List.of("sweep.json") : List.of("summary.json", "steps.csv")) {
            assertThat(relative(Files.readString(out.resolve(file), StandardCharsets.UTF_8))).as(file)
                    .isEqualTo(text(name + "/" + file));
        }
        for (String png : sweep ? List.of("throughput_vs_interval.png", "throughput_vs_redundant.png")
                : List.of("balancedness.png", "step_time.png")) {
            assertThat(Arrays.copyOf(Files.readAllBytes(out.resolve(png)), 4)).as(png)
                    .isEqualTo(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        }
    }

    /** The golden outputs were made in the inputs' directory: paths there are bare file names. */
    private String relative(String text) {
        return text.replace(dir + "/", "");
    }

    private static String text(String name) throws IOException {
        return new String(resource(name), StandardCharsets.UTF_8);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = SimGoldenTest.class.getResourceAsStream(GOLDEN + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + GOLDEN + name);
            }
            return in.readAllBytes();
        }
    }
}
