package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.LinkOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> namesIn(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesTheTargetAndNothingElse() throws IOException {
        Path target = dir.resolve("out.bin");
        byte[] content = {0, 1, 2, (byte) 0xff, '\n'};
        AtomicFiles.write(target, out -> out.write(content));
        assertThat(target).hasBinaryContent(content);
        assertThat(namesIn(dir)).containsExactly("out.bin");
    }

    @Test
    void createsMissingParentDirectories() throws IOException {
        Path target = dir.resolve("a/b/c/out.txt");
        AtomicFiles.writeString(target, "x");
        assertThat(target).hasContent("x");
        assertThat(namesIn(target.getParent())).containsExactly("out.txt");
    }

    @Test
    void writeStringIsUtf8() throws IOException {
        Path target = dir.resolve("u.txt");
        AtomicFiles.writeString(target, "é€😀");
        assertThat(Files.readAllBytes(target)).isEqualTo("é€😀".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void emptyContentMakesAnEmptyFile() throws IOException {
        Path target = dir.resolve("empty");
        AtomicFiles.write(target, out -> { });
        assertThat(target).exists().isEmptyFile();
    }

    @Test
    void contentLargerThanTheBufferIsWrittenWhole() throws IOException {
        byte[] content = new byte[(1 << 16) * 3 + 17];
        new Random(1).nextBytes(content);
        Path target = dir.resolve("big.bin");
        // Mixed single-byte and bulk writes, as the format writers do.
        AtomicFiles.write(target, out -> {
            out.write(content[0]);
            out.write(content, 1, 1000);
            out.write(content, 1001, content.length - 1001);
        });
        assertThat(target).hasBinaryContent(content);
    }

    @Test
    void replacesAnExistingTarget() throws IOException {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "a much longer first version");
        AtomicFiles.writeString(target, "second");
        assertThat(target).hasContent("second"); // replaced whole, not overwritten in place
        assertThat(namesIn(dir)).containsExactly("out.txt");
    }

    @Test
    void permissionsFollowTheUmaskLikeAnOrdinaryFile() throws IOException {
        // Files.createTempFile would make the file owner-only; the target must look like any file written here.
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path ordinary = Files.writeString(dir.resolve("ordinary.txt"), "x");
        Path target = dir.resolve("atomic.txt");
        AtomicFiles.writeString(target, "x");
        assertThat(Files.getPosixFilePermissions(target)).isEqualTo(Files.getPosixFilePermissions(ordinary));
    }

    @Test
    void failingContentLeavesNoTargetAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("fresh.txt");
        IOException failure = new IOException("disk full");
        Throwable thrown = catchThrowable(() -> AtomicFiles.write(target, out -> {
            out.write(new byte[100_000]); // some of it reaches the temporary file before the failure
            throw failure;
        }));
        assertThat(thrown).isSameAs(failure);
        assertThat(target).doesNotExist();
        assertThat(namesIn(dir)).isEmpty();
    }

    @Test
    void uncheckedFailuresAlsoCleanUp() throws IOException {
        Path target = dir.resolve("fresh.txt");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write('x');
            throw new UncheckedIOException(new IOException("boom"));
        })).isInstanceOf(UncheckedIOException.class).hasRootCauseMessage("boom");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            throw new IllegalStateException("bug");
        })).isInstanceOf(IllegalStateException.class).hasMessage("bug");
        assertThat(namesIn(dir)).isEmpty();
    }

    @Test
    void failingContentLeavesTheExistingTargetIntact() throws IOException {
        Path target = dir.resolve("out.txt");
        AtomicFiles.writeString(target, "old");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        })).isInstanceOf(IOException.class).hasMessage("disk full");
        assertThat(target).hasContent("old");
        assertThat(namesIn(dir)).containsExactly("out.txt");
    }

    @Test
    void aTargetThatIsADirectoryFailsWithoutLeftovers() throws IOException {
        Path target = Files.createDirectory(dir.resolve("taken"));
        Files.writeString(target.resolve("inside.txt"), "keep");
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "x")).isInstanceOf(IOException.class);
        assertThat(target.resolve("inside.txt")).hasContent("keep");
        assertThat(namesIn(dir)).containsExactly("taken");
    }

    @Test
    void fileSystemRefusalsNameTheTargetNotTheTemporaryFile() throws IOException {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        Path under = file.resolve("out.json");
        assertThatThrownBy(() -> AtomicFiles.writeString(under, "x"))
                .isInstanceOf(java.nio.file.FileSystemException.class)
                .hasMessage(under + ": cannot write: " + file + " is a file, not a directory");
        Path target = Files.createDirectory(dir.resolve("taken"));
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "x"))
                .hasMessageStartingWith(target + ": cannot write: ").hasMessageNotContaining(".tmp");
    }

    @Test
    void aTargetThatIsADirectoryIsAnOutputPathProblem() throws IOException {
        Path target = Files.createDirectory(dir.resolve("adir"));
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "x")).isInstanceOf(OutputPathException.class)
                .hasMessage(target + ": cannot write: is a directory");
        assertThatThrownBy(() -> AtomicFiles.checkWritable(target)).isInstanceOf(OutputPathException.class)
                .hasMessage(target + ": cannot write: is a directory");
    }

    @Test
    void aFileWhereAParentGoesIsAnOutputPathProblem() throws IOException {
        Path file = Files.writeString(dir.resolve("afile"), "keep");
        Path under = file.resolve("sub/out.json");
        assertThatThrownBy(() -> AtomicFiles.writeString(under, "x")).isInstanceOf(OutputPathException.class);
        assertThatThrownBy(() -> AtomicFiles.checkWritable(under)).isInstanceOf(OutputPathException.class)
                .hasMessage(under + ": cannot write: " + file + " is a file, not a directory");
        assertThat(file).hasContent("keep");
        assertThat(namesIn(dir)).containsExactly("afile");
    }

    @Test
    void aSymbolicLinkIsFollowedAndKept() throws IOException {
        Path real = Files.writeString(Files.createDirectory(dir.resolve("real")).resolve("data.json"), "old");
        // A relative link from another directory: resolved against the link's own directory.
        Path link = Files.createSymbolicLink(Files.createDirectory(dir.resolve("links")).resolve("out.json"),
                Path.of("../real/data.json"));
        AtomicFiles.writeString(link, "new");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.readSymbolicLink(link)).isEqualTo(Path.of("../real/data.json"));
        assertThat(real).hasContent("new");
        // The temporary file went beside the target, and is gone.
        assertThat(namesIn(dir.resolve("real"))).containsExactly("data.json");
        assertThat(namesIn(dir.resolve("links"))).containsExactly("out.json");
    }

    @Test
    void aChainOfLinksIsFollowedToTheEnd() throws IOException {
        Path real = Files.writeString(dir.resolve("real.txt"), "old");
        Path middle = Files.createSymbolicLink(dir.resolve("middle"), real);
        Path first = Files.createSymbolicLink(dir.resolve("first"), middle.getFileName());
        AtomicFiles.writeString(first, "new");
        assertThat(real).hasContent("new");
        assertThat(Files.isSymbolicLink(first)).isTrue();
        assertThat(Files.isSymbolicLink(middle)).isTrue();
        assertThat(AtomicFiles.destination(first)).isEqualTo(
                new AtomicFiles.Destination(real.toRealPath(), true));
    }

    @Test
    void aDanglingLinkWritesTheFileItNames() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("out.json"), Path.of("made/later.json"));
        AtomicFiles.writeString(link, "x");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(dir.resolve("made/later.json")).isRegularFile().hasContent("x");
        assertThat(link).hasContent("x");
    }

    @Test
    void linksThatLoopAreAnOutputPathProblem() throws IOException {
        Path a = dir.resolve("a");
        Files.createSymbolicLink(a, Path.of("b"));
        Files.createSymbolicLink(dir.resolve("b"), Path.of("a"));
        assertThatThrownBy(() -> AtomicFiles.writeString(a, "x")).isInstanceOf(OutputPathException.class)
                .hasMessage(a + ": cannot write: too many levels of symbolic links");
        assertThat(namesIn(dir)).containsExactly("a", "b");
    }

    @Test
    void twoNamesOfOneFileHaveOneDestination() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), sub);
        // Neither file exists yet: the directories they would go in decide.
        assertThat(AtomicFiles.destination(alias.resolve("x.png")).path())
                .isEqualTo(AtomicFiles.destination(sub.resolve("../sub/x.png")).path())
                .isEqualTo(sub.toRealPath().resolve("x.png"));
        assertThat(AtomicFiles.destination(sub.resolve("new/x.png")).path())
                .isEqualTo(sub.toRealPath().resolve("new/x.png"));
    }

    /**
     * A command ended by a signal (Ctrl-C, {@code kill}) while it writes an output: nothing appears under the final
     * name, and its temporary files, the one being written and those staged for {@link AtomicFiles#together}, are
     * deleted too (a trace's was left behind, hidden and as large as the trace written so far).
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void endingTheJvmBySignalMidWriteLeavesNoFiles() throws Exception {
        for (String mode : List.of("single", "together", "new-directories")) {
            Path out = Files.createDirectory(dir.resolve(mode));
            Path marker = dir.resolve(mode + ".writing");
            Path log = dir.resolve(mode + ".log");
            Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), WriteAndHoldMain.class.getName(), mode,
                    out.toString(), marker.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                for (int i = 0; i < 1000 && !Files.exists(marker) && jvm.isAlive(); i++) {
                    Thread.sleep(20);
                }
                assertThat(marker).as(mode + ": " + Files.readString(log)).exists();
                assertThat(namesIn(out)).as(mode + ": a temporary file is being written").isNotEmpty();
                jvm.destroy(); // SIGTERM
                assertThat(jvm.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(namesIn(out)).as(mode).isEmpty();
            } finally {
                jvm.destroyForcibly();
            }
        }
    }

    /** A FIFO made with mkfifo(1); the test is skipped where there is none. */
    private Path fifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        int code;
        try {
            code = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
        } catch (IOException e) {
            code = -1;
        }
        assumeTrue(code == 0 && Files.exists(fifo), "mkfifo is not available");
        return fifo;
    }

    /** Reads a FIFO whole in a daemon thread (a reader must open it for a writer to get through). */
    private static CompletableFuture<byte[]> reader(Path fifo) {
        CompletableFuture<byte[]> read = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                read.complete(Files.readAllBytes(fifo));
            } catch (Throwable e) {
                read.completeExceptionally(e);
            }
        });
        t.setDaemon(true); // stays blocked in open() if nothing writes: must not hold up the JVM
        t.start();
        return read;
    }

    @Test
    void aFifoIsWrittenThroughNotReplaced() throws Exception {
        Path fifo = fifo("out.fifo");
        CompletableFuture<byte[]> read = reader(fifo);
        AtomicFiles.writeString(fifo, "through the pipe");
        assertThat(read.get(20, TimeUnit.SECONDS)).asString(StandardCharsets.UTF_8).isEqualTo("through the pipe");
        assertThat(Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther())
                .isTrue();
        assertThat(namesIn(dir)).containsExactly("out.fifo");
        assertThat(AtomicFiles.destination(fifo)).isEqualTo(new AtomicFiles.Destination(fifo, false));
    }

    @Test
    void aLinkToAFifoWritesThroughIt() throws Exception {
        Path fifo = fifo("pipe");
        Path link = Files.createSymbolicLink(dir.resolve("link"), fifo.getFileName());
        CompletableFuture<byte[]> read = reader(fifo);
        AtomicFiles.writeString(link, "via the link");
        assertThat(read.get(20, TimeUnit.SECONDS)).asString(StandardCharsets.UTF_8).isEqualTo("via the link");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther())
                .isTrue();
    }

    @Test
    void togetherPutsEveryFileInPlaceAtTheEnd() throws IOException {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("sub/b.png");
        Files.writeString(a, "old");
        AtomicFiles.together(() -> {
            AtomicFiles.writeString(a, "new a");
            assertThat(a).hasContent("old"); // staged, not yet in place
            AtomicFiles.writeString(b, "new b");
            assertThat(b).doesNotExist();
        });
        assertThat(a).hasContent("new a");
        assertThat(b).hasContent("new b");
        assertThat(namesIn(dir)).containsExactly("a.json", "sub");
        assertThat(namesIn(dir.resolve("sub"))).containsExactly("b.png");
    }

    @Test
    void togetherLeavesNothingWhenALaterFileFails() throws IOException {
        Path a = dir.resolve("a.json");
        Files.writeString(a, "old");
        Path fresh = dir.resolve("fresh.json");
        Path taken = Files.createDirectory(dir.resolve("taken"));
        assertThatThrownBy(() -> AtomicFiles.together(() -> {
            AtomicFiles.writeString(a, "new");
            AtomicFiles.writeString(fresh, "new");
            AtomicFiles.writeString(taken, "x");
        })).isInstanceOf(OutputPathException.class);
        assertThat(a).hasContent("old");
        assertThat(namesIn(dir)).containsExactly("a.json", "taken");
        // A failure of the code itself, after files were staged, also leaves nothing.
        assertThatThrownBy(() -> AtomicFiles.together(() -> {
            AtomicFiles.writeString(fresh, "new");
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(namesIn(dir)).containsExactly("a.json", "taken");
    }

    /**
     * Directories made for a file that never appears are removed with its temporary file, those of other files
     * and those that were there before kept: a run that failed (or was ended) before its output directory held
     * anything left that directory, empty.
     */
    @Test
    void directoriesMadeForAFileThatNeverAppearsAreRemoved() throws IOException {
        Path existing = Files.createDirectory(dir.resolve("existing"));
        assertThatThrownBy(() -> AtomicFiles.write(existing.resolve("new/deeper/out.json"), out -> {
            out.write('x');
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(namesIn(dir)).containsExactly("existing");
        assertThat(namesIn(existing)).isEmpty();
        // A group: one file in a directory of its own, one below it; neither appears, nor do their directories.
        assertThatThrownBy(() -> AtomicFiles.together(() -> {
            AtomicFiles.writeString(dir.resolve("out/summary.json"), "{}");
            AtomicFiles.writeString(dir.resolve("out/plots/a.png"), "png");
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(namesIn(dir)).containsExactly("existing");
        // A directory that holds a file in place is kept when a later file in it fails.
        AtomicFiles.writeString(dir.resolve("kept/first.txt"), "in place");
        assertThatThrownBy(() -> AtomicFiles.write(dir.resolve("kept/sub/second.txt"), out -> {
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(namesIn(dir.resolve("kept"))).containsExactly("first.txt");
    }

    @Test
    void togetherRefusesOneFileTwice() throws IOException {
        Path a = dir.resolve("a.json");
        Path alias = Files.createSymbolicLink(dir.resolve("alias.json"), a.getFileName());
        assertThatThrownBy(() -> AtomicFiles.together(() -> {
            AtomicFiles.writeString(a, "first");
            AtomicFiles.writeString(alias, "second");
        })).isInstanceOf(OutputPathException.class).hasMessageContaining("written twice");
        assertThat(namesIn(dir)).containsExactly("alias.json");
    }

    @Test
    void togetherNestedJoinsTheOuterGroup() throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        AtomicFiles.together(() -> {
            AtomicFiles.together(() -> AtomicFiles.writeString(a, "a"));
            assertThat(a).doesNotExist(); // the inner group ended, the outer has not
            AtomicFiles.writeString(b, "b");
        });
        assertThat(a).hasContent("a");
        assertThat(b).hasContent("b");
    }

    @Test
    void togetherWritesAFifoLast() throws Exception {
        Path fifo = fifo("out.fifo");
        Path file = dir.resolve("file.txt");
        CompletableFuture<byte[]> read = reader(fifo);
        AtomicFiles.together(() -> {
            AtomicFiles.writeString(fifo, "piped");
            AtomicFiles.writeString(file, "filed");
        });
        assertThat(read.get(20, TimeUnit.SECONDS)).asString(StandardCharsets.UTF_8).isEqualTo("piped");
        assertThat(file).hasContent("filed");
    }

    @Test
    void checkWritableLeavesNothingBehind() throws IOException {
        Path target = dir.resolve("deep/er/out.json");
        assertThat(AtomicFiles.checkWritable(target))
                .isEqualTo(new AtomicFiles.Destination(dir.toRealPath().resolve("deep/er/out.json"), true));
        assertThat(namesIn(dir)).isEmpty(); // neither the probe nor the directories
        Path existing = Files.writeString(dir.resolve("existing.json"), "keep");
        AtomicFiles.checkWritable(existing);
        assertThat(existing).hasContent("keep");
        assertThat(namesIn(dir)).containsExactly("existing.json");
    }

    @Test
    void checkWritableAsksTheFileSystem() throws IOException {
        // Root may write anywhere by permissions; /proc still refuses new files, which only trying shows.
        assumeTrue(Files.isDirectory(Path.of("/proc/self")));
        Path target = Path.of("/proc/moelab-test.png");
        assertThatThrownBy(() -> AtomicFiles.checkWritable(target)).isInstanceOf(OutputPathException.class)
                .hasMessageStartingWith(target + ": cannot write: ");
    }

    @Test
    void aWriteFailureNamesTheFile() {
        // /dev/full answers every write with ENOSPC, as a full disk does: the failure used to surface as a bare
        // "No space left on device" (wrapped by whatever serializer was writing), naming no file.
        Path full = Path.of("/dev/full");
        assumeTrue(Files.exists(full) && Files.isWritable(full), "/dev/full is not available");
        Throwable t = catchThrowable(() -> AtomicFiles.write(full, out -> out.write(new byte[1 << 17])));
        assertThat(t).isInstanceOf(java.nio.file.FileSystemException.class)
                .isNotInstanceOf(OutputPathException.class)
                .hasMessage("/dev/full: cannot write: No space left on device");
        assertThat(Files.exists(full)).isTrue();
    }

    @Test
    void aTargetNameNearTheLengthLimitIsWritten() throws IOException {
        // 250 bytes is a valid name; the temporary file's longer name once made it fail ("File name too long").
        for (String name : new String[] {"x".repeat(250), "é".repeat(125)}) {
            Path target = dir.resolve(name);
            AtomicFiles.writeString(target, "long");
            assertThat(target).hasContent("long");
            AtomicFiles.checkWritable(target);
        }
        assertThat(namesIn(dir)).hasSize(2);
    }

    /** The files under {@code directory} and their content, directories as {@code name/}: what an end now leaves. */
    private static Map<String, String> left(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            Map<String, String> left = new TreeMap<>();
            for (Path f : files.filter(f -> !f.equals(directory)).toList()) {
                String name = directory.relativize(f).toString();
                // A directory by its name and a slash, so that an empty one left behind shows.
                left.put(Files.isDirectory(f) ? name + "/" : name, Files.isDirectory(f) ? "" : Files.readString(f));
            }
            return left;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Set as {@link AtomicFiles#beforeRename} (or {@link AtomicFiles#afterCreate}): at the {@code at}-th rename (or
     * temporary file created), runs the shutdown hook's logic on another thread, as a signal arriving then would. The
     * JVM may end as soon as the hook is done: where it is done before the rename goes on, what {@code dir} holds then
     * is what such an end leaves ({@link #left}); where it waits, the rename goes on and what the end leaves is taken
     * once the hook is done ({@link #finish}).
     */
    private static final class SignalAt implements Runnable {
        private final Path dir;
        private final int at;
        private int renames;
        private Thread hook;
        private Map<String, String> left;

        SignalAt(Path dir, int at) {
            this.dir = dir;
            this.at = at;
        }

        @Override
        public void run() {
            if (++renames != at) {
                return;
            }
            hook = new Thread(AtomicFiles::deletePending, "test-shutdown-hook");
            hook.start();
            while (true) {
                switch (hook.getState()) {
                    case TERMINATED -> {
                        left = left(dir);
                        return;
                    }
                    case WAITING, TIMED_WAITING, BLOCKED -> {
                        return;
                    }
                    default -> Thread.onSpinWait();
                }
            }
        }

        /**
         * Waits for the hook, lets files be put in place again (the JVM did not really end) and returns what an end
         * as soon as the hook was done left.
         */
        Map<String, String> finish() throws InterruptedException {
            AtomicFiles.beforeRename = null;
            AtomicFiles.afterCreate = null;
            if (hook != null) {
                hook.join();
                if (left == null) {
                    left = left(dir);
                }
            }
            AtomicFiles.reopen();
            return left;
        }
    }

    /**
     * A signal just before the rename, once the temporary file is complete: the hook ran while the file was in no
     * list of pending files, and the JVM ending before the rename left the whole temporary file behind.
     */
    @Test
    void aSignalJustBeforeTheRenameLeavesNoTemporaryFile() throws Exception {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old");
        SignalAt signal = new SignalAt(dir, 1);
        AtomicFiles.beforeRename = signal;
        Map<String, String> left;
        try {
            catchThrowable(() -> AtomicFiles.writeString(target, "new"));
        } finally {
            left = signal.finish();
        }
        assertThat(left).isIn(Map.of("out.txt", "old"), Map.of("out.txt", "new"));
    }

    /**
     * A signal just after the temporary file is created, before a byte is written: a hook done before the write goes
     * on must delete it (created but not yet listed as pending, it was forgotten by the hook and left behind by the
     * JVM's end, as large as what was written by then).
     */
    @Test
    void aSignalJustAfterTheTemporaryFileIsCreatedLeavesNoTemporaryFile() throws Exception {
        Path target = dir.resolve("sub/out.txt");
        SignalAt signal = new SignalAt(dir, 1);
        AtomicFiles.afterCreate = signal;
        Map<String, String> left;
        try {
            catchThrowable(() -> AtomicFiles.writeString(target, "new"));
        } finally {
            left = signal.finish();
        }
        assertThat(left).isIn(Map.of(), Map.of("sub/", "", "sub/out.txt", "new"));
    }

    /** A signal between the renames of a group: all of its files appear, or none, and no temporary file stays. */
    @Test
    void aSignalBetweenTheRenamesOfAGroupLeavesAllOrNone() throws Exception {
        Path a = dir.resolve("a.txt");
        Path b = dir.resolve("b.txt");
        Files.writeString(a, "old");
        Files.writeString(b, "old");
        SignalAt signal = new SignalAt(dir, 2);
        AtomicFiles.beforeRename = signal;
        Map<String, String> left;
        try {
            catchThrowable(() -> AtomicFiles.together(() -> {
                AtomicFiles.writeString(a, "new");
                AtomicFiles.writeString(b, "new");
            }));
        } finally {
            left = signal.finish();
        }
        assertThat(left).isIn(Map.of("a.txt", "old", "b.txt", "old"), Map.of("a.txt", "new", "b.txt", "new"));
    }
    /** Once the hook has run, a write completed afterwards puts nothing in place and deletes its temporary file. */
    @Test
    void afterTheHookNothingIsPutInPlace() throws Exception {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old");
        AtomicFiles.deletePending();
        try {
            assertThatThrownBy(() -> AtomicFiles.writeString(target, "new")).isInstanceOf(IOException.class)
                    .hasMessageContaining("the program is ending");
        } finally {
            AtomicFiles.reopen();
        }
        assertThat(namesIn(dir)).containsExactly("out.txt");
        assertThat(target).hasContent("old");
        AtomicFiles.writeString(target, "new");
        assertThat(target).hasContent("new");
    }
}
