package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> namesIn(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesTheTargetAndNothingElse() throws IOException {
        Path target = dir.resolve("out.bin");
        byte[] content = {0, 1, 2, (byte) 0xff, '\n'};
        AtomicFiles.write(target, out -> out.write(content));
        assertThat(target).hasBinaryContent(content);
        assertThat(namesIn(dir)).containsExactly("out.bin");
    }

    @Test
    void createsMissingParentDirectories() throws IOException {
        Path target = dir.resolve("a/b/c/out.txt");
        AtomicFiles.writeString(target, "x");
        assertThat(target).hasContent("x");
        assertThat(namesIn(target.getParent())).containsExactly("out.txt");
    }

    @Test
    void writeStringIsUtf8() throws IOException {
        Path target = dir.resolve("u.txt");
        AtomicFiles.writeString(target, "é€😀");
        assertThat(Files.readAllBytes(target)).isEqualTo("é€😀".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void emptyContentMakesAnEmptyFile() throws IOException {
        Path target = dir.resolve("empty");
        AtomicFiles.write(target, out -> { });
        assertThat(target).exists().isEmptyFile();
    }

    @Test
    void contentLargerThanTheBufferIsWrittenWhole() throws IOException {
        byte[] content = new byte[(1 << 16) * 3 + 17];
        new Random(1).nextBytes(content);
        Path target = dir.resolve("big.bin");
        // Mixed single-byte and bulk writes, as the format writers do.
        AtomicFiles.write(target, out -> {
            out.write(content[0]);
            out.write(content, 1, 1000);
            out.write(content, 1001, content.length - 1001);
        });
        assertThat(target).hasBinaryContent(content);
    }

    @Test
    void replacesAnExistingTarget() throws IOException {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "a much longer first version");
        AtomicFiles.writeString(target, "second");
        assertThat(target).hasContent("second"); // replaced whole, not overwritten in place
        assertThat(namesIn(dir)).containsExactly("out.txt");
    }

    @Test
    void permissionsFollowTheUmaskLikeAnOrdinaryFile() throws IOException {
        // Files.createTempFile would make the file owner-only; the target must look like any file written here.
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path ordinary = Files.writeString(dir.resolve("ordinary.txt"), "x");
        Path target = dir.resolve("atomic.txt");
        AtomicFiles.writeString(target, "x");
        assertThat(Files.getPosixFilePermissions(target)).isEqualTo(Files.getPosixFilePermissions(ordinary));
    }

    @Test
    void failingContentLeavesNoTargetAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("fresh.txt");
        IOException failure = new IOException("disk full");
        Throwable thrown = catchThrowable(() -> AtomicFiles.write(target, out -> {
            out.write(new byte[100_000]); // some of it reaches the temporary file before the failure
            throw failure;
        }));
        assertThat(thrown).isSameAs(failure);
        assertThat(target).doesNotExist();
        assertThat(namesIn(dir)).isEmpty();
    }

    @Test
    void uncheckedFailuresAlsoCleanUp() throws IOException {
        Path target = dir.resolve("fresh.txt");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write('x');
            throw new UncheckedIOException(new IOException("boom"));
        })).isInstanceOf(UncheckedIOException.class).hasRootCauseMessage("boom");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            throw new IllegalStateException("bug");
        })).isInstanceOf(IllegalStateException.class).hasMessage("bug");
        assertThat(namesIn(dir)).isEmpty();
    }

    @Test
    void failingContentLeavesTheExistingTargetIntact() throws IOException {
        Path target = dir.resolve("out.txt");
        AtomicFiles.writeString(target, "old");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        })).isInstanceOf(IOException.class).hasMessage("disk full");
        assertThat(target).hasContent("old");
        assertThat(namesIn(dir)).containsExactly("out.txt");
    }

    @Test
    void aTargetThatIsADirectoryFailsWithoutLeftovers() throws IOException {
        Path target = Files.createDirectory(dir.resolve("taken"));
        Files.writeString(target.resolve("inside.txt"), "keep");
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "x")).isInstanceOf(IOException.class);
        assertThat(target.resolve("inside.txt")).hasContent("keep");
        assertThat(namesIn(dir)).containsExactly("taken");
    }

    @Test
    void fileSystemRefusalsNameTheTargetNotTheTemporaryFile() throws IOException {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        Path under = file.resolve("out.json");
        assertThatThrownBy(() -> AtomicFiles.writeString(under, "x"))
                .isInstanceOf(java.nio.file.FileSystemException.class)
                .hasMessage(under + ": cannot write: " + file + " is a file, not a directory");
        Path target = Files.createDirectory(dir.resolve("taken"));
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "x"))
                .hasMessageStartingWith(target + ": cannot write: ").hasMessageNotContaining(".tmp");
    }
}
