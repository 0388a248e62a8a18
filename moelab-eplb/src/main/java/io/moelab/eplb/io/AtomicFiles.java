package io.moelab.eplb.io;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes files all-or-nothing: into a temporary file beside the target, synced, then renamed over it. A
 * failure part-way leaves the previous file (or none) in place, never a half-written one.
 *
 * <p>A symbolic link is followed: the file it points to is written (its temporary file beside it) and the link
 * stays, also where it dangles. An existing file that is neither regular nor a directory (a FIFO, a device such as
 * {@code /dev/stdout}'s) cannot be replaced, nor have a temporary file beside it: it is written through in place.
 * {@link #together} makes several files appear together or not at all. When the JVM ends by a signal (Ctrl-C,
 * {@code kill}) or exits while a temporary file is written or staged, a shutdown hook deletes it; a rename under way
 * (a group's renames all) finishes first, and none starts after it. Missing parent
 * directories are made for a file and removed again (where still empty) with its temporary file, so that a file
 * which never appears leaves no directory either.
 */
public final class AtomicFiles {

    /** Writes the content to a stream; may throw I/O errors. */
    @FunctionalInterface
    public interface Content {
        /**
         * Writes everything to {@code out}; the caller closes it.
         *
         * @throws IOException if writing fails; {@link AtomicFiles#write} passes it on
         */
        void writeTo(OutputStream out) throws IOException;
    }

    /** Code that writes files through {@link AtomicFiles}, run by {@link #together}. */
    @FunctionalInterface
    public interface Writes {
        /**
         * Writes the files; may throw I/O errors.
         *
         * @throws IOException if a write fails; inside {@link #together} no file of the group then appears
         */
        void run() throws IOException;
    }

    /**
     * Where {@link #write} puts a target's bytes.
     *
     * @param path    the file written: links followed, absolute, with links and {@code ..} resolved as far as it
     *                exists (so two names of one file compare equal); for a file written through, the path as given,
     *                absolute
     * @param replace true where a temporary file is renamed over {@code path} (a regular file, or none yet); false
     *                where an existing file of another kind (a FIFO, a device) is written through in place
     */
    public record Destination(Path path, boolean replace) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    /** Links followed before giving up, as Linux does (ELOOP). */
    private static final int MAX_LINKS = 40;
    private static final ScopedValue<Batch> BATCH = ScopedValue.newInstance();
    /**
     * Temporary files written or staged and not yet renamed: the shutdown hook deletes them. A command ended by a
     * signal mid-write left its hidden temporary file, as large as the output written so far (a trace: hundreds of
     * MB), beside the target.
     */
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();
    /**
     * Directories made for temporary files and holding no file put in place yet: removed (where empty) with the
     * temporary files. A run ended before its new output directory held anything left it, empty.
     */
    private static final Set<Path> MADE = ConcurrentHashMap.newKeySet();
    /**
     * Held by a rename (a group's renames together) and by the shutdown hook: the hook runs either before a rename,
     * which then deletes its temporary file instead of renaming it, or after it. A temporary file left
     * {@link #PENDING} only in the gap before its rename was forgotten by a hook running in that gap and left behind
     * when the JVM ended there; a group could land in part.
     */
    private static final ReentrantLock RENAMES = new ReentrantLock();
    /** How long the hook waits for renames in progress: they move names, not bytes, so this is never reached. */
    private static final long HOOK_WAIT_SECONDS = 5;
    /** Set by the shutdown hook: from then on no file is put in place. */
    private static volatile boolean closing;
    /** For tests: run while the rename lock is held, just before a temporary file is renamed. */
    static volatile Runnable beforeRename;
    /** For tests: run while the rename lock is held, just after a temporary file is created. */
    static volatile Runnable afterCreate;

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::deletePending, "moelab-temporary-files"));
        } catch (IllegalStateException e) {
            // First used while the JVM already shuts down: nothing to register for.
        }
    }

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically, creating missing parent directories. Inside {@link #together} the file is
     * only staged: it appears when the whole group has been written.
     *
     * @throws IOException from the content, or a {@link FileSystemException} naming {@code target} (not the
     *                     temporary file a user never asked for) when the file system refuses: an
     *                     {@link OutputPathException} where the path is at fault (a directory, a file where a
     *                     parent goes, no access)
     */
    public static void write(Path target, Content content) throws IOException {
        Destination destination = destination(target);
        Batch batch = BATCH.isBound() ? BATCH.get() : null;
        if (!destination.replace()) {
            if (batch == null) {
                writeThrough(target, destination.path(), content);
            } else {
                // Nothing can be staged beside a device: its bytes wait in memory until the group is complete.
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                content.writeTo(bytes);
                batch.through.add(new Through(target, destination.path(), bytes.toByteArray()));
            }
            return;
        }
        if (batch != null && batch.staged.containsKey(destination.path())) {
            throw new OutputPathException(target.toString(), "written twice by one command (two outputs name "
                    + "the same file)");
        }
        Path tmp = stage(target, destination.path(), content);
        if (batch == null) {
            rename(target, tmp, destination.path());
        } else {
            batch.staged.put(destination.path(), new Staged(target, tmp));
        }
    }

    /**
     * Writes a string as UTF-8, atomically.
     *
     * @throws IOException as {@link #write(Path, Content)}
     */
    public static void writeString(Path target, String text) throws IOException {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Runs {@code writes} so that the files it writes with {@link #write} appear together or not at all: each is
     * written and synced to its temporary file as usual, but renamed over its target only once {@code writes} has
     * returned; if it throws, every temporary file is deleted and no target changes. Files written through (a FIFO,
     * a device) are held in memory and written last. Until then {@code writes} does not see its new files at their
     * targets. A call inside another joins the outer one.
     *
     * <p>What remains possible: a rename failing after others succeeded (renaming a synced file over another in
     * the same directory practically cannot fail), or a device failing at the end.
     *
     * @throws IOException from {@code writes}, or from putting the files in place
     */
    public static void together(Writes writes) throws IOException {
        if (BATCH.isBound()) {
            writes.run();
            return;
        }
        Batch batch = new Batch();
        try {
            ScopedValue.where(BATCH, batch).call(() -> {
                writes.run();
                return null;
            });
            batch.commit();
        } finally {
            batch.discard();
        }
    }

    /**
     * Where {@link #write} would put {@code target}'s bytes, following symbolic links (a dangling one to the file
     * it names).
     *
     * @throws OutputPathException if {@code target} is a directory, or links loop
     * @throws IOException         if a link cannot be read
     */
    public static Destination destination(Path target) throws IOException {
        Path p = target.toAbsolutePath();
        for (int links = 0; ; links++) {
            if (Files.isDirectory(p)) {
                throw new OutputPathException(target.toString(), "is a directory");
            }
            if (Files.exists(p)) {
                // A device behind a link may have no real path (/dev/stdout -> /proc/self/fd/1 -> pipe:[...]).
                return Files.isRegularFile(p) ? new Destination(p.toRealPath(), true) : new Destination(p, false);
            }
            if (!Files.isSymbolicLink(p)) {
                break;
            }
            if (links == MAX_LINKS) {
                throw new OutputPathException(target.toString(), "too many levels of symbolic links");
            }
            try {
                p = p.resolveSibling(Files.readSymbolicLink(p)); // a dangling link: the file it names
            } catch (FileSystemException e) {
                throw named(target, e);
            }
        }
        // Not there yet: the real path of its nearest existing ancestor, and the names below it.
        Path existing = nearestExisting(p);
        if (existing == null) {
            return new Destination(p, true);
        }
        try {
            return new Destination(existing.toRealPath().resolve(existing.relativize(p)), true);
        } catch (FileSystemException e) {
            throw named(target, e);
        }
    }

    /**
     * Checks, leaving nothing behind, that {@link #write} can write {@code target}: it is no directory, no file
     * stands where a parent directory goes, and a file can be created in its directory (or in the nearest existing
     * one, where directories are still to be made), or, for a file written through, that it is writable. Lets a
     * command refuse a bad output path before its work rather than after. A full disk is not detected.
     *
     * @return where the bytes would go
     * @throws OutputPathException where the path is at fault
     * @throws IOException         where the file system fails otherwise (a read-only mount, say)
     */
    public static Destination checkWritable(Path target) throws IOException {
        Destination destination = destination(target);
        if (!destination.replace()) {
            if (!Files.isWritable(destination.path())) {
                throw new OutputPathException(target.toString(), "access denied");
            }
            return destination;
        }
        Path dir = existingDirectory(target, destination.path());
        // The file system's own answer (permissions, read-only mounts, /proc), from a file created and removed.
        Path probe = temporary(dir.resolve(destination.path().getFileName()));
        try {
            Files.newByteChannel(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
            Files.delete(probe);
        } catch (FileSystemException e) {
            throw named(target, e);
        }
        return destination;
    }

    /**
     * What went wrong, in words: the exception's reason where the file system gave one, else what its type means
     * (a {@code NoSuchFileException}'s message is the bare path).
     */
    public static String reason(FileSystemException e) {
        return e.getReason() != null ? e.getReason() : switch (e) {
            case NoSuchFileException n -> "no such file or directory";
            case AccessDeniedException a -> "access denied";
            case NotDirectoryException d -> "not a directory";
            // Where a directory was to be created (the CLI's output directories and their parents).
            case FileAlreadyExistsException f -> "is a file, not a directory";
            default -> e.getClass().getSimpleName();
        };
    }

    /** Writes the content to a new temporary file beside {@code destination}, synced; returns it. */
    private static Path stage(Path target, Path destination, Content content) throws IOException {
        Path tmp = temporary(destination);
        FileChannel channel;
        existingDirectory(target, destination);
        // Created and listed as pending under the hook's lock: a hook running between the two forgot a file created
        // just before it, which the JVM's end then left behind, as large as what was written by then.
        RENAMES.lock();
        try {
            if (closing) {
                throw new FileSystemException(target.toString(), null, "not written: the program is ending");
            }
            try {
                makeParents(destination);
                // Not Files.createTempFile: it makes the file owner-only, and the rename would keep those permissions.
                channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileSystemException e) {
                removeMade(destination.getParent());
                throw named(target, e);
            }
            PENDING.add(tmp);
            Runnable test = afterCreate;
            if (test != null) {
                test.run();
            }
        } finally {
            RENAMES.unlock();
        }
        try {
            try (channel; OutputStream out = new BufferedOutputStream(new Named(target,
                    Channels.newOutputStream(channel)), 1 << 16)) {
                content.writeTo(out);
                out.flush();
                try {
                    channel.force(true);
                } catch (IOException e) {
                    throw Named.failure(target, e);
                }
            }
        } catch (Throwable t) {
            deleteQuietly(tmp, t);
            throw t;
        }
        return tmp;
    }

    /**
     * The nearest existing directory above {@code destination}, where its missing parents will be made.
     *
     * @throws OutputPathException if a file stands there (the file system would answer with a bare "Not a directory"
     *                             or "File exists", naming neither file)
     */
    private static Path existingDirectory(Path target, Path destination) throws OutputPathException {
        Path dir = nearestExisting(destination); // an absolute path: its root exists
        if (!Files.isDirectory(dir)) {
            throw new OutputPathException(target.toString(), dir + " is a file, not a directory");
        }
        return dir;
    }

    /**
     * Makes the missing directories above {@code destination}, top down, noting each in {@link #MADE}; one made
     * meanwhile by another thread or process is not noted (not ours to remove).
     */
    private static void makeParents(Path destination) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path d = destination.getParent(); d != null && !Files.isDirectory(d); d = d.getParent()) {
            missing.add(d);
        }
        for (Path d : missing.reversed()) {
            try {
                Files.createDirectory(d);
                MADE.add(d);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(d)) {
                    throw e;
                }
            }
        }
    }

    /**
     * Removes {@code dir} and the directories above it that {@link #makeParents} made, from the bottom up, while
     * they are empty: the files they were made for did not appear.
     */
    private static void removeMade(Path dir) {
        for (Path d = dir; d != null && MADE.contains(d); d = d.getParent()) {
            try {
                Files.delete(d);
            } catch (IOException | RuntimeException e) {
                return; // not empty (another file is in it), or gone: kept as it is
            }
            MADE.remove(d);
        }
    }

    /** Notes that a file is in place in {@code dir}: it and the directories above it are kept. */
    private static void keepMade(Path dir) {
        for (Path d = dir; d != null && MADE.remove(d); d = d.getParent()) {
            // Removed from MADE: kept.
        }
    }

    /** The nearest ancestor of {@code p} that exists, or null if none does. */
    private static Path nearestExisting(Path p) {
        Path dir = p.getParent();
        while (dir != null && !Files.exists(dir)) {
            dir = dir.getParent();
        }
        return dir;
    }

    private static void rename(Path target, Path tmp, Path destination) throws IOException {
        // Still pending while it moves: a hook that could not wait for the lock deletes it, leaving the old file.
        RENAMES.lock();
        try {
            if (closing) {
                FileSystemException e = new FileSystemException(target.toString(), null,
                        "not written: the program is ending");
                deleteQuietly(tmp, e);
                throw e;
            }
            Runnable test = beforeRename;
            if (test != null) {
                test.run();
            }
            move(target, tmp, destination);
        } finally {
            RENAMES.unlock();
        }
        keepMade(destination.getParent());
    }

    private static void move(Path target, Path tmp, Path destination) throws IOException {
        try {
            try {
                Files.move(tmp, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, destination, StandardCopyOption.REPLACE_EXISTING);
            }
            PENDING.remove(tmp);
        } catch (FileSystemException e) {
            deleteQuietly(tmp, e);
            throw named(target, e);
        }
    }

    /** Writes into an existing file of another kind, in place: there is no temporary file beside a device. */
    private static void writeThrough(Path target, Path file, Content content) throws IOException {
        OutputStream raw;
        try {
            raw = Files.newOutputStream(file, StandardOpenOption.WRITE); // neither created nor truncated
        } catch (FileSystemException e) {
            throw named(target, e);
        }
        try (OutputStream out = new BufferedOutputStream(new Named(target, raw), 1 << 16)) {
            content.writeTo(out);
        }
    }

    /**
     * The stream to a file, its write failures named: a full disk or an I/O error surfaces as a
     * {@link FileSystemException} naming the file the user asked for ("cannot write: No space left on device")
     * rather than a bare "No space left on device" from deep inside a serializer.
     */
    private static final class Named extends FilterOutputStream {
        private final Path target;

        Named(Path target, OutputStream out) {
            super(out);
            this.target = target;
        }

        static IOException failure(Path target, IOException e) {
            if (e instanceof FileSystemException) {
                return e;
            }
            FileSystemException named = new FileSystemException(target.toString(), null, "cannot write: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            named.initCause(e);
            return named;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw failure(target, e);
            }
        }

        @Override
        public void write(int b) throws IOException {
            try {
                out.write(b);
            } catch (IOException e) {
                throw failure(target, e);
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                throw failure(target, e);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                out.close();
            } catch (IOException e) {
                throw failure(target, e);
            }
        }
    }

    private static Path temporary(Path destination) {
        String name = destination.getFileName().toString();
        // Names hold at most 255 bytes on most file systems: a target name near that must not fail for ours.
        if (name.getBytes(StandardCharsets.UTF_8).length > 200) {
            name = name.substring(0, name.offsetByCodePoints(0, 48));
        }
        return destination.resolveSibling("." + name + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
    }

    private static void deleteQuietly(Path tmp, Throwable failure) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            failure.addSuppressed(e);
        } finally {
            PENDING.remove(tmp);
        }
        removeMade(tmp.getParent());
    }

    /**
     * The shutdown hook: waits for renames in progress (a group's renames all), stops later ones, then deletes the
     * temporary files not renamed and the directories made for them, deepest first, where empty. Threads still
     * writing them are not waited for. Package-private for tests, which undo it with {@link #reopen}.
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
            deletePendingFiles();
        } finally {
            if (locked) {
                RENAMES.unlock();
            }
        }
    }

    /**
     * Whether the shutdown hook has run: the JVM is ending (Ctrl-C, {@code kill}) and no file is put in place any
     * more.
     */
    public static boolean closing() {
        return closing;
    }

    /** For tests: undoes {@link #deletePending}'s stop, so that files are put in place again. */
    static void reopen() {
        closing = false;
    }

    private static void deletePendingFiles() {
        for (Path tmp : PENDING) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException ignored) {
                // Best effort: the JVM is ending.
            }
        }
        List<Path> made = new ArrayList<>(MADE);
        made.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path d : made) {
            try {
                Files.deleteIfExists(d);
            } catch (IOException | RuntimeException ignored) {
                // Not empty (a file was put in place in it), or the JVM is ending: kept.
            }
        }
    }

    /**
     * The file system's refusal, naming {@code target}: an {@link OutputPathException} where the path is at fault,
     * which the user fixes by naming another; else (disk full, I/O error, read-only mount) a plain one.
     */
    private static FileSystemException named(Path target, FileSystemException e) {
        if (e instanceof OutputPathException) {
            return e;
        }
        // From creating the parent directories, name which one: a file stands where it goes.
        String reason = e instanceof FileAlreadyExistsException && e.getReason() == null
                ? e.getFile() + " " + reason(e) : reason(e);
        FileSystemException named = switch (e) {
            case NoSuchFileException _, AccessDeniedException _, NotDirectoryException _, FileAlreadyExistsException _,
                 FileSystemLoopException _ -> new OutputPathException(target.toString(), reason);
            default -> new FileSystemException(target.toString(), null, "cannot write: " + reason);
        };
        named.initCause(e);
        return named;
    }

    private record Staged(Path target, Path tmp) {
    }

    private record Through(Path target, Path file, byte[] bytes) {
    }

    /** The files of one {@link #together} call, staged and not yet in place. */
    private static final class Batch {
        /** Temporary files by destination, in the order written. */
        final Map<Path, Staged> staged = new LinkedHashMap<>();
        final List<Through> through = new ArrayList<>();

        void commit() throws IOException {
            // All renamed before the shutdown hook runs, or none: it waits for the lock, and the first rename after
            // it fails, which discards the rest.
            RENAMES.lock();
            try {
                for (var it = staged.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<Path, Staged> e = it.next();
                    it.remove(); // renamed, or deleted by rename's failure
                    rename(e.getValue().target(), e.getValue().tmp(), e.getKey());
                }
            } finally {
                RENAMES.unlock();
            }
            // Not under the lock: a device (a FIFO without a reader) may block for ever.
            for (Through t : through) {
                writeThrough(t.target(), t.file(), out -> out.write(t.bytes()));
            }
        }

        /** Deletes the temporary files not renamed, then the directories made for them where left empty. */
        void discard() {
            for (Staged s : staged.values()) {
                try {
                    Files.deleteIfExists(s.tmp());
                } catch (IOException ignored) {
                    // Best effort: the failure being reported matters more than a stray temporary file.
                } finally {
                    PENDING.remove(s.tmp());
                }
            }
            // Only now: a directory made for one file may hold another's temporary file, deleted above.
            staged.values().forEach(s -> removeMade(s.tmp().getParent()));
            staged.clear();
        }
    }
}
