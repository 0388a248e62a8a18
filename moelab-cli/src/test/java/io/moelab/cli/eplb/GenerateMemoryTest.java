package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.SmallHeapCli;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.TraceFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        List<String> out = SmallHeapCli.run(dir, "eplb", "generate", "--layers", "58", "--experts", "256", "--steps",
                "2000", "--seed", "7", "--top-k", "8", "--format", "compact", "--output", trace.toString());
        assertThat(String.join("\n", out)).contains("wrote " + trace + ": ").contains(" x 58 layers x 256 experts");
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
