package io.moelab.bench.runtime;

import io.moelab.bench.BuildLoader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Argument checks shared by the side-by-side harnesses, which are run by hand: a bad argument is one line naming it
 * and exit 2, checked before any model is loaded or any timing starts (a non-numeric count was a
 * {@code NumberFormatException}'s stack trace, an unknown format one from the build's class loader).
 */
final class HarnessArgs {
    private HarnessArgs() {
    }

    /** A bad argument; its message is the one line the harness prints. */
    static final class BadArgument extends RuntimeException {
        BadArgument(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Prints {@code e}'s line on {@code err}.
     *
     * @return the exit status for bad arguments, 2
     */
    static int refuse(PrintStream err, BadArgument e) {
        err.println(e.getMessage());
        err.flush();
        return 2;
    }

    /**
     * {@code parse} of {@code args}; on a bad argument, its line on standard error and exit 2 (a harness's
     * {@code main} runs nothing else then).
     */
    static <T> T parseOrExit(String[] args, Function<String[], T> parse) {
        try {
            return parse.apply(args);
        } catch (BadArgument e) {
            System.exit(refuse(System.err, e));
            throw new IllegalStateException("unreachable: System.exit returned");
        }
    }

    /** {@code usage: LINE}, for a wrong number of arguments. */
    static BadArgument usage(String line) {
        return new BadArgument("usage: " + line);
    }

    /** {@code value} as a count of at least 1, or {@code error: NAME: ...}. */
    static int count(String name, String value) {
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new BadArgument("error: " + name + ": not a whole number: '" + value + "'");
        }
        if (n < 1) {
            throw new BadArgument("error: " + name + ": must be at least 1, got " + n);
        }
        return n;
    }

    /** {@code value} if it is one of {@code allowed} (exactly), or {@code error: NAME: unknown ...}. */
    static String oneOf(String name, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw new BadArgument("error: " + name + ": unknown '" + value + "' (one of " + String.join(", ", allowed)
                    + ")");
        }
        return value;
    }

    /** {@code ROWSxCOLS} as {rows, cols}, each at least 1, or {@code error: NAME: ...}. */
    static int[] shape(String name, String value) {
        String[] dims = value.split("x", -1);
        if (dims.length != 2) {
            throw new BadArgument("error: " + name + ": not ROWSxCOLS: '" + value + "'");
        }
        return new int[] {count(name + " rows", dims[0]), count(name + " columns", dims[1])};
    }

    /** {@code value} as an existing directory, or {@code error: NAME: not a directory: ...}. */
    static Path directory(String name, String value) {
        Path dir = Path.of(value);
        if (!Files.isDirectory(dir)) {
            throw new BadArgument("error: " + name + ": not a directory: " + value);
        }
        return dir;
    }

    /**
     * {@code value}'s comma-separated builds, each a classes directory or a jar ({@link BuildLoader#isBuild}), or
     * {@code error: NAME: not a classes directory or jar: ...}.
     */
    static String[] classDirectories(String name, String value) {
        String[] builds = value.split(",");
        for (String build : builds) {
            if (!BuildLoader.isBuild(build)) {
                throw new BadArgument("error: " + name + ": not a classes directory or jar: " + build);
            }
        }
        return builds;
    }
}
