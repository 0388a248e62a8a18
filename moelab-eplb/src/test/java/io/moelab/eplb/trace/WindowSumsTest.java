package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Window sums of steps read one at a time against the whole trace's windows. */
class WindowSumsTest {
    @TempDir
    Path dir;

    @Test
    void handSummedWindowsAndTheTrailingPartialWindowDropped() {
        WindowSums sums = new WindowSums(2);
        for (double[][] step : new double[][][] {{{1, 2}}, {{3, 4}}, {{5, 6}}, {{7, 8}}, {{9, 10}}}) {
            sums.accept(LoadMatrix.of(step, "step"));
        }
        assertThat(sums.steps()).isEqualTo(5);
        assertThat(sums.layers()).isEqualTo(1);
        assertThat(sums.experts()).isEqualTo(2);
        assertThat(sums.windows()).containsExactly(LoadMatrix.of(new double[][] {{4, 6}}, "w"),
                LoadMatrix.of(new double[][] {{12, 14}}, "w"));
    }

    @Test
    void aStepOfAnotherShapeAndABadWindowAreRefusedAsTheWholeTraceRefusesThem() {
        WindowSums sums = new WindowSums(3);
        sums.accept(LoadMatrix.of(new double[][] {{1, 2}}, "step"));
        sums.accept(LoadMatrix.of(new double[][] {{1, 2}}, "step"));
        assertThatThrownBy(() -> sums.accept(LoadMatrix.of(new double[][] {{1, 2, 3}}, "step")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("step 2: is 1 layer x 3 experts, expected 1 layer x 2 experts");
        assertThatThrownBy(() -> new WindowSums(0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("window: must be at least 1 step, got 0");
        assertThatThrownBy(() -> new WindowSums(1).layers()).isInstanceOf(IllegalStateException.class);
    }

    /**
     * Random traces (integral and fractional loads, where the order of additions shows in the bits, all-zero layers)
     * in every format, gzip and not: the windows read step by step are the whole trace's windows to the bit, and a
     * plain left-to-right sum of its steps.
     */
    @Test
    void streamedWindowsAreTheWholeTracesInEveryFormat() {
        qt().withExamples(40).withFixedSeed(3).forAll(longs().all(), integers().between(1, 7))
                .checkAssert((seed, window) -> {
                    try {
                        checkEveryFormat(seed, window);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    private void checkEveryFormat(long seed, int window) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        ExpertLoadTrace trace = randomTrace(random);
        List<Path> files = new ArrayList<>();
        files.add(write(trace, "t.json", TraceFormat.VLLM));
        files.add(write(trace, "t.json.gz", TraceFormat.VLLM));
        Path compact = write(trace, "t.mlt", TraceFormat.COMPACT);
        files.add(compact);
        files.add(Files.write(dir.resolve("t.mlt.raw"), gunzip(Files.readAllBytes(compact))));
        String sglang = sglangJson(trace);
        files.add(Files.writeString(dir.resolve("s.json"), sglang));
        files.add(Files.write(dir.resolve("s.json.gz"), gzip(sglang.getBytes(StandardCharsets.UTF_8))));
        for (Path file : files) {
            ExpertLoadTrace whole = TraceFiles.read(file);
            WindowSums sums = new WindowSums(window);
            int steps = TraceFiles.read(file, sums);
            assertThat(steps).as(file.toString()).isEqualTo(whole.steps());
            assertThat(sums.steps()).as(file.toString()).isEqualTo(whole.steps());
            assertThat(sums.windows()).as(file.toString()).isEqualTo(whole.windows(window))
                    .isEqualTo(plainWindows(whole, window));
            assertThat(WindowSums.of(whole, window).windows()).isEqualTo(sums.windows());
        }
    }

    private static ExpertLoadTrace randomTrace(SplittableRandom random) {
        int layers = random.nextInt(1, 5);
        int experts = random.nextInt(1, 7);
        int steps = random.nextInt(1, 30);
        boolean integral = random.nextBoolean();
        int idleLayer = random.nextInt(layers + 1); // == layers: none idle (SGLang drops idle layers)
        List<LoadMatrix> list = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            double[] values = new double[layers * experts];
            for (int i = 0; i < values.length; i++) {
                if (i / experts == idleLayer && layers > 1) {
                    continue;
                }
                values[i] = integral ? random.nextInt(0, 5000)
                        : random.nextDouble() * Math.pow(10, random.nextInt(-3, 9));
            }
            list.add(LoadMatrix.ofFlat(layers, experts, values, "step " + s));
        }
        return ExpertLoadTrace.of(list);
    }

    /** Each window summed left to right from zero, independently of LoadMatrix.sum. */
    private static List<LoadMatrix> plainWindows(ExpertLoadTrace trace, int window) {
        List<LoadMatrix> windows = new ArrayList<>();
        int cells = trace.layers() * trace.experts();
        double[] step = new double[cells];
        for (int start = 0; start + window <= trace.steps(); start += window) {
            double[] acc = new double[cells];
            for (int s = start; s < start + window; s++) {
                trace.step(s).copyTo(step);
                for (int i = 0; i < cells; i++) {
                    acc[i] += step[i];
                }
            }
            windows.add(LoadMatrix.ofFlat(trace.layers(), trace.experts(), acc, "window"));
        }
        return windows;
    }

    private Path write(ExpertLoadTrace trace, String name, TraceFormat format) throws IOException {
        Path path = dir.resolve(name);
        TraceFiles.write(trace, path, format);
        return path;
    }

    /** An SGLang recorder dump, {@code [steps][layers][experts]}; Double.toString round-trips every load. */
    private static String sglangJson(ExpertLoadTrace trace) {
        StringBuilder sb = new StringBuilder("{\"logical_count\": [");
        for (int s = 0; s < trace.steps(); s++) {
            sb.append(s == 0 ? "[" : ", [");
            for (int l = 0; l < trace.layers(); l++) {
                sb.append(l == 0 ? "[" : ", [");
                for (int e = 0; e < trace.experts(); e++) {
                    sb.append(e == 0 ? "" : ", ").append(trace.step(s).load(l, e));
                }
                sb.append(']');
            }
            sb.append(']');
        }
        return sb.append("]}").toString();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    private static byte[] gunzip(byte[] data) throws IOException {
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(data))) {
            return in.readAllBytes();
        }
    }
}
