package io.moelab.runtime.safetensors;

import io.moelab.runtime.EndedMidWrite;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's hidden temporary file does not outlive a JVM ended mid-write. */
class SafetensorsWriterTemporaryFileTest {
    @TempDir
    Path dir;

    /**
     * A JVM ended by a signal (Ctrl-C, kill) while it wrote a checkpoint or an export left its hidden
     * {@code .model.safetensors.<hex>.tmp}, as large as what it had written, beside the target; a shutdown hook now
     * deletes it.
     */
    @Test
    void aJvmEndedMidWriteLeavesNoTemporaryFile() throws Exception {
        EndedMidWrite.assertLeavesNothing(WriteAndHoldMain.class, Files.createDirectory(dir.resolve("out")), dir,
                "\\.model\\.safetensors\\.[0-9a-f]+\\.tmp");
    }
}
