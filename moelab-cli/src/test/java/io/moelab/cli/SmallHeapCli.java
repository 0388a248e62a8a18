package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * For the tests that commands stream long traces instead of holding them: a DeepSeek-V3-shaped trace far larger
 * than a small heap, and the CLI run in a child JVM with that heap.
 */
public final class SmallHeapCli {
    /** Layers and experts of the long trace: DeepSeek-V3's MoE layers. */
    public static final int LAYERS = 58;
    public static final int EXPERTS = 256;
    /** Steps of the long trace: 238 MB as doubles, several times the child's heap. */
    public static final int STEPS = 2000;

    private SmallHeapCli() {
    }

    /**
     * Runs the CLI in a JVM with a 64 MiB heap, stdout and stderr into files of {@code dir}; returns its stdout lines
     * after checking that it exited with 0 (its stderr in the failure message otherwise).
     */
    public static List<String> run(Path dir, String... args) throws IOException, InterruptedException {
        return runWithStdin(dir, null, args);
    }

    /** {@link #run}, with the file {@code stdin} (if not null) as the child's standard input. */
    public static List<String> runWithStdin(Path dir, Path stdin, String... args)
            throws IOException, InterruptedException {
        return Files.readAllLines(launch(dir, stdin, List.of(), args).stdout(), StandardCharsets.UTF_8);
    }

    /** A child's standard output and standard error. */
    public record Output(String out, String err) {
    }

    /**
     * {@link #run} for the runtime's commands, which need the Vector API and native access (as bin/moelab gives
     * them); returns both streams.
     */
    public static Output runRuntime(Path dir, String... args) throws IOException, InterruptedException {
        Launched l = launch(dir, null, List.of("--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED"), args);
        return new Output(Files.readString(l.stdout(), StandardCharsets.UTF_8), l.err());
    }

    private record Launched(Path stdout, String err) {
    }

    private static Launched launch(Path dir, Path stdin, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:+UseSerialGC"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        Path stdout = dir.resolve("out.txt");
        Path stderr = dir.resolve("err.txt");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        if (stdin != null) {
            builder.redirectInput(stdin.toFile());
        }
        Process p = builder.start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(err).isZero();
        return new Launched(stdout, err);
    }

    /**
     * Writes the long trace in the compact format (docs/EPLB.md, Traces) directly: generated in memory it would take
     * 238 MB. Step 0's loads are {@code 100 + (c * 37) % 200} for cell c; then each cell drifts by -1, 0 or +1 a step.
     */
    public static void writeLongTrace(Path path) throws IOException {
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
                    long delta = s == 0 ? 100 + (c * 37L) % 200 : (c + s) % 3 - 1;
                    varint(out, (delta << 1) ^ (delta >> 63));
                }
            }
        }
    }

    /**
     * Writes the long trace's loads as an SGLang recorder dump, {@code {"logical_count": [steps][61][256]}} gzip
     * compressed, with DeepSeek-V3's three dense layers first (zero throughout, dropped when read): 58 x 256 loads a
     * step as read, those of {@link #writeLongTrace}.
     */
    public static void writeLongSglangDump(Path path) throws IOException {
        try (OutputStream file = Files.newOutputStream(path);
             GZIPOutputStream gz = new GZIPOutputStream(file, 1 << 16);
             java.io.Writer out = new java.io.BufferedWriter(new java.io.OutputStreamWriter(gz,
                     StandardCharsets.UTF_8), 1 << 16)) {
            long[] loads = new long[LAYERS * EXPERTS];
            String dense = "[" + "0,".repeat(EXPERTS - 1) + "0],";
            out.write("{\"logical_count\": [");
            for (int s = 0; s < STEPS; s++) {
                out.write(s == 0 ? "[" : ",\n[");
                out.write(dense.repeat(3));
                for (int c = 0; c < LAYERS * EXPERTS; c++) {
                    loads[c] += s == 0 ? 100 + (c * 37L) % 200 : (c + s) % 3 - 1;
                    out.write(c % EXPERTS == 0 ? (c == 0 ? "[" : "],[") : ",");
                    out.write(Long.toString(loads[c]));
                }
                out.write("]]");
            }
            out.write("], \"rank\": 0}\n");
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
