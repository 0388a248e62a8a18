package io.moelab.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Writes a file all-or-nothing: into a hidden temporary file beside it ({@code .NAME.<hex>.tmp}), forced to the disk,
 * then renamed over it (atomically where the file system allows). The temporary file is deleted when the write fails,
 * and by a shutdown hook when the JVM ends mid-write (Ctrl-C, {@code kill}, an exit on another thread): such a file,
 * as large as what was written so far, was left beside its target. A rename under way finishes before the hook runs,
 * and none starts after it. A JVM killed with SIGKILL runs no hook.
 * moelab-eplb's {@code AtomicFiles} does the same for its files; the runtime depends on no other module.
 */
public final class AtomicWrite {
    /** Temporary files being written and not yet renamed: the shutdown hook deletes them. */
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();
    /**
     * Held by a rename and by the shutdown hook: the hook runs either before a rename, which then deletes its temporary
     * file instead, or after it. A temporary file unlisted just before its rename was forgotten by a hook running
     * then, and left behind, whole, when the JVM ended before the rename.
     */
    private static final ReentrantLock RENAMES = new ReentrantLock();
    /** How long the hook waits for a rename under way: it moves a name, not bytes, so this is never reached. */
    private static final long HOOK_WAIT_SECONDS = 5;
    /** Set by the shutdown hook: from then on no file is put in place. */
    private static volatile boolean closing;
    /** For tests: run while the rename lock is held, just before the temporary file is renamed. */
    static volatile Runnable beforeRename;
    /** For tests: run while the rename lock is held, just after a temporary file is created. */
    static volatile Runnable afterCreate;
    /** Directories being written by {@link #directory} and not yet renamed: the shutdown hook deletes them. */
    private static final Set<Pending> PENDING_DIRECTORIES = ConcurrentHashMap.newKeySet();

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
        /**
         * Writes everything to {@code channel}; the caller forces and closes it.
         *
         * @throws IOException if writing fails; {@link AtomicWrite#write} then deletes the temporary file and
         *                     passes it on
         */
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
            try (FileChannel channel = create(to, tmp)) {
                contents.writeTo(channel);
                // On the disk before the rename makes it the file: else a crash soon after could leave the target
                // renamed but empty or partial.
                channel.force(true);
            }
            // Still pending while it moves: a hook that could not wait for the lock deletes it, leaving the old file.
            RENAMES.lock();
            try {
                if (closing) {
                    throw new FileSystemException(to.toString(), null, "not written: the program is ending");
                }
                Runnable test = beforeRename;
                if (test != null) {
                    test.run();
                }
                try {
                    Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING);
                }
                PENDING.remove(tmp);
            } finally {
                RENAMES.unlock();
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

    /**
     * Creates {@code tmp} and lists it as pending, both under the hook's lock: a hook running between the two forgot a
     * file created just before it, which the JVM then left behind, as large as what was written when it ended.
     */
    private static FileChannel create(Path target, Path tmp) throws IOException {
        RENAMES.lock();
        try {
            if (closing) {
                throw new FileSystemException(target.toString(), null, "not written: the program is ending");
            }
            FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            PENDING.add(tmp);
            Runnable test = afterCreate;
            if (test != null) {
                test.run();
            }
            return channel;
        } finally {
            RENAMES.unlock();
        }
    }

    /** What {@link #directory} writes. */
    @FunctionalInterface
    public interface DirectoryContents {
        /**
         * Writes everything into {@code dir}, a new empty directory.
         *
         * @throws IOException if writing fails; {@link AtomicWrite#directory} then deletes the directory and
         *                     passes it on
         */
        void writeTo(Path dir) throws IOException;
    }

    /**
     * Makes the new directory {@code target} all-or-nothing: its files are written into a new hidden directory beside
     * it ({@code .NAME.<hex>.tmp}, its missing parents made first), which is renamed to {@code target} once complete.
     * On a failure, or when the JVM ends mid-write, the hidden directory and the parents made for it are deleted: an
     * interrupted write left {@code target} behind, empty or partial. A JVM killed with SIGKILL runs no hook.
     *
     * @throws IOException if writing or renaming fails (also when {@code target} appeared meanwhile, not empty)
     */
    public static void directory(Path target, DirectoryContents contents) throws IOException {
        Path to = target.toAbsolutePath();
        List<Path> made = new ArrayList<>();
        for (Path p = to.getParent(); p != null && Files.notExists(p); p = p.getParent()) {
            made.add(p);
        }
        Path tmp = to.resolveSibling("." + to.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current()
                .nextLong()) + ".tmp");
        Pending pending = new Pending(tmp, List.copyOf(made));
        PENDING_DIRECTORIES.add(pending);
        boolean done = false;
        try {
            Files.createDirectories(tmp);
            contents.writeTo(tmp);
            try (FileChannel d = FileChannel.open(tmp, StandardOpenOption.READ)) {
                d.force(true); // its entries on the disk before the rename makes it the directory
            } catch (IOException ignored) {
                // Not every file system opens a directory: its files are forced, which matters most.
            }
            // Under the hook's lock, as a file's rename: still pending while it moves, none after the hook has run.
            RENAMES.lock();
            try {
                if (closing) {
                    throw new FileSystemException(to.toString(), null, "not written: the program is ending");
                }
                Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE); // same parent: same file system
                PENDING_DIRECTORIES.remove(pending);
                done = true;
            } finally {
                RENAMES.unlock();
            }
        } finally {
            PENDING_DIRECTORIES.remove(pending);
            if (!done) {
                pending.delete();
            }
        }
    }

    /** A directory being written by {@link #directory}, and the parents made for it (deepest first). */
    private record Pending(Path dir, List<Path> madeParents) {
        /** Deletes the directory with everything in it, then the parents made for it where empty; best effort. */
        void delete() {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException | RuntimeException ignored) {
                // Gone already, or undeletable: nothing more to do.
            }
            for (Path p : madeParents) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException | RuntimeException ignored) {
                    break; // not empty (something else was written there): it and its parents stay
                }
            }
        }
    }

    /**
     * The shutdown hook: waits for a rename under way, stops later ones, and deletes the temporary files and
     * directories not renamed.
     * Threads still writing are not waited for: their files are deleted under them. Package-private for tests, which
     * undo it with {@link #reopen}.
     */
    static void deletePending() {
        boolean locked = false;
        try {
            locked = RENAMES.tryLock(HOOK_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // ending anyway: delete what is pending without waiting
        }
        try {
            closing = true;
            for (Path tmp : PENDING) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException | RuntimeException ignored) {
                    // Best effort: the JVM is ending.
                }
            }
            PENDING_DIRECTORIES.forEach(Pending::delete);
        } finally {
            if (locked) {
                RENAMES.unlock();
            }
        }
    }

    /** For tests: undoes {@link #deletePending}'s stop, so that files are put in place again. */
    static void reopen() {
        closing = false;
    }
}
