package io.moelab.train.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** File operations of a run directory that never leave a half-written file or directory under its final name. */
public final class RunFiles {
    private RunFiles() {}

    /**
     * Writes {@code text} (UTF-8) to a hidden sibling, syncs it and renames it over {@code file}. On a failure the
     * hidden file is deleted: {@code file} is as it was, and nothing else is left.
     *
     * @throws IOException if the hidden file cannot be written, synced or renamed
     */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            sync(tmp);
            move(tmp, file);
        } catch (IOException | RuntimeException e) {
            // A rename refused (a directory in the file's place) or a full disk left the hidden file, as large as
            // the text, in the run's directory.
            if (!Files.isDirectory(tmp, LinkOption.NOFOLLOW_LINKS)) { // a directory there was never this write's
                deleteTemporary(tmp, e);
            }
            throw e;
        }
        syncDirectory(file.toAbsolutePath().getParent());
    }

    /**
     * Deletes the temporary file or directory {@code tmp} (everything under it) after {@code failure}, adding to it
     * any failure to delete: a failed write leaves nothing behind.
     *
     * @param tmp     the temporary file or directory the failed write made; nothing happens if it is gone
     * @param failure what failed the write, to report
     */
    public static void deleteTemporary(Path tmp, Exception failure) {
        try {
            deleteTree(tmp);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * Forces {@code file}'s content to the disk. Before a rename: otherwise a crash or power cut soon after can leave
     * the new name on an empty or partial file (the rename reaches the disk before the data), and a resumed run
     * reads a broken checkpoint under a complete one's name.
     *
     * @throws IOException if the file cannot be opened or forced
     */
    public static void sync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Forces {@code dir}'s entries (a rename or a new file in it) to the disk, where the platform can open a
     * directory for that (Linux, macOS); elsewhere the rename is as durable as the file system makes it.
     */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Not supported for directories here (Windows): nothing more to do.
        }
    }

    /**
     * Renames {@code from} to {@code to}, replacing it; atomically where the file system can.
     *
     * @throws IOException if the file cannot be moved
     */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Deletes {@code p} and everything under it, if it exists.
     *
     * @throws IOException if the tree cannot be walked or a file in it deleted
     */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
