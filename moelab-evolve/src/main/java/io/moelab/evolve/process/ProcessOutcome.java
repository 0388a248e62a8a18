package io.moelab.evolve.process;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a child process ended.
 *
 * @param exitCode     the exit code, or -1 when it was killed
 * @param ending       why it ended
 * @param wall         wall-clock time from start to end
 * @param stdout       file holding its standard output
 * @param stderr       file holding its standard error
 */
public record ProcessOutcome(int exitCode, Ending ending, Duration wall, Path stdout, Path stderr) {

    /** Why a process ended. */
    public enum Ending {
        /** It exited by itself. */
        EXITED,
        /** It ran past its timeout and was killed with its process tree. */
        TIMED_OUT,
        /** It wrote more output than allowed and was killed with its process tree. */
        OUTPUT_LIMIT
    }

    /** Whether it exited by itself with code 0. */
    public boolean succeeded() {
        return ending == Ending.EXITED && exitCode == 0;
    }
}
