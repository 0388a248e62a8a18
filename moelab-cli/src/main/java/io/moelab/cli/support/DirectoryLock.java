package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Claims a run directory for one process: a command that writes into (or resumes from) a directory over minutes
 * takes this lock first, and a second run on the same directory at the same time is refused up front rather than
 * corrupting the first (two {@code evolve} runs on one {@code --out} deleted each other's work files).
 *
 * <p>An operating-system lock ({@link FileChannel#tryLock}) on {@value #FILE} inside the directory: the system
 * releases it when the process ends however it ends, so a killed run leaves at most an unlocked file that the next
 * run takes over, never a stale lock. The file holds the owner's pid (for the message) and is deleted on
 * {@link #close}. Since a file may be deleted while locked, whoever locks it checks that the file it locked still
 * stands at its path (the same file key before opening and after locking) and otherwise tries again.
 *
 * <p>The holder never opens the file a second time: on POSIX systems closing any descriptor of a file releases
 * the process's locks on it. For the same reason a second lock of one directory in this JVM is refused from
 * {@link #HELD}, without opening the file.
 */
public final class DirectoryLock implements AutoCloseable {
    /** The lock file's name inside the directory: hidden, so that listings of a run do not show it. */
    public static final String FILE = ".moelab.lock";

    /** Attempts when the file is replaced between opening and locking it: only ever a second one in practice. */
    private static final int ATTEMPTS = 20;
    /** The lock files this JVM holds (real paths): commands run in-process, as the tests run them. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
    /** The locks this JVM holds: their files are deleted by the shutdown hook. */
    private static final Set<DirectoryLock> OPEN = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.forEach(DirectoryLock::deleteOnExit),
                    "moelab-directory-locks"));
        } catch (IllegalStateException e) {
            // First used while the JVM already shuts down: no lock will be taken.
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final Object key;
    private boolean closed;

    private DirectoryLock(Path file, FileChannel channel, Object key) {
        this.file = file;
        this.channel = channel;
        this.key = key;
    }

    /**
     * Locks {@code dir}, which must exist.
     *
     * @param option the directory's option, for the message ({@code --out})
     * @throws InvalidInputException {@code OPTION DIR: another moelab run is using it (pid N)} while another process
     *                               (or another command in this one) holds it
     * @throws IOException           if the lock file cannot be written
     */
    public static DirectoryLock acquire(String option, Path dir) throws IOException {
        Path file = dir.toRealPath().resolve(FILE);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            if (!HELD.add(file)) {
                // Not read: opening the file again here would release the holder's lock.
                throw new InvalidInputException(option + " " + dir, "another moelab run is using it (pid "
                        + ProcessHandle.current().pid() + ")");
            }
            DirectoryLock lock = null;
            try {
                lock = tryLock(option, dir, file);
            } finally {
                if (lock == null) {
                    HELD.remove(file);
                }
            }
            if (lock != null) {
                OPEN.add(lock);
                return lock;
            }
        }
        throw new IOException(file + ": cannot be locked (replaced " + ATTEMPTS + " times while locking it)");
    }

    /** One attempt: the lock, or null when the file locked was no longer the one at its path. */
    private static DirectoryLock tryLock(String option, Path dir, Path file) throws IOException {
        Files.newByteChannel(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE).close(); // if missing
        Object before = key(file);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return null; // deleted by its owner as it finished: made again on the next attempt
        }
        try {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                throw inUse(option, dir, file);
            }
            Object after = key(file);
            if (before == null || !before.equals(after)) {
                // The file locked was deleted (its owner finished) while this process opened it: lock the new one.
                channel.close();
                return null;
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                    .getBytes(StandardCharsets.UTF_8)), 0);
            return new DirectoryLock(file, channel, after);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * The file's identity on disk (device and inode where the system has them, else its path), without opening it;
     * null when it is missing.
     */
    private static Object key(Path file) throws IOException {
        try {
            Object key = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return key != null ? key : file; // no file keys (Windows): the path stands in, which locks hold there
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static InvalidInputException inUse(String option, Path dir, Path file) {
        return new InvalidInputException(option + " " + dir, "another moelab run is using it" + owner(file));
    }

    /** {@code " (pid N)"} as the holder wrote it in the file, or nothing when it cannot be told (not written yet). */
    private static String owner(Path file) {
        try {
            String pid = Files.readString(file, StandardCharsets.UTF_8).strip();
            return pid.matches("[0-9]{1,19}") ? " (pid " + pid + ")" : "";
        } catch (IOException | RuntimeException e) {
            return ""; // gone, not text, or a lock that forbids reading (Windows): no pid to name
        }
    }

    /**
     * A run ended by Ctrl-C or SIGTERM while it held the lock: its file is deleted (while it still is this lock's), so
     * the directory is left as the run would have left it; the lock itself ends with the process. (SIGKILL runs no
     * hook: the file stays, unlocked, and the next run takes it over.)
     */
    private void deleteOnExit() {
        try {
            deleteIfStillOurs();
        } catch (IOException | RuntimeException e) {
            // The JVM is ending: a file that cannot be deleted stays, unlocked, as after SIGKILL.
        }
    }

    /**
     * Deletes the lock file (while it still is this lock's) and releases the lock; does nothing when closed already.
     * Called before a command removes a directory it created and left empty, so that the file does not keep it.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        try {
            deleteIfStillOurs();
        } finally {
            try {
                channel.close(); // releases the lock
            } finally {
                HELD.remove(file);
            }
        }
    }

    /**
     * Deletes the lock file while it still is this lock's: deleted while locked, so a process that opened it meanwhile
     * finds another file (or none) at its path.
     */
    private void deleteIfStillOurs() throws IOException {
        if (key.equals(key(file))) {
            Files.deleteIfExists(file);
        }
    }
}
