package io.moelab.evolve.process;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs untrusted commands (candidate programs and their evaluators) so that nothing they do can stall the
 * caller: a hard wall-clock timeout, a cap on output, and on timeout, on the output cap and after a normal
 * exit the whole process tree is killed, including children a candidate left running in the background.
 * On Linux the child starts in a new session ({@code setsid}), so its process group can be killed at once even
 * if intermediate processes have exited; elsewhere the descendants known to the JVM are killed. When this JVM
 * is ended by a signal (Ctrl-C, {@code kill}) or exits, the trees still running are killed too; on Linux also when
 * it is killed outright ({@code kill -9}), by a watcher in the child's group.
 */
public final class ChildProcess {
    private static final Path SETSID = Path.of("/usr/bin/setsid");
    private static final Path SH = Path.of("/bin/sh");
    /**
     * Runs its arguments after {@code $1} (a pid) in place of the shell, with a watcher in the same process group
     * that kills the whole group once that pid is gone. The reaper below cannot run when this JVM is killed outright
     * (SIGKILL, the OOM killer), and a child in a session of its own then ran on, a hanging one forever; the watcher
     * outlives the JVM and ends it within about a second.
     */
    private static final String WATCH_PARENT = "p=$1; shift; (while kill -0 \"$p\" 2>/dev/null; do sleep 1; done; "
            + "kill -KILL 0) </dev/null >/dev/null 2>&1 & exec \"$@\"";
    private static final long POLL_MILLIS = 20;
    /** Processes running now, with whether each leads its own process group. */
    private static final Map<Process, Boolean> LIVE = new ConcurrentHashMap<>();
    private static volatile boolean exiting;

    static {
        // A child in a session of its own gets none of the terminal's signals: without this, Ctrl-C ended the run
        // and left a hanging candidate running, with nothing left to enforce its timeout.
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcess::killAll, "moelab-child-reaper"));
    }

    private ChildProcess() {
    }

    /**
     * Runs {@code spec} to its end.
     *
     * @throws IOException          if the command cannot be started (for example, no such program)
     * @throws InterruptedException if this thread is interrupted, or the JVM is shutting down; the process tree is
     *                              killed first
     */
    public static ProcessOutcome run(ProcessSpec spec) throws IOException, InterruptedException {
        Files.createDirectories(spec.workDir());
        Path out = spec.workDir().resolve("stdout.txt");
        Path err = spec.workDir().resolve("stderr.txt");
        List<String> command = new ArrayList<>();
        boolean ownGroup = Files.isExecutable(SETSID);
        if (ownGroup) {
            command.add(SETSID.toString());
            if (Files.isExecutable(SH)) {
                command.addAll(List.of(SH.toString(), "-c", WATCH_PARENT, "sh",
                        Long.toString(ProcessHandle.current().pid())));
            }
        }
        command.addAll(spec.command());
        ProcessBuilder builder = new ProcessBuilder(command).directory(spec.workDir().toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
        builder.environment().putAll(spec.env());
        // Sizes are read from channels opened before the child starts (it truncates and writes the same files):
        // a child that deletes or renames its output files can neither hide its output from the cap nor make
        // the size check fail while its process tree is still running.
        try (FileChannel outFile = sizeChannel(out); FileChannel errFile = sizeChannel(err)) {
            // Saturated, and compared with the elapsed time, not added to the start: a timeout beyond about 292 years
            // (Duration.ofSeconds(Long.MAX_VALUE) as "no limit") threw ArithmeticException once the child was
            // running, leaving it unwatched, and a start plus timeout past Long.MAX_VALUE wrapped to a deadline
            // already passed.
            long limit = nanos(spec.timeout());
            long start = System.nanoTime();
            Process process = builder.start();
            ProcessOutcome.Ending ending = ProcessOutcome.Ending.EXITED;
            LIVE.put(process, ownGroup);
            try {
                if (exiting) {
                    // Started while the JVM shuts down, after the reaper looked: killed below.
                    throw new InterruptedException("the JVM is shutting down");
                }
                while (!process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                    if (System.nanoTime() - start >= limit) {
                        ending = ProcessOutcome.Ending.TIMED_OUT;
                        break;
                    }
                    if (outFile.size() + errFile.size() > spec.maxOutputBytes()) {
                        ending = ProcessOutcome.Ending.OUTPUT_LIMIT;
                        break;
                    }
                }
                // Output written faster than the first check (a few MB within the poll interval) is over the cap
                // too: it passed or failed depending on timing alone.
                if (ending == ProcessOutcome.Ending.EXITED
                        && outFile.size() + errFile.size() > spec.maxOutputBytes()) {
                    ending = ProcessOutcome.Ending.OUTPUT_LIMIT;
                }
            } finally {
                // Always, also after a normal exit (background children of a candidate must not outlive its
                // evaluation) and when interrupted or failing.
                killTree(process, ownGroup);
                LIVE.remove(process);
            }
            process.waitFor();
            if (exiting) {
                // Killed, or possibly so, because the JVM is ending, not for anything it did: no outcome to record
                // (a failure recorded now would not be evaluated again on resume).
                throw new InterruptedException("the JVM is shutting down");
            }
            Duration wall = Duration.ofNanos(System.nanoTime() - start);
            int code = ending == ProcessOutcome.Ending.EXITED ? process.exitValue() : -1;
            return new ProcessOutcome(code, ending, wall, out, err);
        }
    }

    /** A duration in nanoseconds, the largest long for one too long to count so (a deadline never reached). */
    private static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * A new, empty file at {@code file}, open for its size. Whatever was there goes first, without being followed:
     * an earlier stage of the same candidate can leave a named pipe there, whose opening blocked before the child
     * started (where no timeout applies), or a link, through which the child's output truncated and filled the file
     * it points to.
     */
    private static FileChannel sizeChannel(Path file) throws IOException {
        Files.deleteIfExists(file);
        return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** Kills every process tree still running: the JVM is exiting. */
    private static void killAll() {
        exiting = true;
        LIVE.forEach(ChildProcess::killTree);
    }

    /** Kills the process, its process group (when it leads one) and every descendant the JVM can see. */
    static void killTree(Process process, boolean ownGroup) {
        List<ProcessHandle> descendants = process.descendants().toList();
        if (ownGroup) {
            try {
                // The leader's pid is the group id; "-pid" addresses the whole group.
                Process kill = new ProcessBuilder("kill", "-KILL", "--", "-" + process.pid())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                kill.waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                // Fall through to the per-process kill below.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        descendants.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /**
     * The last {@code maxBytes} of a file as text (invalid UTF-8 replaced), prefixed with a note when cut; empty
     * if the file is missing or not a regular file (a named pipe a child put in place of its output file: reading
     * one blocks until something writes to it, which nothing does).
     */
    public static String tail(Path file, int maxBytes) {
        if (!Files.isRegularFile(file)) {
            return "";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            int n = (int) Math.min(length, Math.max(0, maxBytes));
            byte[] bytes = new byte[n];
            raf.seek(length - n);
            raf.readFully(bytes);
            String text = new String(bytes, StandardCharsets.UTF_8);
            return length > n ? "[... " + (length - n) + " bytes cut ...]\n" + text : text;
        } catch (IOException e) {
            return "";
        }
    }

    private static java.io.File nullDevice() {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }
}
