package io.moelab.cli.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.Main;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sim} and {@code sim sweep} read the trace step by step instead of holding it: a trace several times larger
 * than the heap is simulated, rescaled to a batch size (which made a second whole copy) and swept.
 */
class SimMemoryTest {
    private static final int LAYERS = 58;
    private static final int EXPERTS = 256;
    private static final int STEPS = 2000;

    @TempDir
    Path dir;

    @Test
    void aTraceFarLargerThanTheHeapIsSimulatedAndSwept() throws Exception {
        // 2,000 steps of DeepSeek-V3's 58 x 256 loads: 238 MB as doubles (476 MB with the rescaled copy), against a
        // 64 MiB heap. Read whole, it ran out of memory.
        Path trace = dir.resolve("long.mlt");
        writeCompact(trace);
        List<String> out = run("sim", "--trace", trace.toString(), "--model", "deepseek-v3", "--cluster", "4x8-h100",
                "--policies", "none,moelab", "--rebalance-every", "500", "--planning-ms", "5", "--tokens-per-step",
                "8192", "--out", dir.resolve("sim").toString());
        assertThat(out.getFirst()).isEqualTo("trace: " + trace + " (2000 steps, 58 layers x 256 experts)");
        assertThat(out).anyMatch(l -> l.startsWith("moelab ") && l.contains(" 3 "));
        assertThat(Files.readAllLines(dir.resolve("sim").resolve("steps.csv"))).hasSize(STEPS + 1);
        List<String> sweep = run("sim", "sweep", "--trace", trace.toString(), "--model", "deepseek-v3", "--cluster",
                "4x8-h100", "--policies", "none,moelab", "--rebalance-every", "500", "--planning-ms", "5",
                "--intervals", "500,1000", "--redundants", "32", "--out", dir.resolve("sweep").toString());
        assertThat(sweep).anyMatch(l -> l.startsWith("wrote ") && l.endsWith("throughput_vs_redundant.png"));
    }

    /** Runs the CLI in a JVM with a 64 MiB heap; returns its stdout lines after checking it succeeded. */
    private List<String> run(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:+UseSerialGC",
                "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path stdout = dir.resolve("out.txt");
        Path stderr = dir.resolve("err.txt");
        Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                .start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(err).isZero();
        return Files.readAllLines(stdout, StandardCharsets.UTF_8);
    }

    /** The compact format (docs/EPLB.md, Traces), written directly: generated in memory it would take 238 MB. */
    private static void writeCompact(Path path) throws IOException {
        try (OutputStream file = Files.newOutputStream(path);
             GZIPOutputStream gz = new GZIPOutputStream(file, 1 << 16);
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(gz, 1 << 16))) {
            out.write("MOELABTR".getBytes(StandardCharsets.US_ASCII));
            out.writeByte(1);
            varint(out, LAYERS);
            varint(out, EXPERTS);
            varint(out, STEPS);
            out.writeByte(0); // integer deltas
            for (int s = 0; s < STEPS; s++) {
                for (int c = 0; c < LAYERS * EXPERTS; c++) {
                    // Step 0: loads 100 + (c * 37) % 200; then each cell drifts by -1, 0 or +1 per step.
                    long delta = s == 0 ? 100 + (c * 37L) % 200 : (c + s) % 3 - 1;
                    varint(out, (delta << 1) ^ (delta >> 63));
                }
            }
        }
    }

    private static void varint(DataOutputStream out, long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.writeByte((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }
}
