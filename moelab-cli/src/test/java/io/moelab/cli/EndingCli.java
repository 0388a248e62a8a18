package io.moelab.cli;

import io.moelab.eplb.io.AtomicFiles;
import java.io.PrintWriter;

/**
 * For {@link InterruptedRunTest}, in a child JVM: runs the CLI from a shutdown hook, once the temporary files' own
 * hook has run, as a command does when Ctrl-C arrives while it works. Prints {@code exit N} on stdout.
 */
public final class EndingCli {
    private EndingCli() {
    }

    public static void main(String[] args) {
        // Loads the class, whose static initializer registers the temporary files' hook, before the JVM ends.
        if (AtomicFiles.closing()) {
            throw new IllegalStateException("closing before the JVM ends");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!AtomicFiles.closing() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            PrintWriter out = new PrintWriter(System.out, true);
            int code = Main.run(args, out, new PrintWriter(System.err, true));
            out.println("exit " + code);
        }, "ending-cli"));
        System.exit(0);
    }
}
