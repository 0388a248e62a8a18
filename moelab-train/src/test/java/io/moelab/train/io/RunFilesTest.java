package io.moelab.train.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run's atomic writes: the file whole or as it was, and no temporary file either way. */
class RunFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesTheTextAndLeavesNoTemporaryFile() throws Exception {
        Path file = dir.resolve("summary.json");
        Files.writeString(file, "old");
        RunFiles.writeAtomically(file, "new\n");
        assertThat(file).hasContent("new");
        assertThat(names()).containsExactly("summary.json");
    }

    /**
     * A rename that fails (a directory in the file's place) left the hidden {@code .NAME.tmp} beside it, holding
     * the whole text, in the run's directory.
     */
    @Test
    void aFailedWriteLeavesNoTemporaryFile() throws Exception {
        Path taken = Files.createDirectory(dir.resolve("humor.txt"));
        Files.writeString(taken.resolve("mine"), "mine");
        assertThatThrownBy(() -> RunFiles.writeAtomically(taken, "held-out text\n")).isInstanceOf(IOException.class);
        assertThat(names()).containsExactly("humor.txt");
        assertThat(taken.resolve("mine")).hasContent("mine");
    }

    private Stream<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).toList().stream();
        }
    }
}
