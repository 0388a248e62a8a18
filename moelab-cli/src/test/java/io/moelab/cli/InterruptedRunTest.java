package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A command that meets the JVM's end (Ctrl-C, {@code kill}) before its output is in place. */
class InterruptedRunTest {
    @TempDir
    Path dir;

    /**
     * The shutdown hook refuses to put a finished file in place: the command then failed, and printed that refusal
     * as an {@code error:} line ("not written: the program is ending") under the user's Ctrl-C, as if the input
     * were at fault.
     */
    @Test
    void aCommandCutShortBySignalPrintsNoErrorAndWritesNothing() throws Exception {
        Path out = Files.createDirectory(dir.resolve("out"));
        Path stdout = dir.resolve("stdout.txt");
        Path stderr = dir.resolve("stderr.txt");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"),
                EndingCli.class.getName(), "eplb", "generate", "--layers", "2", "--experts", "4", "--steps", "3",
                "--seed", "1", "--output", out.resolve("trace.json").toString())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        assertThat(Files.readAllLines(stdout, StandardCharsets.UTF_8)).as(err).contains("exit 130");
        assertThat(err).doesNotContain("error:");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.toList()).isEqualTo(List.of());
        }
    }
}
