package io.moelab.cli.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file in a fresh private temporary directory (standard input spooled, standard output held until complete):
 * {@link #close} deletes both, and a run ended by a signal deletes them through {@code deleteOnExit}.
 */
final class TemporaryFile implements AutoCloseable {
    private final Path directory;
    private final Path file;

    private TemporaryFile(Path directory, Path file) {
        this.directory = directory;
        this.file = file;
    }

    /** A new directory {@code PREFIX...} in the JVM's temporary directory, and {@code name} in it (not created). */
    static TemporaryFile create(String prefix, String name) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        // Registered in this order because deleteOnExit deletes the later registration first: file, then directory.
        dir.toFile().deleteOnExit();
        Path file = dir.resolve(name);
        file.toFile().deleteOnExit();
        return new TemporaryFile(dir, file);
    }

    /** The file. */
    Path file() {
        return file;
    }

    /** Deletes the file and its directory. */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(directory);
    }
}
