package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.Main;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eplb evaluate} keeps window sums, not steps: a trace far larger than the heap is evaluated. */
class EvaluateMemoryTest {
    private static final int LAYERS = 58;
    private static final int EXPERTS = 256;
    private static final int STEPS = 2000;

    @TempDir
    Path dir;

    @Test
    void aTraceFarLargerThanTheHeapIsEvaluated() throws Exception {
        // 2,000 steps of DeepSeek-V3's 58 x 256 loads: 238 MB as doubles, against a 64 MiB heap. Read whole, it
        // ran out of memory.
        Path trace = dir.resolve("long.mlt");
        writeCompact(trace);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "eplb", "evaluate", "--trace",
                trace.toString(), "--window", "200", "--replicas", "288", "--groups", "8", "--nodes", "4", "--gpus",
                "32", "--algorithms", "deepseek", "--warmup-ms", "0")
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile()).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(err).isZero();
        List<String> out = Files.readAllLines(dir.resolve("out.txt"), StandardCharsets.UTF_8);
        assertThat(out.get(0)).isEqualTo("trace: " + trace + " (2000 steps, 58 layers x 256 experts)");
        assertThat(out.get(1)).isEqualTo("window 200 steps: 10 windows, 9 scored (plan on window i, score on window "
                + "i+1)");
        assertThat(out).anyMatch(l -> l.startsWith("deepseek "));
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
