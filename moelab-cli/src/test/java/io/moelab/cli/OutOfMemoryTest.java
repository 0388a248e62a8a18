package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.eplb.trace.TraceFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running out of heap is one {@code error:} line and exit code 1, not an uncaught error's stack trace. */
class OutOfMemoryTest {
    @TempDir
    Path dir;

    @Test
    void aCommandThatRunsOutOfHeapSaysSoInOneLine() throws Exception {
        // 3.8 million loads (about 13 MB of JSON) in 250 one-step windows: 31 MB of window sums, over a 24 MiB heap.
        Path trace = dir.resolve("trace.json");
        TraceFiles.write(SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(60, 256, 250, 1)), trace,
                TraceFormat.VLLM);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Xmx24m", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "eplb", "evaluate", "--trace",
                trace.toString(), "--window", "1", "--replicas", "288", "--gpus", "32")
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        List<String> err = Files.readAllLines(dir.resolve("err.txt"), StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("WARNING")).toList();
        assertThat(p.exitValue()).as(String.join("\n", err)).isEqualTo(Main.EXIT_FAILURE);
        assertThat(err).singleElement().asString().startsWith("error: out of memory (this JVM's heap is ")
                .contains("MOELAB_JAVA_OPTS=-Xmx");
    }
}
