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
        // From standard input (--trace -), streamed as the file is.
        List<String> piped = SmallHeapCli.runWithStdin(dir, trace, "eplb", "evaluate", "--trace", "-", "--window",
                "200", "--replicas", "288", "--groups", "8", "--nodes", "4", "--gpus", "32", "--algorithms",
                "deepseek", "--warmup-ms", "0");
        assertThat(piped.get(0)).isEqualTo("trace: standard input (2000 steps, 58 layers x 256 experts)");
        assertThat(piped.subList(1, 6)).isEqualTo(out.subList(1, 6));
    }

    @Test
    void anSglangDumpFarLargerThanTheHeapIsEvaluated() throws Exception {
        // The same loads as an SGLang dump with three dense layers (2,000 passes of 61 x 256). Parsed as one array
        // before its passes were delivered, it ran out of memory; now it is read twice, holding no pass.
        Path dump = dir.resolve("long.json.gz");
        SmallHeapCli.writeLongSglangDump(dump);
        Path compact = dir.resolve("long.mlt");
        SmallHeapCli.writeLongTrace(compact);
        String[] options = {"--window", "200", "--replicas", "288", "--groups", "8", "--nodes", "4", "--gpus", "32",
            "--algorithms", "deepseek", "--warmup-ms", "0", "--format", "json"};
        List<String> fromDump = SmallHeapCli.run(dir, concat(new String[] {"eplb", "evaluate", "--trace",
            dump.toString()}, options));
        List<String> fromCompact = SmallHeapCli.run(dir, concat(new String[] {"eplb", "evaluate", "--trace",
            compact.toString()}, options));
        // The same loads, so the same scores: only the trace's name and the timings differ.
        assertThat(scores(fromDump)).isEqualTo(scores(fromCompact)).anyMatch(l -> l.contains("balancedness"));
        assertThat(String.join("\n", fromDump)).contains("\"steps\" : 2000").contains("\"layers\" : 58");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** The JSON report's lines but the trace's name and the timings. */
    private static List<String> scores(List<String> json) {
        return json.stream().filter(l -> !l.contains("trace") && !l.contains("_ms") && !l.contains("millis"))
                .toList();
    }
}
