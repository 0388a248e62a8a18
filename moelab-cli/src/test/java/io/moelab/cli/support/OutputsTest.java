package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputsTest {
    @TempDir
    Path dir;

    @Test
    void standardOutputIsDashOrStdoutItselfAndNoOtherFile() throws Exception {
        assertThat(Outputs.isStdout(Path.of("-"))).isTrue();
        assertThat(Outputs.isStdout(Path.of("./-"))).isFalse(); // the way to name a file called -
        assertThat(Outputs.isStdout(null)).isFalse();
        assertThat(Outputs.isStdout(Files.writeString(dir.resolve("f.json"), "{}"))).isFalse();
        assertThat(Outputs.isStdout(dir.resolve("missing.json"))).isFalse();
        assertThat(Outputs.name(Path.of("-"))).isEqualTo("standard output");
        assertThat(Outputs.name(Path.of("./-"))).isEqualTo("./-");
    }

    /**
     * The system's own names of this process's stdout are standard output too, compared as files (tried where the
     * system has them: Linux). A check that never compared, or compared the wrong way round, passed the case above.
     */
    @Test
    void theSystemsNamesOfStdoutAreStandardOutput() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/fd/1")), "no /proc");
        assertThat(Outputs.isStdout(Path.of("/proc/self/fd/1"))).isTrue();
        assertThat(Outputs.isStdout(Path.of("/dev/stdout"))).isTrue();
    }

    /** Printed through a buffered writer, standard output's text is there once print returns (flushed). */
    @Test
    void aTextOutputPrintedToAStreamIsFlushed() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (Outputs.TextOutput text = Outputs.text(Path.of("-"))) {
            Files.writeString(text.file(), "{\"a\": 1}\n");
            text.print(new java.io.PrintWriter(bytes, false, java.nio.charset.StandardCharsets.UTF_8));
        }
        assertThat(bytes.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"a\": 1}\n");
    }

    /**
     * The one- and two-output checks are the map's: a directory in a file's place, and two options naming one file,
     * are refused; a model directory's inputs are its regular files, not its subdirectories.
     */
    @Test
    void theShortChecksRefuseWhatTheMapsDoes() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        assertThatThrownBy(() -> Outputs.check("--output", sub))
                .isInstanceOf(io.moelab.eplb.io.OutputPathException.class).hasMessageContaining(sub.toString());
        Path file = dir.resolve("same.json");
        assertThatThrownBy(() -> Outputs.check("--output", file, "--plot", file))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("--plot: names the same file as --output (" + file + "); give each output its own file");
        Outputs.check("--output", file, "--plot", null);
        Path config = Files.writeString(dir.resolve("config.json"), "{}");
        assertThat(Outputs.filesIn(dir)).containsExactly(config);
        assertThat(Outputs.filesIn(config)).isEmpty();
    }

    @Test
    void twoOutputsCannotBothBeStandardOutput() throws Exception {
        Map<String, Path> outputs = new LinkedHashMap<>();
        outputs.put("--report", Path.of("-"));
        outputs.put("--placement", dir.resolve("p.json"));
        Outputs.check(outputs); // one is fine, and its directory (the working one) is not checked as a file's
        outputs.put("--summary", Path.of("-"));
        assertThatThrownBy(() -> Outputs.check(outputs)).isInstanceOf(InvalidInputException.class)
                .hasMessage("--summary: names standard output (-) as --report does; give each output its own file");
    }

    @Test
    void aTextOutputToAFileIsThatFileAndPrintsNothing() throws Exception {
        Path file = dir.resolve("out.json");
        java.io.StringWriter printed = new java.io.StringWriter();
        try (Outputs.TextOutput text = Outputs.text(file)) {
            assertThat(text.file()).isEqualTo(file);
            assertThat(text.toStdout()).isFalse();
            Files.writeString(text.file(), "{}\n");
            text.print(new java.io.PrintWriter(printed));
        }
        assertThat(printed.toString()).isEmpty();
        assertThat(file).hasContent("{}");
    }

    @Test
    void aTextOutputToStdoutPrintsItsTemporaryFileAndDeletesIt() throws Exception {
        java.io.StringWriter printed = new java.io.StringWriter();
        Path temporary;
        try (Outputs.TextOutput text = Outputs.text(Path.of("-"))) {
            temporary = text.file();
            assertThat(text.toStdout()).isTrue();
            assertThat(temporary.toString()).isNotEqualTo("-");
            Files.writeString(temporary, "{\"é\": 1}\n");
            text.print(new java.io.PrintWriter(printed));
        }
        assertThat(printed.toString()).isEqualTo("{\"é\": 1}\n");
        assertThat(temporary).doesNotExist();
        assertThat(temporary.getParent()).doesNotExist();
    }

    /**
     * An output directory given as an existing file names the option and the path as given ({@code --out ok.json:
     * is a file, not a directory}), not a file inside it and the file's absolute path.
     */
    @Test
    void anOutputDirectoryThatIsAFileNamesTheOption() throws Exception {
        Path file = Files.writeString(dir.resolve("ok.json"), "{}");
        assertThatThrownBy(() -> Outputs.checkDirectory("--out", file, "RESULTS.md"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("--out " + file + ": is a file, not a directory");
        Path under = file.resolve("sub/deeper");
        assertThatThrownBy(() -> Outputs.checkDirectory("--dir", under, "a.java", "config.yaml"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("--dir " + under + ": " + file + " is a file, not a directory");
        assertThat(file).hasContent("{}");
        // Standard output holds no files: refused by the check itself, whatever the command checked before.
        assertThatThrownBy(() -> Outputs.checkDirectory("--out", Path.of("-"), "summary.json"))
                .isInstanceOf(InvalidInputException.class).hasMessage("--out: standard output (-) takes text only, "
                        + "not a directory of files; name a directory (./- for one named -)");
        Outputs.checkDirectory("--out", dir.resolve("new/sub"), "summary.json"); // made when written: fine
        Outputs.checkDirectory("--out", dir, "summary.json");
    }
}
