package io.moelab.cli.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.SmallHeapCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sim} and {@code sim sweep} read the trace step by step instead of holding it: a trace several times larger
 * than the heap is simulated, rescaled to a batch size (which made a second whole copy) and swept.
 */
class SimMemoryTest {
    @TempDir
    Path dir;

    @Test
    void aTraceFarLargerThanTheHeapIsSimulatedAndSwept() throws Exception {
        // 2,000 steps of DeepSeek-V3's 58 x 256 loads: 238 MB as doubles (476 MB with the rescaled copy), against a
        // 64 MiB heap. Read whole, it ran out of memory.
        Path trace = dir.resolve("long.mlt");
        SmallHeapCli.writeLongTrace(trace);
        List<String> out = SmallHeapCli.run(dir, "sim", "--trace", trace.toString(), "--model", "deepseek-v3",
                "--cluster", "4x8-h100", "--policies", "none,moelab", "--rebalance-every", "500", "--planning-ms", "5",
                "--tokens-per-step", "8192", "--out", dir.resolve("sim").toString());
        assertThat(out.getFirst()).isEqualTo("trace: " + trace + " (2000 steps, 58 layers x 256 experts)");
        assertThat(out).anyMatch(l -> l.startsWith("moelab ") && l.contains(" 3 "));
        assertThat(Files.readAllLines(dir.resolve("sim").resolve("steps.csv"))).hasSize(SmallHeapCli.STEPS + 1);
        List<String> sweep = SmallHeapCli.run(dir, "sim", "sweep", "--trace", trace.toString(), "--model",
                "deepseek-v3", "--cluster", "4x8-h100", "--policies", "none,moelab", "--rebalance-every", "500",
                "--planning-ms", "5", "--intervals", "500,1000", "--redundants", "32", "--out",
                dir.resolve("sweep").toString());
        assertThat(sweep).anyMatch(l -> l.startsWith("wrote ") && l.endsWith("throughput_vs_redundant.png"));
        // From standard input (--trace -): copied to a temporary file once and read from there, not held.
        List<String> piped = SmallHeapCli.runWithStdin(dir, trace, "sim", "--trace", "-", "--model", "deepseek-v3",
                "--cluster", "4x8-h100", "--policies", "none,moelab", "--rebalance-every", "500", "--planning-ms", "5",
                "--tokens-per-step", "8192", "--out", dir.resolve("piped").toString());
        assertThat(piped.getFirst()).isEqualTo("trace: standard input (2000 steps, 58 layers x 256 experts)");
        assertThat(dir.resolve("piped").resolve("steps.csv")).hasSameTextualContentAs(
                dir.resolve("sim").resolve("steps.csv"));
    }

    @Test
    void anSglangDumpFarLargerThanTheHeapIsSimulatedFromStandardInput() throws Exception {
        // 2,000 passes of 61 x 256 with three dense layers on standard input: spooled to a temporary file, which was
        // then read as a stream is, every pass held until the dump's end (238 MB against a 64 MiB heap); now it is
        // read as a named file is, twice, holding no pass.
        Path dump = dir.resolve("long.json.gz");
        SmallHeapCli.writeLongSglangDump(dump);
        String[] options = {"--model", "deepseek-v3", "--cluster", "4x8-h100", "--policies", "none",
            "--planning-ms", "5", "--tokens-per-step", "8192"};
        List<String> named = SmallHeapCli.run(dir, concat(new String[] {"sim", "--trace", dump.toString(), "--out",
            dir.resolve("named").toString()}, options));
        List<String> piped = SmallHeapCli.runWithStdin(dir, dump, concat(new String[] {"sim", "--trace", "-",
            "--out", dir.resolve("piped").toString()}, options));
        assertThat(named.getFirst()).isEqualTo("trace: " + dump + " (2000 steps, 58 layers x 256 experts)");
        assertThat(piped.getFirst()).isEqualTo("trace: standard input (2000 steps, 58 layers x 256 experts)");
        assertThat(dir.resolve("piped").resolve("steps.csv")).hasSameTextualContentAs(
                dir.resolve("named").resolve("steps.csv"));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
