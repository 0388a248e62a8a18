package io.moelab.eplb.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Writes files all-or-nothing: into a temporary file beside the target, synced, then renamed over it. A
 * failure part-way leaves the previous file (or none) in place, never a half-written one.
 */
public final class AtomicFiles {

    /** Writes the content to a stream; may throw I/O errors. */
    @FunctionalInterface
    public interface Content {
        /** Writes everything to {@code out}; the caller closes it. */
        void writeTo(OutputStream out) throws IOException;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically, creating missing parent directories.
     *
     * @throws IOException from the content, or a {@link FileSystemException} naming {@code target} (not the
     *                     temporary file a user never asked for) when the file system refuses
     */
    public static void write(Path target, Content content) throws IOException {
        try {
            writeAtomically(target, content);
        } catch (FileSystemException e) {
            // From creating the parent directories, name which one: a file stands where it goes.
            String reason = e instanceof FileAlreadyExistsException && e.getReason() == null
                    ? e.getFile() + " " + reason(e) : reason(e);
            FileSystemException named = new FileSystemException(target.toString(), null, "cannot write: " + reason);
            named.initCause(e);
            throw named;
        }
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

    private static void writeAtomically(Path target, Content content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        // Not Files.createTempFile: that makes the file owner-only, and the rename would keep those permissions.
        Path tmp = dir.resolve("." + absolute.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
                 OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel),
                         1 << 16)) {
                content.writeTo(out);
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes a string as UTF-8, atomically. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }
}
