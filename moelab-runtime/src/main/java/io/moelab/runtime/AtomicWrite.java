package io.moelab.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file all-or-nothing: into a hidden temporary file beside it ({@code .NAME.<hex>.tmp}), forced to the disk,
 * then renamed over it (atomically where the file system allows). The temporary file is deleted when the write fails,
 * and by a shutdown hook when the JVM ends mid-write (Ctrl-C, {@code kill}, an exit on another thread): such a file,
 * as large as what was written so far, was left beside its target. A JVM killed with SIGKILL runs no hook.
 * moelab-eplb's {@code AtomicFiles} does the same for its files; the runtime depends on no other module.
 */
public final class AtomicWrite {
    /** Temporary files being written and not yet renamed: the shutdown hook deletes them. */
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(AtomicWrite::deletePending,
                    "moelab-runtime-temporary-files"));
        } catch (IllegalStateException e) {
            // First used while the JVM already shuts down: nothing to register for.
        }
    }

    /** What {@link #write} writes. */
    @FunctionalInterface
    public interface Contents {
        /** Writes everything to {@code channel}; the caller forces and closes it. */
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicWrite() {
    }

    /**
     * Writes {@code target} through a new hidden temporary file beside it, forced to the disk and renamed over it once
     * complete.
     *
     * @throws IOException if writing or renaming fails; the temporary file is then deleted
     */
    public static void write(Path target, Contents contents) throws IOException {
        Path to = target.toAbsolutePath();
        // Not Files.createTempFile: its file is owner-only, and the rename would keep that for the checkpoint.
        Path tmp = to.resolveSibling("." + to.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current()
                .nextLong()) + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                PENDING.add(tmp);
                contents.writeTo(channel);
                // On the disk before the rename makes it the file: else a crash soon after could leave the target
                // renamed but empty or partial.
                channel.force(true);
            }
            // Complete: from here the rename decides, not the hook, which could only turn a whole new file into the
            // old one.
            PENDING.remove(tmp);
            try {
                Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            PENDING.remove(tmp);
            try {
                Files.deleteIfExists(tmp); // gone after the move; left only by a failure
            } catch (IOException ignored) {
                // Best effort: the failure being reported matters more than a stray temporary file.
            }
        }
    }

    /** The shutdown hook. Threads still writing are not waited for: their files are deleted under them. */
    private static void deletePending() {
        for (Path tmp : PENDING) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException ignored) {
                // Best effort: the JVM is ending.
            }
        }
    }
}
