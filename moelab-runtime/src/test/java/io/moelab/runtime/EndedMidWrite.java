package io.moelab.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Ends a child JVM with SIGTERM in the middle of a write and checks what it left: the tests that temporary files do
 * not outlive a JVM ended by a signal ({@link AtomicWrite}).
 */
public final class EndedMidWrite {
    private EndedMidWrite() {
    }

    /**
     * Starts {@code main} with arguments {@code out} and a marker path (which the child creates once it is
     * mid-write), checks that {@code out} then holds one temporary file matching {@code temporary}, sends SIGTERM and
     * checks that {@code out} is left empty.
     */
    public static void assertLeavesNothing(Class<?> main, Path out, Path scratch, String temporary) throws Exception {
        Path marker = scratch.resolve("writing");
        Path log = scratch.resolve("log");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), main.getName(), out.toString(), marker.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            for (int i = 0; i < 1000 && !Files.exists(marker) && jvm.isAlive(); i++) {
                Thread.sleep(20);
            }
            assertThat(marker).as(Files.readString(log)).exists();
            assertThat(namesIn(out)).as("the temporary file being written").singleElement().asString()
                    .matches(temporary);
            jvm.destroy(); // SIGTERM
            assertThat(jvm.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(namesIn(out)).isEmpty();
        } finally {
            jvm.destroyForcibly();
        }
    }

    private static List<String> namesIn(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
