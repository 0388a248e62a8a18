package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.SmallHeapCli;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eplb evaluate} keeps window sums, not steps: a trace far larger than the heap is evaluated. */
class EvaluateMemoryTest {
    @TempDir
    Path dir;

    @Test
    void aTraceFarLargerThanTheHeapIsEvaluated() throws Exception {
        // 2,000 steps of DeepSeek-V3's 58 x 256 loads: 238 MB as doubles, against a 64 MiB heap. Read whole, it
        // ran out of memory.
        Path trace = dir.resolve("long.mlt");
        SmallHeapCli.writeLongTrace(trace);
        List<String> out = SmallHeapCli.run(dir, "eplb", "evaluate", "--trace", trace.toString(), "--window", "200",
                "--replicas", "288", "--groups", "8", "--nodes", "4", "--gpus", "32", "--algorithms", "deepseek",
                "--warmup-ms", "0");
        assertThat(out.get(0)).isEqualTo("trace: " + trace + " (2000 steps, 58 layers x 256 experts)");
        assertThat(out.get(1)).isEqualTo("window 200 steps: 10 windows, 9 scored (plan on window i, score on window "
                + "i+1)");
        assertThat(out).anyMatch(l -> l.startsWith("deepseek "));
    }
}
