package io.moelab.cli.support;

import java.io.Console;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar with ETA on stderr while long work runs, shown only on an interactive terminal so that
 * redirected output and tests stay clean.
 */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** Starts a bar of {@code total} units named {@code task}, or a silent one when not on a terminal. */
    public static Progress start(String task, long total) {
        Console console = System.console();
        if (console == null || !console.isTerminal()) {
            return new Progress(null);
        }
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .setUpdateIntervalMillis(200)
                .clearDisplayOnFinish()
                .build();
        return new Progress(bar);
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

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
