package io.moelab.evolve.process;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A JVM that runs one hanging child (which writes its own pid and a background child's to the files given) under a
 * long timeout, so that a test can end this JVM with a signal while the child runs. Arguments: work directory, pid
 * file, and optionally a file where what {@link ChildProcess#run} did is written ("returned ENDING CODE" or
 * "interrupted"), this JVM's shutdown waiting for it.
 */
public final class HoldChildMain {
    private HoldChildMain() {
    }

    /** Runs the child; the test kills this JVM long before the timeout. */
    public static void main(String[] args) throws Exception {
        String script = "sleep 300 & echo \"$$ $!\" > " + args[1] + ".tmp; mv " + args[1] + ".tmp " + args[1]
                + "; sleep 300";
        Thread main = Thread.currentThread();
        if (args.length > 2) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    main.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        String result;
        try {
            ProcessOutcome o = ChildProcess.run(new ProcessSpec(List.of("sh", "-c", script), Path.of(args[0]),
                    Duration.ofSeconds(120), Map.of(), 1 << 20));
            result = "returned " + o.ending() + " " + o.exitCode();
        } catch (InterruptedException e) {
            result = "interrupted";
        }
        if (args.length > 2) {
            Files.writeString(Path.of(args[2]), result);
        }
    }
}
