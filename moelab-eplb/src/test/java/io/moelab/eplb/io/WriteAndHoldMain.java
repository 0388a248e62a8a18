package io.moelab.eplb.io;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM that writes through {@link AtomicFiles} and stops mid-write, so that a test can end it with a signal there.
 * Arguments: {@code single}, {@code together} or {@code new-directories} (together, into directories not there
 * yet), the output directory, and a marker file created (outside that directory) once a megabyte of the held file
 * is written.
 */
public final class WriteAndHoldMain {
    private WriteAndHoldMain() {
    }

    /** Writes, then waits in the middle of the last file; the test ends this JVM long before the wait does. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        Path marker = Path.of(args[2]);
        AtomicFiles.Content held = out -> {
            out.write(new byte[1 << 20]);
            out.flush();
            Files.createFile(marker);
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        if (args[0].equals("single")) {
            AtomicFiles.write(dir.resolve("out.json"), held);
        } else if (args[0].equals("new-directories")) {
            AtomicFiles.together(() -> {
                AtomicFiles.writeString(dir.resolve("run/summary.json"), "staged, not yet renamed");
                AtomicFiles.write(dir.resolve("run/plots/held.png"), held);
            });
        } else {
            AtomicFiles.together(() -> {
                AtomicFiles.writeString(dir.resolve("first.txt"), "staged, not yet renamed");
                AtomicFiles.write(dir.resolve("second.json"), held);
            });
        }
    }
}
