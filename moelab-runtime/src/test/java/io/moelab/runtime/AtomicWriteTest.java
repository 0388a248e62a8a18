package io.moelab.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicWriteTest {
    @TempDir
    Path dir;

    private List<String> namesIn(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static void write(Path target, String text) throws IOException {
        AtomicWrite.write(target, channel -> channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }

    /** The files in {@code directory} and their content: what the JVM would leave there if it ended now. */
    private static Map<String, String> left(Path directory) {
        try (Stream<Path> files = Files.list(directory)) {
            Map<String, String> left = new TreeMap<>();
            for (Path f : files.toList()) {
                left.put(f.getFileName().toString(), Files.readString(f));
            }
            return left;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void writesTheTargetAndNothingElse() throws IOException {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old");
        write(target, "new");
        assertThat(target).hasContent("new");
        assertThat(namesIn(dir)).containsExactly("out.txt");
    }

    /**
     * A signal just before the rename, once the temporary file is complete: the shutdown hook's logic runs on another
     * thread from there. The JVM may end as soon as the hook is done: where it is done before the rename goes on, what
     * the directory holds then is what such an end leaves (the hook ran while the file was in no list of pending
     * files, and the whole temporary file was left behind); where it waits, the rename goes on and what the end
     * leaves is taken once the hook is done.
     */
    @Test
    void aSignalJustBeforeTheRenameLeavesNoTemporaryFile() throws Exception {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old");
        Thread[] hook = new Thread[1];
        List<Map<String, String>> left = new ArrayList<>();
        AtomicWrite.beforeRename = () -> {
            hook[0] = new Thread(AtomicWrite::deletePending, "test-shutdown-hook");
            hook[0].start();
            while (true) {
                switch (hook[0].getState()) {
                    case TERMINATED -> {
                        left.add(left(dir));
                        return;
                    }
                    case WAITING, TIMED_WAITING, BLOCKED -> {
                        return;
                    }
                    default -> Thread.onSpinWait();
                }
            }
        };
        try {
            catchThrowable(() -> write(target, "new"));
        } finally {
            AtomicWrite.beforeRename = null;
            if (hook[0] != null) {
                hook[0].join();
                if (left.isEmpty()) {
                    left.add(left(dir));
                }
            }
            AtomicWrite.reopen();
        }
        assertThat(left).hasSize(1);
        assertThat(left.getFirst()).isIn(Map.of("out.txt", "old"), Map.of("out.txt", "new"));
    }

    /** Once the hook has run, a write completed afterwards puts nothing in place and deletes its temporary file. */
    @Test
    void afterTheHookNothingIsPutInPlace() throws Exception {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old");
        AtomicWrite.deletePending();
        try {
            assertThatThrownBy(() -> write(target, "new")).isInstanceOf(IOException.class)
                    .hasMessageContaining("the program is ending");
        } finally {
            AtomicWrite.reopen();
        }
        assertThat(namesIn(dir)).containsExactly("out.txt");
        assertThat(target).hasContent("old");
        write(target, "new");
        assertThat(target).hasContent("new");
    }
}
