package io.moelab.cli.support;

import java.io.Console;
import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One line on stderr that says what long work is doing now, rewritten in place, shown only on an interactive
 * terminal. Unlike {@link Progress} it has no thread of its own redrawing it: it is written only when told, so a
 * benchmark that tells it between its timed parts is not disturbed by it. Cleared when closed, and by a shutdown
 * hook when a signal ends the run, so that the shell's prompt is not drawn after it.
 */
public final class StatusLine implements AutoCloseable {
    /** Erases from the cursor to the end of the line (ANSI). */
    private static final String ERASE = "\u001b[K";
    /** Lines showing now: cleared by the shutdown hook. */
    private static final Set<StatusLine> OPEN = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.forEach(StatusLine::close),
                    "moelab-status-line"));
        } catch (IllegalStateException e) {
            // First used while the JVM already shuts down: no line will be left showing.
        }
    }

    private final PrintStream err;
    private final String task;
    private boolean closed;

    private StatusLine(PrintStream err, String task) {
        this.err = err;
        this.task = task;
    }

    /** A status line for {@code task} on stderr, or a silent one when stderr is not an interactive terminal. */
    public static StatusLine start(String task) {
        Console console = System.console();
        if (console == null || !console.isTerminal()) {
            return new StatusLine(null, task);
        }
        StatusLine line = new StatusLine(System.err, task);
        OPEN.add(line);
        return line;
    }

    /** Shows {@code text} after the task's name, in place of what the line showed. */
    public synchronized void show(String text) {
        if (err != null && !closed) {
            err.print("\r" + task + ": " + text + ERASE);
            err.flush();
        }
    }

    /** Clears the line; again (from the work and the shutdown hook both), does nothing. */
    @Override
    public synchronized void close() {
        if (err != null && !closed) {
            closed = true;
            OPEN.remove(this);
            err.print("\r" + ERASE);
            err.flush();
        }
    }
}
