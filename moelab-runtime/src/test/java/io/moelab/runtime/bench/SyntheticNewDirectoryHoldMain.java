package io.moelab.runtime.bench;

import java.nio.file.Path;

/**
 * A JVM that writes a synthetic checkpoint into a new directory the way {@link SyntheticCheckpoint#write} does and
 * stops in the middle of its weights, so that a test can end it with a signal there. Arguments: the parent of the new
 * directory {@code model}, and a marker file created (outside it) once a megabyte of weights is written.
 */
public final class SyntheticNewDirectoryHoldMain {
    private SyntheticNewDirectoryHoldMain() {
    }

    /** Writes, then waits in the middle of the weights; the test ends this JVM long before the wait does. */
    public static void main(String[] args) throws Exception {
        Path marker = Path.of(args[1]);
        SyntheticCheckpoint.intoNewDirectory(Path.of(args[0]).resolve("model"),
                d -> SyntheticWriteAndHoldMain.writeAndHold(d, marker));
    }
}
