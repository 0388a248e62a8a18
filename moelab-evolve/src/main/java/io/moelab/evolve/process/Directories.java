package io.moelab.evolve.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removing candidates' working directories. No dependencies beyond the JDK: the EPLB harness uses it too. */
public final class Directories {
    private Directories() {
    }

    /**
     * Deletes {@code dir} and everything below it; nothing happens when it does not exist.
     *
     * @throws IOException if the tree cannot be walked or a file in it deleted
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
