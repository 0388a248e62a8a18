package io.moelab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Temporary files being written and not yet renamed into place, which a shutdown hook deletes when the JVM ends
 * early (Ctrl-C, {@code kill}, an exit on another thread): such a file, hidden and as large as what was written so
 * far, was left beside its target. A writer {@link #add}s its file once created and {@link #remove}s it before the
 * rename, so that the hook never turns a whole new file back into the old one. A JVM killed with SIGKILL runs no
 * hook. moelab-eplb's {@code AtomicFiles} does the same for its files; the runtime depends on no other module.
 */
public final class PendingFiles {
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(PendingFiles::deleteAll, "moelab-runtime-temporary-files"));
        } catch (IllegalStateException e) {
            // First used while the JVM already shuts down: nothing to register for.
        }
    }

    private PendingFiles() {
    }

    /** Marks {@code tmp}, just created, for deletion should the JVM end before {@link #remove}. */
    public static void add(Path tmp) {
        PENDING.add(tmp);
    }

    /** Unmarks {@code tmp}: complete and about to be renamed, or already deleted. */
    public static void remove(Path tmp) {
        PENDING.remove(tmp);
    }

    /** The shutdown hook. Threads still writing are not waited for: their files are deleted under them. */
    private static void deleteAll() {
        for (Path tmp : PENDING) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException ignored) {
                // Best effort: the JVM is ending.
            }
        }
    }
}
