package io.moelab.evolve.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A command to run as a child process.
 *
 * @param command        program and arguments
 * @param workDir        working directory (created if missing); stdout and stderr go to files in it
 * @param timeout        hard wall-clock limit; the whole process tree is killed when it passes (one beyond about
 *                       292 years, which nanoseconds cannot count, never passes)
 * @param env            environment variables to set on top of this process's environment
 * @param maxOutputBytes stdout plus stderr beyond this kills the process (a candidate printing without end
 *                       must not fill the disk)
 */
public record ProcessSpec(List<String> command, Path workDir, Duration timeout, Map<String, String> env,
                          long maxOutputBytes) {
    /** Validates and copies. */
    public ProcessSpec {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        command = List.copyOf(command);
        env = Map.copyOf(env);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        if (maxOutputBytes <= 0) {
            throw new IllegalArgumentException("maxOutputBytes must be positive: " + maxOutputBytes);
        }
    }
}
