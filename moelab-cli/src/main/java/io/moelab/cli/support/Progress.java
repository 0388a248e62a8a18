package io.moelab.cli.support;

import java.io.Console;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * A progress bar with ETA on stderr while long work runs, shown only on an interactive terminal so that
 * redirected output and tests stay clean.
 *
 * <p>The bar's width follows the terminal's through a JLine terminal of its own that leaves the process's signal
 * handlers alone: the one the progress bar library opens by itself set SIGINT back to the operating system's default
 * while a bar showed, so that Ctrl-C killed the JVM without its shutdown hooks (a half-written output's temporary
 * file stayed, as large as what was written so far). A run ended by a signal closes its bars on the way out, so that
 * the shell's prompt is not drawn after one.
 */
public final class Progress implements AutoCloseable {
    /** Bars showing now: closed by the shutdown hook. */
    private static final Set<Progress> OPEN = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.forEach(Progress::close), "moelab-progress"));
        } catch (IllegalStateException e) {
            // First used while the JVM already shuts down: no bar will be left open.
        }
    }

    private final ProgressBar bar;
    private final Terminal terminal;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Progress(ProgressBar bar, Terminal terminal) {
        this.bar = bar;
        this.terminal = terminal;
    }

    /** Starts a bar of {@code total} units named {@code task}, or a silent one when not on a terminal. */
    public static Progress start(String task, long total) {
        Console console = System.console();
        if (console == null || !console.isTerminal()) {
            return new Progress(null, null);
        }
        Terminal terminal;
        try {
            terminal = TerminalBuilder.builder().system(true).nativeSignals(false).dumb(true).build();
        } catch (IOException | RuntimeException e) {
            return new Progress(null, null); // no bar rather than a failed command
        }
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err) {
                    // As the library's own: the terminal's width less one column, 80 where it tells none.
                    @Override
                    public int getMaxRenderedLength() {
                        int width = terminal.getWidth();
                        return (width >= 10 ? width : 80) - 1;
                    }
                })
                .setUpdateIntervalMillis(200)
                .clearDisplayOnFinish()
                .build();
        Progress progress = new Progress(bar, terminal);
        OPEN.add(progress);
        return progress;
    }

    /** Changes the number of units in all. */
    public void max(long total) {
        if (bar != null) {
            synchronized (this) {
                bar.maxHint(total);
            }
        }
    }

    /** Sets the units done; safe to call from several threads. */
    public void stepTo(long done) {
        if (bar != null) {
            synchronized (this) {
                bar.stepTo(Math.max(done, bar.getCurrent()));
            }
        }
    }

    /** Shows a short text after the bar (for example the best score so far). */
    public void extra(String text) {
        if (bar != null) {
            synchronized (this) {
                bar.setExtraMessage(text);
            }
        }
    }

    /** Clears the bar's line and ends it; again (from the work and the shutdown hook both), does nothing. */
    @Override
    public void close() {
        if (bar != null && closed.compareAndSet(false, true)) {
            OPEN.remove(this);
            bar.close();
            try {
                terminal.close();
            } catch (IOException e) {
                // Nothing to restore: the bar never changed the terminal's settings.
            }
        }
    }
}
