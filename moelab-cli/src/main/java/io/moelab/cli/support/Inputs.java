package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Standard input as an input: {@code -} names it where a command reads a stream a user would pipe (a trace, a JSON
 * input, a text), the counterpart of {@link Outputs#STDOUT}. It is read as the same bytes in a file would be, and its
 * errors are the file's, naming {@value #NAME} where they name the file. Standard input can be read once, so at most
 * one input of a command may be {@code -} ({@link #requireOne}); an input that is a directory refuses it
 * ({@link #refuseDirectory}). {@code ./-} names a file called {@code -}.
 */
public final class Inputs {
    /** The input name that means standard input. */
    public static final String STDIN = "-";
    /** How errors and notes name standard input. */
    public static final String NAME = "standard input";

    private Inputs() {
    }

    /**
     * Whether the input as given is standard input.
     *
     * @param given the input as given (a path or its text); null (not given) is not standard input
     */
    public static boolean isStdin(Object given) {
        return given != null && given.toString().equals(STDIN);
    }

    /** How errors and notes name an input: {@value #NAME} for {@code -}, else the path as given. */
    public static String name(Object given) {
        return isStdin(given) ? NAME : given.toString();
    }

    /**
     * Standard input, as a stream its readers may close without closing {@link System#in} (read at the call: tests
     * replace it).
     */
    public static InputStream stdin() {
        return new FilterInputStream(System.in) {
            @Override
            public void close() {
                // Not ours to close.
            }
        };
    }

    /**
     * Refuses a second {@code -} among a command's inputs: standard input can be read once, so the second would read
     * nothing (or, spooled, the first's content again). {@code /dev/stdin}, {@code /dev/fd/0} and
     * {@code /proc/self/fd/0} count as {@code -} here.
     *
     * @param inputs each input option, in the order given on the command line, and its values (paths or strings;
     *               null for an option not given)
     * @throws InvalidInputException {@code OPTION: names standard input (-) twice; ...} or {@code OPTION: names
     *                               standard input (-) as OTHER does; ...}
     */
    public static void requireOne(Map<String, ? extends Collection<?>> inputs) {
        String first = null;
        String firstValue = null;
        for (Map.Entry<String, ? extends Collection<?>> e : inputs.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            for (Object value : e.getValue()) {
                if (!readsStdin(value)) {
                    continue;
                }
                if (first != null) {
                    String same = !first.equals(e.getKey())
                            ? "as " + first + " does" + (firstValue.equals(STDIN) ? "" : " (" + firstValue + ")")
                            : "twice" + (firstValue.equals(value.toString()) ? "" : " (" + firstValue + " and "
                                    + value + ")");
                    throw new InvalidInputException(e.getKey(), "names standard input (" + value + ") " + same
                            + "; it can be read once (name a file for the other)");
                }
                first = e.getKey();
                firstValue = value.toString();
            }
        }
    }

    /** The system's names for standard input: read by path, they take the same bytes as {@code -} does. */
    private static final Set<String> STDIN_PATHS = Set.of("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0");

    /** Whether {@code given} reads standard input: {@code -}, or a path that names it ({@code /dev/stdin}). */
    private static boolean readsStdin(Object given) {
        return given != null && (isStdin(given) || STDIN_PATHS.contains(given.toString()));
    }

    /**
     * Refuses {@code -} for an input that is a directory: without it, the command looked for a directory named
     * {@code -}.
     *
     * @throws InvalidInputException {@code OPTION: standard input (-) is a stream, not a directory of files; ...}
     */
    public static void refuseDirectory(String option, Path dir) {
        if (isStdin(dir)) {
            throw new InvalidInputException(option, NAME + " (" + STDIN + ") is a stream, not a directory of files; "
                    + "name a directory (./- for one named -)");
        }
    }

    /**
     * Reads an input that may be standard input with a reader of files: for {@code -}, standard input is first
     * copied to a temporary file, which {@code reader} reads and which is deleted after; its errors then name
     * {@value #NAME} where they named that file. Any other input is passed to {@code reader} as it is.
     *
     * @throws InvalidInputException as {@code reader} does, or naming {@value #NAME} if it cannot be read
     */
    public static <T> T read(Path given, Function<Path, T> reader) {
        if (!isStdin(given)) {
            return reader.apply(given);
        }
        try (Spool spool = Spool.of(stdin())) {
            String path = spool.file().toString();
            try {
                return reader.apply(spool.file());
            } catch (InvalidInputException e) {
                throw renamed(e, path);
            }
        } catch (IOException e) {
            throw new InvalidInputException(NAME, "cannot read: " + e.getMessage(), e);
        }
    }

    /** {@code e} with every mention of {@code path} (a spool's file) replaced by {@value #NAME}. */
    static InvalidInputException renamed(InvalidInputException e, String path) {
        if (!e.getMessage().contains(path)) {
            return e;
        }
        return new InvalidInputException(e.field().replace(path, NAME), e.problem().replace(path, NAME), e);
    }

    /**
     * A stream's content copied to a temporary file, for a reader of files or one that reads its input more than
     * once; {@link #close} deletes it (and a run ended by a signal, through {@code deleteOnExit}).
     */
    public static final class Spool implements AutoCloseable {
        private final TemporaryFile temporary;

        private Spool(TemporaryFile temporary) {
            this.temporary = temporary;
        }

        /**
         * Copies {@code in} to a new temporary file, to its end; deletes what it wrote if that fails.
         *
         * @throws IOException if {@code in} cannot be read or the temporary file written
         */
        public static Spool of(InputStream in) throws IOException {
            TemporaryFile temporary = TemporaryFile.create("moelab-stdin-", "stdin");
            try {
                Files.copy(in, temporary.file());
            } catch (IOException | RuntimeException e) {
                temporary.close();
                throw e;
            }
            return new Spool(temporary);
        }

        /** The temporary file. */
        public Path file() {
            return temporary.file();
        }

        /** Deletes the temporary file and its directory. */
        @Override
        public void close() throws IOException {
            temporary.close();
        }
    }
}
