package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moelab.cli.Main;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime's long commands, and {@code eplb bench} beside {@code bench}, show where they are on a terminal: the
 * CLI in a child JVM on a pseudo-terminal of script(1), as a user runs it (redirected runs, as in the other tests,
 * show nothing).
 */
@EnabledOnOs(OS.LINUX)
class ProgressOnTerminalTest {
    private static final Path SCRIPT = Path.of("/usr/bin/script");

    @TempDir
    Path dir;

    /**
     * {@code perplexity} and {@code trace} ran for minutes on a long text with a large model and showed nothing
     * until they were done.
     */
    @Test
    void perplexityAndTraceShowABarOfTokens() throws Exception {
        assumeTrue(Files.isExecutable(SCRIPT), "script(1) is not available");
        Path model = TinyMixtral.write(dir.resolve("model"), 258);
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "The quick brown fox jumps over the lazy dog.\n".repeat(4));
        String perplexity = onTerminal("perplexity", "--model", model.toString(), "--text", text.toString());
        // The bar names its task and counts the tokens scored: 180 bytes, each scored after the byte tokenizer's BOS.
        assertThat(perplexity).containsPattern("perplexity +[0-9]+%").contains("180/180").contains("bits per byte");
        String trace = onTerminal("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                dir.resolve("trace.json").toString());
        assertThat(trace).containsPattern("trace +[0-9]+%").contains("180/180");
        assertThat(dir.resolve("trace.json")).exists();
    }

    /**
     * {@code bench} on a large model spent minutes in its warm-up without a word. It now says which part it is in,
     * on one line rewritten between its timed parts (no thread redraws it while a part is timed), cleared at the end.
     */
    @Test
    void benchSaysWhichPartItIsIn() throws Exception {
        assumeTrue(Files.isExecutable(SCRIPT), "script(1) is not available");
        String shown = onTerminal("bench", "--synthetic", "tiny", "--model", dir.resolve("tiny").toString(),
                "--prompt-tokens", "4", "--decode-tokens", "2", "--runs", "2", "--warmup-tokens", "2",
                "--warmup-runs", "1", "--bandwidth-mib", "8");
        assertThat(shown).contains("\rbench: measuring memory bandwidth\u001b[K", "\rbench: loading\u001b[K",
                "\rbench: warm-up: 2 tokens\u001b[K", "\rbench: warm-up run 1 of at most 1 (until the JIT settles)",
                "\rbench: run 1 of 2\u001b[K", "\rbench: run 2 of 2\u001b[K");
        // Cleared before the results: the table starts on a clean line.
        assertThat(shown).containsPattern("\r\u001b\\[K[\\s\\S]*decode +[0-9.]+ tokens/s");
    }

    /** {@code eplb bench} took 18 s on DeepSeek-V3's shape without a word; it now says which round it is in. */
    @Test
    void eplbBenchSaysWhichRoundItIsIn() throws Exception {
        assumeTrue(Files.isExecutable(SCRIPT), "script(1) is not available");
        String shown = onTerminal("eplb", "bench", "--shape", "adrs", "--algorithms", "moelab,deepseek",
                "--rounds", "2", "--round-ms", "20", "--warmup-ms", "20");
        assertThat(shown).contains("\replb bench: warming up moelab\u001b[K",
                "\replb bench: warming up deepseek\u001b[K", "\replb bench: round 1 of 2\u001b[K",
                "\replb bench: round 2 of 2\u001b[K");
        assertThat(shown).containsPattern("\r\u001b\\[K[\\s\\S]*algorithm +median_us");
    }

    /** What the terminal showed while the CLI ran with {@code args}; checks that it exited with 0. */
    private String onTerminal(String... args) throws Exception {
        Path log = Files.createTempFile(dir, "terminal", ".log");
        String java = ProcessHandle.current().info().command().orElseThrow();
        String command = Stream.concat(Stream.of(java, "--add-modules=jdk.incubator.vector",
                        "--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true", "-cp",
                        System.getProperty("java.class.path"), Main.class.getName()), Stream.of(args))
                .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        Process terminal = new ProcessBuilder(SCRIPT.toString(), "-q", "-e", "-c", command, "/dev/null")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(terminal.waitFor(120, TimeUnit.SECONDS)).isTrue();
            String shown = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(terminal.exitValue()).as(shown).isZero();
            return shown;
        } finally {
            terminal.descendants().forEach(ProcessHandle::destroyForcibly);
            terminal.destroyForcibly();
        }
    }
}
