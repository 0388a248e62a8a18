package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When an output directory is locked: at once if it exists, else once {@link OutputLock#ensureLocked} makes it; a
 * second lock of it is refused meanwhile, and closing (even twice, as {@code evolve} closes a run directory it
 * removes and then the lock again) frees it.
 */
class OutputLockTest {
    @TempDir
    Path dir;

    private String inUse(Path out) {
        return "--out " + out + ": another moelab run is using it (pid " + ProcessHandle.current().pid() + ")";
    }

    @Test
    void aDirectoryThatExistsIsLockedAtOnce() throws Exception {
        try (OutputLock lock = OutputLock.start("--out", dir)) {
            assertThat(dir.resolve(DirectoryLock.FILE)).exists();
            assertThatThrownBy(() -> DirectoryLock.acquire("--out", dir)).isInstanceOf(InvalidInputException.class)
                    .hasMessage(inUse(dir));
            lock.ensureLocked(); // held already: not taken a second time, which this JVM would refuse
            assertThat(dir.resolve(DirectoryLock.FILE)).exists();
        }
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void aMissingDirectoryIsMadeAndLockedOnlyWhenAskedTo() throws Exception {
        Path out = dir.resolve("new");
        try (OutputLock lock = OutputLock.start("--out", out)) {
            assertThat(out).doesNotExist();
            lock.ensureLocked();
            assertThat(out.resolve(DirectoryLock.FILE)).exists();
            assertThatThrownBy(() -> DirectoryLock.acquire("--out", out)).isInstanceOf(InvalidInputException.class)
                    .hasMessage(inUse(out));
            lock.ensureLocked();
            lock.close();
            assertThat(out).isEmptyDirectory();
            try (DirectoryLock again = DirectoryLock.acquire("--out", out)) {
                assertThat(out.resolve(DirectoryLock.FILE)).exists();
            }
            Files.delete(out); // as evolve removes a run directory it left unused, before the lock closes again
        }
        assertThat(out).doesNotExist();
    }

    @Test
    void aLockNeverTakenLeavesNothing() throws Exception {
        Path out = dir.resolve("never");
        OutputLock lock = OutputLock.start("--out", out);
        lock.close();
        lock.close();
        assertThat(out).doesNotExist();
    }

    @Test
    void aDirectoryInUseIsRefusedAtTheStart() throws Exception {
        try (DirectoryLock held = DirectoryLock.acquire("--out", dir)) {
            assertThatThrownBy(() -> OutputLock.start("--out", dir)).isInstanceOf(InvalidInputException.class)
                    .hasMessage(inUse(dir));
        }
        assertThat(dir).isEmptyDirectory();
    }
}
