package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Another moelab run on a directory, as the commands see one: a child JVM that holds an operating-system lock on
 * {@code DIR/.moelab.lock} (with its pid in it) until it is killed. Made with a plain {@link FileChannel}, not the
 * CLI's own lock class, so that the tests check the protocol, not one class against itself.
 */
public final class LockHolder implements AutoCloseable {
    private final Process process;

    private LockHolder(Process process) {
        this.process = process;
    }

    /** Starts a child JVM that creates {@code dir} if needed and locks it; returns once it holds the lock. */
    public static LockHolder start(Path dir) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                LockHolder.class.getName(), dir.toString())).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("the lock holder's first line").isEqualTo("locked");
        return new LockHolder(p);
    }

    /** The child's pid. */
    public long pid() {
        return process.pid();
    }

    /** Kills the child (SIGKILL: no shutdown hook, no clean-up) and waits for it: its lock file stays, unlocked. */
    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    /** The child: locks {@code args[0]}/.moelab.lock, writes its pid there, says so, and waits to be killed. */
    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        FileChannel channel = FileChannel.open(dir.resolve(".moelab.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            System.out.println("not locked");
            return;
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
