package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.Main;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.TraceFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eplb generate} writes steps as it makes them: a trace far larger than the heap is generated. */
class GenerateMemoryTest {
    @TempDir
    Path dir;

    @Test
    void aTraceFarLargerThanTheHeapIsGenerated() throws Exception {
        // 2,000 steps of DeepSeek-V3's 58 x 256 loads: 238 MB as doubles, against a 64 MiB heap. Held whole before
        // writing, it ran out of memory.
        Path trace = dir.resolve("long.mlt");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "eplb", "generate", "--layers", "58",
                "--experts", "256", "--steps", "2000", "--seed", "7", "--top-k", "8", "--format", "compact",
                "--output", trace.toString())
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile()).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(err).isZero();
        assertThat(Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8)).contains("wrote " + trace + ": ")
                .contains(" x 58 layers x 256 experts");
        // Read back step by step: every step there, of the shape asked for; the first one is the first step of the
        // same spec generated in memory (a step does not depend on how many follow it).
        LoadMatrix first = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(58, 256, 1, 7)).step(0);
        List<LoadMatrix> firstRead = new ArrayList<>();
        int steps = TraceFiles.read(trace, step -> {
            assertThat(step.layers()).isEqualTo(58);
            assertThat(step.experts()).isEqualTo(256);
            if (firstRead.isEmpty()) {
                firstRead.add(step);
            }
        });
        assertThat(steps).isEqualTo(2000);
        assertThat(firstRead).containsExactly(first);
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no temporary file left")
                    .containsExactlyInAnyOrder("long.mlt", "out.txt", "err.txt");
        }
    }
}
