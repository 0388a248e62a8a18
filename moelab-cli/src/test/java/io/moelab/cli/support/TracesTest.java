package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.eplb.trace.TraceFormat;
import io.moelab.eplb.trace.WindowSums;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Traces#windows}: the windows and errors of {@link Traces#readAll}, read step by step. */
class TracesTest {
    @TempDir
    Path dir;

    private Path write(String name, TraceFormat format, int steps, long seed) throws IOException {
        Path path = dir.resolve(name);
        TraceFiles.write(SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(3, 8, steps, seed)), path,
                format);
        return path;
    }

    @Test
    void windowsSpanConcatenatedSourcesAsTheWholeConcatenationsDo() throws IOException {
        List<String> sources = List.of(write("a.json", TraceFormat.VLLM, 7, 1).toString(),
                write("b.mlt", TraceFormat.COMPACT, 11, 2).toString(), "builtin:deepseek-v3/prefill_in512");
        // The builtin is 58 x 256: the first two alone, then all three refused as readAll refuses them.
        for (int window : new int[] {1, 3, 5, 18, 19}) {
            WindowSums sums = Traces.windows(sources.subList(0, 2), window);
            assertThat(sums.windows()).as("window " + window)
                    .isEqualTo(Traces.readAll(sources.subList(0, 2)).windows(window));
            assertThat(sums.steps()).isEqualTo(18);
        }
        assertThatThrownBy(() -> Traces.windows(sources, 2)).isInstanceOf(InvalidInputException.class)
                .hasMessage(message(() -> Traces.readAll(sources)))
                .hasMessageStartingWith("--trace builtin:deepseek-v3/prefill_in512: is 58 layers x 256 experts, but "
                        + "--trace " + sources.getFirst() + " is 3 x 8");
        List<String> builtins = List.of("builtin:deepseek-v3/prefill_in512", "builtin:deepseek-v3/prefill_in1024");
        assertThat(Traces.windows(builtins, 1).windows()).isEqualTo(Traces.readAll(builtins).windows(1));
    }

    /** A source of another shape that is also malformed further on: the malformation is reported, as before. */
    @Test
    void anErrorLaterInASourceOfAnotherShapeComesFirst() throws Exception {
        String first = write("a.json", TraceFormat.VLLM, 4, 1).toString();
        Path other = Files.writeString(dir.resolve("b.json"), "{\"load_history\": ["
                + "{\"logical_expert_load\": [[1, 2]]}, {\"logical_expert_load\": [[1, -2]]}]}");
        List<String> sources = List.of(first, other.toString());
        String expected = message(() -> Traces.readAll(sources));
        assertThat(expected).isEqualTo(other + ": load_history[1].logical_expert_load[0][1]: load is negative (-2)");
        assertThatThrownBy(() -> Traces.windows(sources, 2)).hasMessage(expected);
    }

    /**
     * One source read alone says how many steps it delivered, for a file and a built-in trace; the files among the
     * sources, for the check against outputs, leave out built-in traces and standard input.
     */
    @Test
    void oneSourceCountsItsStepsAndOnlyFilesAreFiles() throws IOException {
        Path file = write("a.json", TraceFormat.VLLM, 7, 1);
        List<Object> steps = new java.util.ArrayList<>();
        assertThat(Traces.read(file.toString(), steps::add)).isEqualTo(7);
        assertThat(steps).hasSize(7);
        steps.clear();
        int builtin = Traces.read("builtin:deepseek-v3/prefill_in512", steps::add);
        assertThat(builtin).isPositive().isEqualTo(steps.size());
        assertThat(Traces.files(List.of("builtin:deepseek-v3/prefill_in512", "-", file.toString())))
                .containsExactly(file);
        assertThat(Traces.files(null)).isEmpty();
    }

    /**
     * Sources to read more than once refuse a second standard input before reading any (standard input here is a
     * few bytes, never the test's own).
     */
    @Test
    void rereadableSourcesTakeStandardInputOnce() {
        java.io.InputStream saved = System.in;
        System.setIn(new java.io.ByteArrayInputStream("{}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try {
            assertThatThrownBy(() -> Traces.rereadable(List.of("-", "-"))).isInstanceOf(InvalidInputException.class)
                    .hasMessage("--trace: names standard input (-) twice; it can be read once (name a file for the "
                            + "other)");
        } finally {
            System.setIn(saved);
        }
    }

    private static String message(Runnable r) {
        try {
            r.run();
        } catch (InvalidInputException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error");
    }
}
