package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C on a terminal, where the progress bar shows: the CLI runs in a child JVM on a pseudo-terminal of
 * script(1), which the tests of redirected runs (no bar) do not reach.
 */
@EnabledOnOs(OS.LINUX)
class CtrlCOnTerminalTest {
    private static final Path SCRIPT = Path.of("/usr/bin/script");

    @TempDir
    Path dir;

    /**
     * The progress bar's terminal library put the operating system's default action back on SIGINT while a bar
     * showed: Ctrl-C then killed the JVM outright, its shutdown hooks unrun, and {@code eplb generate} left its
     * hidden temporary file (tens of MB a second) beside the output. And the bar's line was left unended, the
     * shell's prompt drawn after it.
     */
    @Test
    void ctrlCWhileTheProgressBarShowsLeavesNoTemporaryFile() throws Exception {
        assumeTrue(Files.isExecutable(SCRIPT), "script(1) is not available");
        Path out = Files.createDirectory(dir.resolve("out"));
        Path log = dir.resolve("terminal.log");
        String java = ProcessHandle.current().info().command().orElseThrow();
        String command = Stream.of(java, "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"),
                        Main.class.getName(), "eplb", "generate", "--layers", "58", "--experts", "256", "--steps",
                        "1000000", "--seed", "1", "--output", out.resolve("trace.json").toString())
                .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        Process terminal = new ProcessBuilder(SCRIPT.toString(), "-q", "-e", "-c", command, "/dev/null")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            // Writing, and the bar drawn (its terminal open) at least once.
            for (int i = 0; i < 1500 && terminal.isAlive()
                    && (namesIn(out).isEmpty() || !Files.readString(log).contains("generate")); i++) {
                Thread.sleep(20);
            }
            assertThat(namesIn(out)).as(Files.readString(log)).singleElement().asString()
                    .matches("\\.trace\\.json\\.[0-9a-f]+\\.tmp");
            ProcessHandle jvm = terminal.descendants()
                    .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                    .findFirst().orElseThrow();
            assertThat(new ProcessBuilder("kill", "-INT", Long.toString(jvm.pid())).start().waitFor()).isZero();
            assertThat(terminal.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(namesIn(out)).as(Files.readString(log, StandardCharsets.UTF_8)).isEmpty();
            assertThat(terminal.exitValue()).isEqualTo(130);
            // The bar's line is ended (cleared and a new line begun): the shell's prompt is not drawn after it.
            String shown = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(shown.substring(shown.lastIndexOf('\r') + 1)).as(shown).isBlank().endsWith("\n");
        } finally {
            terminal.descendants().forEach(ProcessHandle::destroyForcibly);
            terminal.destroyForcibly();
        }
    }

    private static List<String> namesIn(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
