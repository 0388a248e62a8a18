package io.moelab.runtime.safetensors;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM that writes a file the way {@link SafetensorsWriter} does and stops mid-write, so that a test can end it with
 * a signal there. Arguments: the output directory, and a marker file created (outside it) once a megabyte of
 * {@code model.safetensors} is written.
 */
public final class WriteAndHoldMain {
    private WriteAndHoldMain() {
    }

    /** Writes, then waits in the middle of the file; the test ends this JVM long before the wait does. */
    public static void main(String[] args) throws Exception {
        Path marker = Path.of(args[1]);
        SafetensorsWriter.writeAtomically(Path.of(args[0]).resolve("model.safetensors"), out -> {
            out.write(new byte[1 << 20]);
            out.flush();
            Files.createFile(marker);
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
