package io.moelab.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the command line in-process and captures what it prints. */
public final class CliRunner {
    private CliRunner() {
    }

    /** Exit code and output of one run. */
    public record Result(int exitCode, String out, String err) {
        /** Stderr lines, without empty ones. */
        public java.util.List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    /**
     * Runs {@code moelab ARGS} with {@code stdin} as standard input ({@link System#in}, restored after), for the
     * commands that read {@code -}.
     */
    public static Result runWithStdin(byte[] stdin, String... args) {
        java.io.InputStream saved = System.in;
        System.setIn(new java.io.ByteArrayInputStream(stdin));
        try {
            return run(args);
        } finally {
            System.setIn(saved);
        }
    }

    /** Runs {@code moelab ARGS}. */
    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }
}
