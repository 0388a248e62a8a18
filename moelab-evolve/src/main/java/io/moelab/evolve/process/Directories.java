package io.moelab.evolve.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;

/** Removing candidates' working directories. No dependencies beyond the JDK: the EPLB harness uses it too. */
public final class Directories {
    private static final Set<PosixFilePermission> OWNER_ALL = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);

    private Directories() {
    }

    /**
     * Deletes {@code dir} and everything below it; nothing happens when it does not exist. Links are deleted,
     * not followed. Directories below {@code dir} that their owner cannot list or change (a candidate runs as the
     * user and can chmod what it made) get their owner's rights back and are deleted too.
     *
     * @throws IOException if the tree cannot be walked or a file in it deleted
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            delete(dir);
        } catch (AccessDeniedException e) {
            // Such a failure ended the whole run, and every resume of it at the same iteration.
            allowOwner(dir);
            delete(dir);
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Gives the owner read, write and search rights on every directory of the tree (not through links), in
     * a loop rather than by recursion: a candidate can nest directories deeper than a thread's stack.
     */
    private static void allowOwner(Path top) {
        Deque<Path> todo = new ArrayDeque<>();
        todo.push(top);
        while (!todo.isEmpty()) {
            Path d = todo.pop();
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try {
                Set<PosixFilePermission> rights = EnumSet.noneOf(PosixFilePermission.class);
                rights.addAll(Files.getPosixFilePermissions(d, LinkOption.NOFOLLOW_LINKS));
                if (rights.addAll(OWNER_ALL)) {
                    Files.setPosixFilePermissions(d, rights);
                }
            } catch (IOException | UnsupportedOperationException e) {
                // Not the owner's, or no POSIX rights here: the delete that follows reports it.
            }
            try (DirectoryStream<Path> children = Files.newDirectoryStream(d)) {
                children.forEach(todo::push);
            } catch (IOException e) {
                // Likewise left to the delete.
            }
        }
    }
}
