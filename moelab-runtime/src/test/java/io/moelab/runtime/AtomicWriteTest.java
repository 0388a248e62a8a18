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
import java.util.function.Consumer;
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
        Map<String, String> left = leftBySignal(seam -> AtomicWrite.beforeRename = seam, () -> write(target, "new"));
        assertThat(left).isIn(Map.of("out.txt", "old"), Map.of("out.txt", "new"));
    }

    /**
     * A signal just after the temporary file is created, before a byte is written: a hook done before the write goes
     * on must have deleted the file (it was created, but not yet listed as pending, so the hook forgot it and the
     * JVM's end left it behind as large as what was written by then).
     */
    @Test
    void aSignalJustAfterTheTemporaryFileIsCreatedLeavesNoTemporaryFile() throws Exception {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old");
        Map<String, String> left = leftBySignal(seam -> AtomicWrite.afterCreate = seam, () -> write(target, "new"));
        assertThat(left).isIn(Map.of("out.txt", "old"), Map.of("out.txt", "new"));
    }

    /** A write that may fail. */
    private interface Write {
        void run() throws IOException;
    }

    /**
     * Runs {@code write} with the shutdown hook's logic started on another thread at the seam {@code install} sets;
     * returns what the JVM would leave in {@link #dir} if it ended as soon as the hook is done: taken at that moment
     * where the hook is done before the write goes on, else once the hook is done after it.
     */
    private Map<String, String> leftBySignal(Consumer<Runnable> install, Write write)
            throws InterruptedException {
        Thread[] hook = new Thread[1];
        List<Map<String, String>> left = new ArrayList<>();
        install.accept(() -> {
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
        });
        try {
            catchThrowable(write::run);
        } finally {
            install.accept(null);
            if (hook[0] != null) {
                hook[0].join();
                if (left.isEmpty()) {
                    left.add(left(dir));
                }
            }
            AtomicWrite.reopen();
        }
        assertThat(left).hasSize(1);
        return left.getFirst();
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
