package io.moelab.runtime.bench;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM that writes a file the way {@link SyntheticCheckpoint} does and stops mid-write, so that a test can end it
 * with a signal there. Arguments: the output directory, and a marker file created (outside it) once a megabyte of
 * {@code model.safetensors} is written.
 */
public final class SyntheticWriteAndHoldMain {
    private SyntheticWriteAndHoldMain() {
    }

    /** Writes, then waits in the middle of the file; the test ends this JVM long before the wait does. */
    public static void main(String[] args) throws Exception {
        writeAndHold(Path.of(args[0]), Path.of(args[1]));
    }

    /**
     * Writes a megabyte of {@code dir/model.safetensors} as {@link SyntheticCheckpoint} does, creates {@code marker},
     * then waits (two minutes) before finishing the file.
     */
    static void writeAndHold(Path dir, Path marker) throws java.io.IOException {
        SyntheticCheckpoint.writeAtomically(dir.resolve("model.safetensors"), ch -> {
            ch.write(ByteBuffer.allocate(1 << 20));
            Files.createFile(marker);
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
