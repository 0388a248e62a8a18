package io.moelab.evolve.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

@EnabledOnOs({OS.LINUX, OS.MAC})
class ChildProcessTest {
    @TempDir
    Path tmp;

    private ProcessOutcome sh(String script, Duration timeout, long maxOutput, Map<String, String> env)
            throws IOException, InterruptedException {
        return ChildProcess.run(new ProcessSpec(List.of("sh", "-c", script), tmp.resolve("work"), timeout, env,
                maxOutput));
    }

    private ProcessOutcome sh(String script) throws IOException, InterruptedException {
        return sh(script, Duration.ofSeconds(20), 1 << 20, Map.of());
    }

    /**
     * Whether a process is still running. A killed process whose parent died stays a zombie until init reaps
     * it, and some sandboxes' init never does: a zombie is dead for this purpose.
     */
    static boolean running(long pid) throws IOException {
        Path stat = Path.of("/proc/" + pid + "/stat");
        if (!Files.exists(stat)) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        String text = Files.readString(stat);
        char state = text.charAt(text.lastIndexOf(')') + 2);
        return state != 'Z' && state != 'X';
    }

    /** Waits up to a second for a process to die (a SIGKILL is delivered asynchronously). */
    private static boolean stillRunningAfterGrace(long pid) throws IOException, InterruptedException {
        for (int i = 0; i < 50; i++) {
            if (!running(pid)) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    private static long pidFrom(Path file) throws IOException, InterruptedException {
        for (int i = 0; i < 100 && (!Files.exists(file) || Files.readString(file).isBlank()); i++) {
            Thread.sleep(20);
        }
        return Long.parseLong(Files.readString(file).strip());
    }

    @Test
    void exitCodeAndOutputsAreCaptured() throws Exception {
        ProcessOutcome o = sh("echo out; echo err >&2; exit 7");
        assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.EXITED);
        assertThat(o.exitCode()).isEqualTo(7);
        assertThat(o.succeeded()).isFalse();
        assertThat(o.stdout()).isEqualTo(tmp.resolve("work/stdout.txt"));
        assertThat(Files.readString(o.stdout())).isEqualTo("out\n");
        assertThat(Files.readString(o.stderr())).isEqualTo("err\n");
        ProcessOutcome ok = sh("pwd");
        assertThat(ok.succeeded()).isTrue();
        assertThat(ok.exitCode()).isZero();
        assertThat(Path.of(Files.readString(ok.stdout()).strip()).toRealPath())
                .isEqualTo(tmp.resolve("work").toRealPath());
        // A second run in the same directory starts with empty files.
        ProcessOutcome quiet = sh("true");
        assertThat(Files.size(quiet.stdout())).isZero();
        assertThat(Files.size(quiet.stderr())).isZero();
    }

    @Test
    void timeoutKillsTheWholeTree() throws Exception {
        Path pidFile = tmp.resolve("bg.pid");
        long t0 = System.nanoTime();
        ProcessOutcome o = sh("sleep 300 & echo $! > " + pidFile + "; sleep 300", Duration.ofMillis(700),
                1 << 20, Map.of());
        Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.TIMED_OUT);
        assertThat(o.exitCode()).isEqualTo(-1);
        assertThat(o.succeeded()).isFalse();
        assertThat(o.wall()).isGreaterThanOrEqualTo(Duration.ofMillis(700)).isLessThan(Duration.ofMillis(2700));
        assertThat(elapsed).isLessThan(Duration.ofMillis(2700));
        assertThat(stillRunningAfterGrace(pidFrom(pidFile))).as("background sleep").isFalse();
    }

    /**
     * A timeout longer than nanoseconds can count (about 292 years: Duration.ofSeconds(Long.MAX_VALUE) as "no
     * limit") threw ArithmeticException after the child had started, leaving it running unwatched; one that fits
     * in nanoseconds but not added to the start time wrapped the deadline negative and killed the child at its
     * first poll as TIMED_OUT. Both now mean a deadline that never comes.
     */
    @Test
    void aTimeoutTooLongToCountInNanosecondsNeverExpires() throws Exception {
        for (Duration forever : List.of(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofNanos(Long.MAX_VALUE),
                Duration.ofDays(200 * 365))) {
            ProcessOutcome o = sh("sleep 0.2; echo ok", forever, 1 << 20, Map.of());
            assertThat(o.ending()).as("%s", forever).isEqualTo(ProcessOutcome.Ending.EXITED);
            assertThat(o.exitCode()).isZero();
            assertThat(Files.readString(o.stdout())).isEqualTo("ok\n");
        }
    }

