package io.moelab.evolve.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deleting a candidate's working directory, whatever the candidate left in it. */
class DirectoriesTest {

    /**
     * A candidate runs as the user and can take its own rights away from what it made (chmod a-w, chmod 000); the
     * work directory's delete then failed with 'access denied', which ended the whole run (exit 1) and every
     * resume of it at the same iteration. Root ignores these rights, so the test is skipped for root.
     */
    @Test
    void directoriesACandidateMadeUnwritableOrUnreadableAreDeletedToo(@TempDir Path tmp) throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path work = tmp.resolve("work");
        Files.createDirectories(work.resolve("readonly/inner"));
        Files.writeString(work.resolve("readonly/inner/f.txt"), "x");
        Files.createDirectories(work.resolve("locked/deeper"));
        Files.writeString(work.resolve("locked/deeper/g.txt"), "y");
        Files.setPosixFilePermissions(work.resolve("readonly"), PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.setPosixFilePermissions(work.resolve("locked/deeper"), PosixFilePermissions.fromString("---------"));
        Files.setPosixFilePermissions(work.resolve("locked"), PosixFilePermissions.fromString("---------"));
        try {
            assumeFalse(Files.isReadable(work.resolve("locked")), "file permissions are not enforced for this user");
            Directories.deleteTree(work);
            assertThat(work).doesNotExist();
        } finally {
            // Whatever happened, @TempDir must be able to clean up.
            restore(work.resolve("readonly"));
            restore(work.resolve("locked"));
            restore(work.resolve("locked/deeper"));
        }
    }

    /** Rights are given back only inside the tree: a link in it to a directory elsewhere is not followed. */
    @Test
    void aLinkToADirectoryOutsideIsRemovedWithoutTouchingItsTarget(@TempDir Path tmp) throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("keep.txt"), "keep");
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("r-x------"));
        Path work = Files.createDirectories(tmp.resolve("work/locked"));
        Files.createSymbolicLink(work.resolve("link"), outside);
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("r-x------"));
        try {
            Directories.deleteTree(tmp.resolve("work"));
            assertThat(tmp.resolve("work")).doesNotExist();
            assertThat(outside.resolve("keep.txt")).hasContent("keep");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outside))).isEqualTo("r-x------");
        } finally {
            restore(outside);
            restore(work);
        }
    }

    private static void restore(Path dir) {
        try {
            if (Files.isDirectory(dir)) {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
        } catch (IOException e) {
            // gone already
        }
    }
}
