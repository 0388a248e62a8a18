package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a run's directory lock leaves behind when the run is ended by a signal. */
class DirectoryLockTest {
    @TempDir
    Path dir;

    /** SIGTERM (what Ctrl-C's SIGINT also does: the JVM runs its shutdown hooks) deletes the hidden lock file. */
    @Test
    void aRunEndedBySigtermLeavesNoLockFile() throws Exception {
        Process child = start();
        assertThat(dir.resolve(DirectoryLock.FILE)).exists();
        child.destroy(); // SIGTERM
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(dir.resolve(DirectoryLock.FILE)).doesNotExist();
        assertThat(dir).isEmptyDirectory();
    }

    /** SIGKILL runs no hook: the file stays, unlocked, and the next lock takes it over. */
    @Test
    void aRunKilledLeavesItsFileUnlockedForTheNext() throws Exception {
        Process child = start();
        child.destroyForcibly();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(dir.resolve(DirectoryLock.FILE)).exists();
        try (DirectoryLock lock = DirectoryLock.acquire("--out", dir)) {
            assertThat(Files.readString(dir.resolve(DirectoryLock.FILE)).strip())
                    .isEqualTo(Long.toString(ProcessHandle.current().pid()));
        }
        assertThat(dir).isEmptyDirectory();
    }

    private Process start() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                Holder.class.getName(), dir.toString())).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).as("the child's first line").isEqualTo("locked");
        return p;
    }

    /** The child: locks {@code args[0]} with {@link DirectoryLock}, says so, and waits to be ended. */
    public static final class Holder {
        private Holder() {
        }

        /** Entry point of the child JVM. */
        public static void main(String[] args) throws Exception {
            DirectoryLock.acquire("--out", Path.of(args[0]));
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
