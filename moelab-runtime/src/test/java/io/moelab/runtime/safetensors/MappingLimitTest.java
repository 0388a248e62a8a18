package io.moelab.runtime.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard the process cannot map (an address-space limit, {@code ulimit -v}, below the checkpoint's size) is
 * reported as that: the message was "cannot read FILE", which names no cause, and the cause ("Map failed") was
 * dropped from the CLI's one-line error.
 */
class MappingLimitTest {
    @TempDir
    Path tmp;

    @Test
    @EnabledOnOs(OS.LINUX)
    void aShardPastTheAddressSpaceLimitSaysItCannotBeMapped() throws Exception {
        SparseCheckpoint c = new SparseCheckpoint();
        c.tensor("w", "BF16", 4L << 30); // 8 GiB of data, a hole on disk
        Path file = c.write(tmp.resolve("big.safetensors"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // A small JVM under a 4 GiB address-space limit: it starts, and cannot map 8 GiB.
        Process p = new ProcessBuilder("bash", "-c", "ulimit -v 4194304 && exec \"$0\" -Xmx64m -Xss512k"
                + " -XX:ReservedCodeCacheSize=32m -XX:CompressedClassSpaceSize=32m -XX:+UseSerialGC"
                + " -cp \"$1\" " + OpenAndReportMain.class.getName() + " \"$2\"",
                java, System.getProperty("java.class.path"), file.toString())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        long size = Files.size(file);
        assertThat(out).isEqualTo("UncheckedIOException: cannot map " + file + " (" + size + " bytes) into memory: Map"
                + " failed (every shard is mapped whole: an address-space limit such as ulimit -v must leave room for"
                + " the whole checkpoint)");
    }
}
