package io.moelab.cli;

import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.WholeNumbers;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.io.OutputPathException;
import io.moelab.runtime.ModelFormatException;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.util.Locale;
import picocli.CommandLine;

/**
 * Entry point of {@code bin/moelab}. Exit codes: 0 success, 1 failure, 2 bad input or usage. Errors print one
 * {@code error:} line on stderr; stack traces only with {@code --verbose}.
 */
public final class Main {
    /**
     * Exit code for bad input: malformed files, invalid values, unknown names, usage errors, output paths that cannot
     * be written ({@link OutputPathException}).
     */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code for other failures. */
    public static final int EXIT_FAILURE = 1;
    /**
     * Exit code of a command cut short by Ctrl-C or {@code kill} (128 + SIGINT). The process's own status is the
     * signal's, whatever a command returns; this is what {@link #run} returns then.
     */
    public static final int EXIT_INTERRUPTED = 130;

    private Main() {
    }

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        MoelabCommand root = new MoelabCommand();
        CommandLine cmd = new CommandLine(root);
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        WholeNumbers.register(cmd);
        cmd.setParameterExceptionHandler((ex, ignored) -> {
            CommandLine failed = ex.getCommandLine();
            err.println("error: " + ex.getMessage() + " (see '" + failed.getCommandSpec().qualifiedName()
                    + " --help')");
            if (root.verbose()) {
                ex.printStackTrace(err);
            }
            return EXIT_BAD_INPUT;
        });
        cmd.setExecutionExceptionHandler((ex, failed, parseResult) -> {
            if (jvmEnding()) {
                // Ctrl-C or kill: the shutdown hooks deleted what was half-written and refuse to put files in
                // place, so the command fails on its way out. That is not an error of the user's to report.
                if (root.verbose()) {
                    ex.printStackTrace(err);
                }
                return EXIT_INTERRUPTED;
            }
            if (ex instanceof InvalidInputException e && failed.getCommand() instanceof OptionFields f) {
                // The library's "window" is the user's --window.
                ex = OptionFields.asTyped(e, failed.getCommandSpec(), f.fieldOptions());
            }
            // An output path the user can fix (a directory in the file's place, a file where a parent goes, no
            // access) is bad input; the file system failing while writing (disk full, I/O error) is a failure.
            int code = ex instanceof InvalidInputException || ex instanceof ModelFormatException
                    || ex instanceof OutputPathException ? EXIT_BAD_INPUT : EXIT_FAILURE;
            // One line, whatever a library put in the message (the rest is for --verbose).
            err.println("error: " + describe(ex).lines().findFirst().orElse(""));
            if (root.verbose()) {
                ex.printStackTrace(err);
            }
            return code;
        });
        try {
            return cmd.execute(args);
        } catch (OutOfMemoryError e) {
            // Errors pass picocli's handlers. The allocation that failed is gone, so there is room to say what
            // happened; what was being written is still only a temporary file.
            err.printf(Locale.ROOT, "error: out of memory (this JVM's heap is %d MiB; give it more with "
                    + "MOELAB_JAVA_OPTS=-Xmx..., or ask for less)%n", Runtime.getRuntime().maxMemory() >> 20);
            if (root.verbose()) {
                e.printStackTrace(err);
            }
            return EXIT_FAILURE;
        }
    }

    /** Whether the JVM is shutting down: it then refuses new shutdown hooks. */
    static boolean jvmEnding() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /** The exception's message, or its type where it has none (an internal failure). */
    private static String describe(Throwable ex) {
        // A library that wraps a write failure (a serializer's own exception type) still names the file: the
        // file system's exception, wherever it is in the chain, says what failed where. Our own messages stand.
        boolean ours = ex instanceof InvalidInputException || ex instanceof ModelFormatException;
        for (Throwable c = ex.getCause(); c != null && !ours && !(ex instanceof FileSystemException);
                c = c.getCause()) {
            if (c instanceof FileSystemException) {
                ex = c;
            }
        }
        if (ex instanceof FileSystemException fs) {
            // Its message is the path, with the reason only where the file system gave one.
            return fs.getFile() + (fs.getOtherFile() == null ? "" : " -> " + fs.getOtherFile()) + ": "
                    + AtomicFiles.reason(fs);
        }
        String message = ex.getMessage();
        if (ex instanceof InvalidInputException || ex instanceof ModelFormatException
                || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException) {
            return message;
        }
        return ex.getClass().getSimpleName() + (message == null ? "" : ": " + message)
                + " (rerun with --verbose for details)";
    }
}