    /**
     * A grandchild that left the child's process group for a session of its own is out of reach of the group's
     * kill: it is killed as a descendant the JVM saw.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void aGrandchildInASessionOfItsOwnIsKilledToo() throws Exception {
        Path pidFile = tmp.resolve("own.pid");
        ProcessOutcome o = sh("setsid sleep 300 & echo $! > " + pidFile + "; sleep 300", Duration.ofMillis(700),
                1 << 20, Map.of());
        assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.TIMED_OUT);
        long pid = pidFrom(pidFile);
        assertThat(stillRunningAfterGrace(pid)).as("grandchild %d in its own session", pid).isFalse();
    }

    @Test
    void backgroundChildOfAProcessThatExitedIsKilled() throws Exception {
        Path pidFile = tmp.resolve("bg.pid");
        ProcessOutcome o = sh("sleep 300 & echo $! > " + pidFile + "; echo done");
        assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.EXITED);
        assertThat(o.exitCode()).isZero();
        long pid = pidFrom(pidFile);
        assertThat(stillRunningAfterGrace(pid)).as("background sleep %d", pid).isFalse();
    }

    @Test
    void outputBeyondTheCapKillsTheProcess() throws Exception {
        long t0 = System.nanoTime();
        ProcessOutcome o = sh("while :; do echo 0123456789; done", Duration.ofSeconds(20), 10_000, Map.of());
        assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.OUTPUT_LIMIT);
        assertThat(o.exitCode()).isEqualTo(-1);
        assertThat(Files.size(o.stdout())).isGreaterThan(10_000);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        // stderr counts too.
        ProcessOutcome e = sh("while :; do echo 0123456789 >&2; done", Duration.ofSeconds(20), 10_000, Map.of());
        assertThat(e.ending()).isEqualTo(ProcessOutcome.Ending.OUTPUT_LIMIT);
    }

    /** A burst over the cap that ends before the first size check: it passed as a normal exit. */
    @Test
    void outputOverTheCapIsCaughtAfterAQuickExitToo() throws Exception {
        for (int i = 0; i < 5; i++) {
            ProcessOutcome o = sh("head -c 1500000 /dev/zero; echo done", Duration.ofSeconds(20), 1 << 20, Map.of());
            // 1,500,005 bytes when it exits before the first poll; 1,500,000 when a slow start lets the poll see the
            // burst and kill it before its last echo (an exact size failed the test on a busy machine).
            assertThat(Files.size(o.stdout())).isIn(1_500_000L, 1_500_005L);
            assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.OUTPUT_LIMIT);
            assertThat(o.exitCode()).isEqualTo(-1);
        }
        // stdout and stderr count together, also after the exit.
        ProcessOutcome both = sh("head -c 600000 /dev/zero; head -c 600000 /dev/zero >&2", Duration.ofSeconds(20),
                1 << 20, Map.of());
        assertThat(both.ending()).isEqualTo(ProcessOutcome.Ending.OUTPUT_LIMIT);
        // At the cap exactly: a normal exit.
        ProcessOutcome at = sh("head -c 1048571 /dev/zero; echo done", Duration.ofSeconds(20), 1 << 20, Map.of());
        assertThat(at.ending()).isEqualTo(ProcessOutcome.Ending.EXITED);
        assertThat(at.exitCode()).isZero();
    }

    @Test
    void deletingItsOutputFilesNeitherHidesOutputNorBreaksTheRun() throws Exception {
        // Unlinked, the file still grows: the cap must still see it.
        long t0 = System.nanoTime();
        ProcessOutcome o = sh("rm -f stdout.txt stderr.txt; while :; do echo 0123456789; done",
                Duration.ofSeconds(20), 10_000, Map.of());
        assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.OUTPUT_LIMIT);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        // A quiet child that deletes its files is timed out and killed like any other.
        Path pidFile = tmp.resolve("bg.pid");
        ProcessOutcome q = sh("rm -f stdout.txt stderr.txt; sleep 300 & echo $! > " + pidFile + "; sleep 300",
                Duration.ofMillis(500), 10_000, Map.of());
        assertThat(q.ending()).isEqualTo(ProcessOutcome.Ending.TIMED_OUT);
        assertThat(stillRunningAfterGrace(pidFrom(pidFile))).isFalse();
        assertThat(ChildProcess.tail(q.stdout(), 100)).isEmpty();
    }

    /**
     * A named pipe where an output file goes: opening one blocks until its other end is opened, which nothing
     * does. Left in the working directory before a run (an earlier stage of the same candidate can write there),
     * it held {@code run} before the command started, where no timeout applies; made by the command itself,
     * {@code tail} never returned. A link left there had the run truncate and fill the file it points to.
     */
    @Test
    void aNamedPipeOrLinkInPlaceOfAnOutputFileHoldsNothingUp() throws Exception {
        Path work = tmp.resolve("work");
        Files.createDirectories(work);
        mkfifo(work.resolve("stderr.txt"));
        Path outside = tmp.resolve("outside.txt");
        Files.writeString(outside, "keep\n");
        Files.createSymbolicLink(work.resolve("stdout.txt"), outside);
        ProcessOutcome o = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> sh("echo out; echo err >&2"));
        assertThat(o.succeeded()).isTrue();
        assertThat(o.stdout()).isRegularFile().hasContent("out\n");
        assertThat(o.stderr()).isRegularFile().hasContent("err\n");
        assertThat(outside).hasContent("keep\n");

        ProcessOutcome p = sh("rm -f stdout.txt; mkfifo stdout.txt; echo lost");
        assertThat(p.succeeded()).isTrue();
        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(60), () -> ChildProcess.tail(p.stdout(), 100)))
                .isEmpty();
    }

    private static void mkfifo(Path path) throws IOException, InterruptedException {
        assertThat(new ProcessBuilder("mkfifo", path.toString()).inheritIO().start().waitFor()).isZero();
    }

    @Test
    void environmentVariablesArePassedOnTopOfOurs() throws Exception {
        ProcessOutcome o = sh("echo \"$MOELAB_A|$MOELAB_B|${PATH:+path}\"", Duration.ofSeconds(20), 1 << 20,
                Map.of("MOELAB_A", "one two", "MOELAB_B", "$HOME"));
        assertThat(Files.readString(o.stdout())).isEqualTo("one two|$HOME|path\n");
    }

    @Test
    void missingProgramFailsToStartOrExitsNonZero() throws Exception {
        ProcessSpec spec = new ProcessSpec(List.of("/no/such/program-moelab"), tmp.resolve("w"),
                Duration.ofSeconds(10), Map.of(), 1000);
        try {
            ProcessOutcome o = ChildProcess.run(spec);
            assertThat(o.ending()).isEqualTo(ProcessOutcome.Ending.EXITED);
            assertThat(o.exitCode()).isNotZero();
            assertThat(o.succeeded()).isFalse();
        } catch (IOException expected) {
            // Without setsid the JVM itself reports it.
        }
    }

    @Test
    void interruptKillsTheTreeAndPropagates() throws Exception {
        Path pidFile = tmp.resolve("bg.pid");
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                sh("sleep 300 & echo $! > " + pidFile + "; sleep 300", Duration.ofSeconds(60), 1 << 20, Map.of());
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        long pid = pidFrom(pidFile);
        t.interrupt();
        t.join(5000);
        assertThat(t.isAlive()).isFalse();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(stillRunningAfterGrace(pid)).isFalse();
    }

    /** Starts a JVM running {@link HoldChildMain}'s hanging child, writing its pids to {@code pidFile}. */
    private Process startHoldingJvm(Path pidFile, Path... result) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString(), "-cp", System.getProperty("java.class.path"), HoldChildMain.class.getName(),
                tmp.resolve("w").toString(), pidFile.toString()));
        for (Path r : result) {
            command.add(r.toString());
        }
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(tmp.resolve("jvm.log").toFile())
                .start();
    }

    /** The held child's pid and its background child's, once written; both running. */
    private long[] heldPids(Path pidFile, long[] pids) throws IOException, InterruptedException {
        for (int i = 0; i < 500 && !Files.exists(pidFile); i++) {
            Thread.sleep(20);
        }
        assertThat(pidFile).as(Files.exists(tmp.resolve("jvm.log")) ? Files.readString(tmp.resolve("jvm.log"))
                : "").exists();
        String[] parts = Files.readString(pidFile).strip().split(" ");
        pids[0] = Long.parseLong(parts[0]);
        pids[1] = Long.parseLong(parts[1]);
        assertThat(running(pids[0])).isTrue();
        return pids;
    }

    /** Ends the JVM and the child's whole process group (it leads one): nothing of it may outlive a failed test. */
    private static void killAll(Process jvm, long[] pids) throws IOException, InterruptedException {
        jvm.destroyForcibly();
        if (pids[0] > 0) {
            new ProcessBuilder("kill", "-KILL", "--", "-" + pids[0]).start().waitFor();
        }
    }

    /**
     * The child runs in a session of its own, so the terminal's Ctrl-C never reaches it: ending the JVM that ran it
     * (SIGTERM here, as Ctrl-C or {@code kill} do) left it and its background child running. And the caller is told
     * the JVM is ending, not that the child exited.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void endingTheJvmBySignalKillsTheRunningTree() throws Exception {
        Path pidFile = tmp.resolve("pids");
        Path result = tmp.resolve("result");
        Process jvm = startHoldingJvm(pidFile, result);
        long[] pids = new long[2];
        try {
            heldPids(pidFile, pids);
            jvm.destroy(); // SIGTERM
            assertThat(jvm.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(stillRunningAfterGrace(pids[0])).as("the child").isFalse();
            assertThat(stillRunningAfterGrace(pids[1])).as("its background child").isFalse();
            // Killed because the JVM ended, not for anything it did: no outcome (the run would record it as failed
            // by exit code 137, and not evaluate it again on resume).
            assertThat(result).hasContent("interrupted");
        } finally {
            killAll(jvm, pids);
        }
    }

    /**
     * A JVM killed outright runs no shutdown hook: its child, in a session of its own, and the child's background
     * child ran on (a hanging candidate forever). The watcher in the child's group ends them within about a second.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void killingTheJvmOutrightEndsTheRunningTreeSoonAfter() throws Exception {
        Path pidFile = tmp.resolve("pids");
        Process jvm = startHoldingJvm(pidFile);
        long[] pids = new long[2];
        try {
            heldPids(pidFile, pids);
            jvm.destroyForcibly(); // SIGKILL
            assertThat(jvm.waitFor(20, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 250 && (running(pids[0]) || running(pids[1])); i++) {
                Thread.sleep(20);
            }
            assertThat(running(pids[0])).as("the child, 5 s after").isFalse();
            assertThat(running(pids[1])).as("its background child, 5 s after").isFalse();
        } finally {
            killAll(jvm, pids);
        }
    }

    @Test
    void tailKeepsTheEndOfABigFile() throws Exception {
        Path f = tmp.resolve("big.txt");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            sb.append("line ").append(i).append('\n');
        }
        String text = sb.toString();
        Files.writeString(f, text);
        int len = text.length();
        assertThat(ChildProcess.tail(f, 20)).isEqualTo("[... " + (len - 20) + " bytes cut ...]\n"
                + text.substring(len - 20));
        assertThat(text.substring(len - 20)).isEqualTo("line 1998\nline 1999\n");
        assertThat(ChildProcess.tail(f, len)).isEqualTo(text);
        assertThat(ChildProcess.tail(f, Integer.MAX_VALUE)).isEqualTo(text);
        assertThat(ChildProcess.tail(f, 0)).isEqualTo("[... " + len + " bytes cut ...]\n");
        assertThat(ChildProcess.tail(f, -1)).isEqualTo("[... " + len + " bytes cut ...]\n");
        assertThat(ChildProcess.tail(tmp.resolve("missing.txt"), 100)).isEmpty();
        // Cutting inside a multi-byte character leaves a replacement character, not an exception.
        Path u = tmp.resolve("utf8.txt");
        Files.writeString(u, "aé", StandardCharsets.UTF_8); // 61 C3 A9
        assertThat(ChildProcess.tail(u, 1)).isEqualTo("[... 2 bytes cut ...]\n\uFFFD");
        assertThat(ChildProcess.tail(u, 2)).isEqualTo("[... 1 bytes cut ...]\né");
    }

    @Test
    void specValidatesAndCopies() {
        Path w = tmp.resolve("w");
        assertThatThrownBy(() -> new ProcessSpec(List.of(), w, Duration.ofSeconds(1), Map.of(), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProcessSpec(List.of("x"), w, Duration.ZERO, Map.of(), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProcessSpec(List.of("x"), w, Duration.ofSeconds(-1), Map.of(), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProcessSpec(List.of("x"), w, Duration.ofSeconds(1), Map.of(), 0))
                .isInstanceOf(IllegalArgumentException.class);
        List<String> cmd = new ArrayList<>(List.of("a", "b"));
        ProcessSpec spec = new ProcessSpec(cmd, w, Duration.ofSeconds(1), Map.of(), 1);
        cmd.add("c");
        assertThat(spec.command()).containsExactly("a", "b");
        try {
            spec.command().add("d");
            fail("command list is modifiable");
        } catch (UnsupportedOperationException expected) {
            // immutable copy
        }
    }
}
