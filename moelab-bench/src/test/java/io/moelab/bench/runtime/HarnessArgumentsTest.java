package io.moelab.bench.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hand-run harnesses' argument handling: a wrong count, an unknown name, a non-numeric count or a missing
 * directory is one line and exit 2, before any model is loaded or anything is timed (they were stack traces of
 * NumberFormatException, IllegalArgumentException or an InvocationTargetException from the build's loader).
 */
class HarnessArgumentsTest {
    @TempDir
    Path dir;

    private static String refusal(Runnable parse) {
        List<String> message = new ArrayList<>();
        assertThatThrownBy(parse::run).isInstanceOfSatisfying(HarnessArgs.BadArgument.class,
                e -> message.add(e.getMessage()));
        return message.getFirst();
    }

    @Test
    void decodeSideBySide() throws IOException {
        String classes = Files.createDirectories(dir.resolve("classes")).toString();
        String model = Files.createDirectories(dir.resolve("model")).toString();
        String usage = "usage: DecodeSideBySide CLASSES[,CLASSES...] MODEL_DIR WEIGHTS [TOKENS] [ROUNDS]"
                + " [greedy|random]";
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes, model}))).isEqualTo(usage);
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes, model, "Q8", "1", "1",
                "random", "x"}))).isEqualTo(usage);
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes, model, "Q4"})))
                .isEqualTo("error: WEIGHTS: unknown 'Q4' (one of STORED, PACKED, Q8, INT4, INT4_I8)");
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes, model, "Q8", "many"})))
                .isEqualTo("error: TOKENS: not a whole number: 'many'");
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes, model, "Q8", "8", "0"})))
                .isEqualTo("error: ROUNDS: must be at least 1, got 0");
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes, model, "Q8", "8", "4",
                "greedily"}))).isEqualTo("error: mode: unknown 'greedily' (one of greedy, random)");
        String missing = dir.resolve("no-model").toString();
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes, missing, "Q8"})))
                .isEqualTo("error: MODEL_DIR: not a directory: " + missing);
        String noBuild = dir.resolve("no-build").toString();
        assertThat(refusal(() -> DecodeSideBySide.Options.parse(new String[] {classes + "," + noBuild, model, "Q8"})))
                .isEqualTo("error: CLASSES: not a classes directory or jar: " + noBuild);
        DecodeSideBySide.Options ok = DecodeSideBySide.Options.parse(new String[] {classes, model, "INT4_I8", "16",
                "3", "random"});
        assertThat(ok.tokens()).isEqualTo(16);
        assertThat(ok.rounds()).isEqualTo(3);
        assertThat(ok.random()).isTrue();
        assertThat(DecodeSideBySide.Options.parse(new String[] {classes, model, "Q8"}).rounds()).isEqualTo(40);
    }

    @Test
    void dotSideBySide() throws IOException {
        String classes = Files.createDirectories(dir.resolve("classes")).toString();
        assertThat(refusal(() -> DotSideBySide.Options.parse(new String[] {classes, "Q8", "512x448"})))
                .isEqualTo("usage: DotSideBySide CLASSES[,CLASSES...] FORMATS SHAPES SLICES");
        assertThat(refusal(() -> DotSideBySide.Options.parse(new String[] {classes, "Q8,FP8", "512x448", "10"})))
                .isEqualTo("error: FORMATS: unknown 'FP8' (one of F32, PACKED, BF16, Q8, INT4, INT4_I8)");
        assertThat(refusal(() -> DotSideBySide.Options.parse(new String[] {classes, "Q8", "512x448", "ten"})))
                .isEqualTo("error: SLICES: not a whole number: 'ten'");
        assertThat(refusal(() -> DotSideBySide.Options.parse(new String[] {classes, "Q8", "512", "10"})))
                .isEqualTo("error: SHAPES: not ROWSxCOLS: '512'");
        assertThat(refusal(() -> DotSideBySide.Options.parse(new String[] {classes, "Q8", "512xabc", "10"})))
                .isEqualTo("error: SHAPES columns: not a whole number: 'abc'");
        String missing = dir.resolve("no-build").toString();
        assertThat(refusal(() -> DotSideBySide.Options.parse(new String[] {missing, "Q8", "512x448", "10"})))
                .isEqualTo("error: CLASSES: not a classes directory or jar: " + missing);
        // A module's jar is a build (docs/BENCHMARKS.md compares BEFORE.jar with target/classes); an empty jar is one.
        String jar = dir.resolve("before.jar").toString();
        new java.util.jar.JarOutputStream(Files.newOutputStream(Path.of(jar))).close();
        assertThat(DotSideBySide.Options.parse(new String[] {jar + "," + classes, "F32", "512x448", "2"}).builds())
                .containsExactly(jar, classes);
        assertThat(DotSideBySide.Options.parse(new String[] {classes, "INT4,Q8", "512x448,1024x2816", "7"}))
                .satisfies(o -> {
                    assertThat(o.formats()).containsExactly("INT4", "Q8");
                    assertThat(o.shapes()).containsExactly("512x448", "1024x2816");
                    assertThat(o.slices()).isEqualTo(7);
                });
    }

    @Test
    void streamSideBySide() {
        assertThat(refusal(() -> StreamSideBySide.Options.parse(new String[] {"448x512", "4", "2", "1"})))
                .isEqualTo("usage: StreamSideBySide [ROWSxCOLS] [COUNT] [ROUNDS]");
        assertThat(refusal(() -> StreamSideBySide.Options.parse(new String[] {"448"})))
                .isEqualTo("error: ROWSxCOLS: not ROWSxCOLS: '448'");
        assertThat(refusal(() -> StreamSideBySide.Options.parse(new String[] {"448x512", "lots"})))
                .isEqualTo("error: COUNT: not a whole number: 'lots'");
        assertThat(refusal(() -> StreamSideBySide.Options.parse(new String[] {"448x512", "4", "-1"})))
                .isEqualTo("error: ROUNDS: must be at least 1, got -1");
        assertThat(StreamSideBySide.Options.parse(new String[0]))
                .isEqualTo(new StreamSideBySide.Options(448, 512, 400, 12));
    }

    @Test
    void jlamaComparison() {
        assertThat(refusal(() -> JlamaComparison.Options.parse(new String[] {"--token", "8"})))
                .startsWith("error: unknown option --token (options: --out, --tokens, ");
        assertThat(refusal(() -> JlamaComparison.Options.parse(new String[] {"--tokens"})))
                .isEqualTo("error: --tokens needs a value");
        assertThat(refusal(() -> JlamaComparison.Options.parse(new String[] {"8"})))
                .isEqualTo("error: unexpected argument 8 (options are --NAME VALUE)");
        assertThat(refusal(() -> JlamaComparison.Options.parse(new String[] {"--rounds", "five"})))
                .isEqualTo("error: --rounds: not a whole number: 'five'");
        assertThat(refusal(() -> JlamaComparison.Options.parse(new String[] {"--dtypes", "F32,FP8"})))
                .isEqualTo("error: --dtypes: unknown 'FP8' (one of F32, F16, BF16)");
        assertThat(refusal(() -> JlamaComparison.Options.parse(new String[] {"--weights", "int8"})))
                .startsWith("error: --weights: unknown 'int8' (one of stored, ");
        JlamaComparison.Options ok = JlamaComparison.Options.parse(new String[] {"--tokens", "8", "--keep",
                "--weights", "packed", "--dtypes", "bf16"});
        assertThat(ok.tokens()).isEqualTo(8);
        assertThat(ok.rounds()).isEqualTo(5);
        assertThat(ok.keep()).isTrue();
        assertThat(ok.out()).isNull();
        assertThat(ok.shape().hidden()).isEqualTo(1024);
    }

    /** Run as a program: the line on stderr, nothing else (no stack trace), exit 2; nothing is timed or loaded. */
    @Test
    void eachMainExitsWithTheLineAlone() throws Exception {
        String missing = dir.resolve("no-model").toString();
        String classes = Files.createDirectories(dir.resolve("classes")).toString();
        assertRefused(DecodeSideBySide.class, List.of(classes, missing, "Q8"),
                "error: MODEL_DIR: not a directory: " + missing);
        assertRefused(DotSideBySide.class, List.of(classes, "Q8", "512x448", "ten"),
                "error: SLICES: not a whole number: 'ten'");
        assertRefused(StreamSideBySide.class, List.of("448x512", "lots"), "error: COUNT: not a whole number: 'lots'");
        assertRefused(JlamaComparison.class, List.of("--tokens", "x"), "error: --tokens: not a whole number: 'x'");
    }

    private static void assertRefused(Class<?> main, List<String> args, String line) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), main.getName()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isEqualTo(2);
        assertThat(err.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))).containsExactly(line);
    }
}
