package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's hidden temporary file does not outlive a JVM ended mid-write. */
class SafetensorsWriterTemporaryFileTest {
    @TempDir
    Path dir;

    private static List<String> namesIn(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * A JVM ended by a signal (Ctrl-C, kill) while it wrote a checkpoint or an export left its hidden
     * {@code .model.safetensors.<hex>.tmp}, as large as what it had written, beside the target; a shutdown hook now
     * deletes it.
     */
    @Test
    void aJvmEndedMidWriteLeavesNoTemporaryFile() throws Exception {
        Path out = Files.createDirectory(dir.resolve("out"));
        Path marker = dir.resolve("writing");
        Path log = dir.resolve("log");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), WriteAndHoldMain.class.getName(), out.toString(),
                marker.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            for (int i = 0; i < 1000 && !Files.exists(marker) && jvm.isAlive(); i++) {
                Thread.sleep(20);
            }
            assertThat(marker).as(Files.readString(log)).exists();
            assertThat(namesIn(out)).as("the temporary file being written").singleElement().asString()
                    .matches("\\.model\\.safetensors\\.[0-9a-f]+\\.tmp");
            jvm.destroy(); // SIGTERM
            assertThat(jvm.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(namesIn(out)).isEmpty();
        } finally {
            jvm.destroyForcibly();
        }
    }
}
