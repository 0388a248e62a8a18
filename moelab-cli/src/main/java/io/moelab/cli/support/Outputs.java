package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.io.OutputPathException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Checks a command's output paths before it does its work: each can be written, and no two name the same file (the
 * second would silently replace the first). Together with {@link AtomicFiles#together}, which puts all outputs in
 * place at the end or none, a bad output path costs neither the work nor the other outputs.
 *
 * <p>Standard output as an output: {@code -} names it for a text or JSON output ({@link #text}); so does a path
 * that is standard output itself ({@code /dev/stdout}, or the file stdout is redirected to). Such an output is
 * printed on the command's stdout once, complete, after the work (nothing on a failure), and the command's notes go
 * to stderr ({@link #notes}). Outputs that stdout cannot take, PNG plots, compact traces and output directories,
 * refuse {@code -} ({@link #refuseStdout}, {@link #checkDirectory}); {@code ./-} names a file called {@code -}.
 */
public final class Outputs {
    /** The output name that means standard output. */
    public static final String STDOUT = "-";

    private Outputs() {
    }

    /**
     * Whether {@code output} is standard output: {@code -}, or an existing file that is this process's stdout
     * (compared as files: {@code /dev/stdout}, {@code /proc/self/fd/1}, the file stdout is redirected to).
     *
     * @param output the output as given; null (not given) is not standard output
     */
    public static boolean isStdout(Path output) {
        if (output == null) {
            return false;
        }
        if (output.toString().equals(STDOUT)) {
            return true;
        }
        for (String fd : new String[] {"/proc/self/fd/1", "/dev/fd/1"}) {
            try {
                Path stdout = Path.of(fd);
                if (Files.exists(stdout)) {
                    return Files.exists(output) && Files.isSameFile(output, stdout);
                }
            } catch (IOException | SecurityException e) {
                return false; // nothing to compare with: a path, not standard output
            }
        }
        return false;
    }

    /**
     * Refuses {@code -} for an output that standard output cannot take (a PNG image, binary data): without it, the
     * command wrote a file named {@code -}. A path that is stdout itself ({@code /dev/stdout}) is still written
     * through, for a pipe.
     *
     * @param output the output as given; null if not given
     * @param what   what the output holds, e.g. {@code "a PNG image"}
     * @throws InvalidInputException {@code OPTION: standard output (-) takes text only, not WHAT; name a file ...}
     */
    public static void refuseStdout(String option, Path output, String what) {
        if (output != null && output.toString().equals(STDOUT)) {
            throw new InvalidInputException(option, "standard output (" + STDOUT + ") takes text only, not " + what
                    + "; name a file (./- for one named -)");
        }
    }

    /**
     * A text or JSON output that may be standard output: open one before writing, write {@link TextOutput#file()},
     * then {@link TextOutput#print print} it once the work (and any other output) is done.
     *
     * @param output the output as given; null if not given
     * @throws IOException if the temporary file for standard output cannot be made
     */
    public static TextOutput text(Path output) throws IOException {
        if (!isStdout(output)) {
            return new TextOutput(output, null);
        }
        TemporaryFile temporary = TemporaryFile.create("moelab-stdout-", "stdout");
        return new TextOutput(temporary.file(), temporary);
    }

    /**
     * Where a text output is written: its file, or, for standard output, a temporary file printed on stdout at the
     * end. Written to a file first, the library's writers serve both, a failure prints nothing (as it leaves no file),
     * and a long output (a trace) streams from disk rather than being held.
     */
    public static final class TextOutput implements AutoCloseable {
        private final Path file;
        /** Null unless this output is standard output. */
        private final TemporaryFile temporary;

        private TextOutput(Path file, TemporaryFile temporary) {
            this.file = file;
            this.temporary = temporary;
        }

        /** The file to write: the output, or the temporary file for standard output; null if none was given. */
        public Path file() {
            return file;
        }

        /** Whether this output is standard output. */
        public boolean toStdout() {
            return temporary != null;
        }

        /**
         * For standard output, prints what was written to {@link #file()} on {@code out}; else does nothing.
         *
         * @throws IOException if the file cannot be read
         */
        public void print(PrintWriter out) throws IOException {
            if (!toStdout()) {
                return;
            }
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                in.transferTo(out);
            }
            out.flush();
        }

        /** Deletes the temporary file, if any. */
        @Override
        public void close() throws IOException {
            if (toStdout()) {
                temporary.close();
            }
        }
    }

    /** How notes name an output: {@code standard output} for {@code -}, else the path as given. */
    public static String name(Path output) {
        return output.toString().equals(STDOUT) ? "standard output" : output.toString();
    }

    /**
     * Checks the outputs, in order.
     *
     * @param outputs the option (or a description such as {@code "--out DIR/summary.json"}) and its file; null files
     *                (options not given) are skipped, and {@code -} (standard output) is printed, not written: only
     *                one output may name it
     * @throws OutputPathException   if a path cannot be written (a directory, a file where a parent goes, no access)
     * @throws InvalidInputException {@code OPTION: names the same file as OTHER (PATH)} for a file named twice, or
     *                               {@code OPTION: names standard output (-) as OTHER does ...}
     * @throws IOException           if the file system fails otherwise
     */
    public static void check(Map<String, Path> outputs) throws IOException {
        Map<Path, String> seen = new HashMap<>();
        String stdout = null;
        for (Map.Entry<String, Path> e : outputs.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            if (e.getValue().toString().equals(STDOUT)) {
                // Printed, not written: nothing to check but that one output has stdout.
                if (stdout != null) {
                    throw new InvalidInputException(e.getKey(), "names standard output (" + STDOUT + ") as "
                            + stdout + " does; give each output its own file");
                }
                stdout = e.getKey();
                continue;
            }
            AtomicFiles.Destination d = AtomicFiles.checkWritable(e.getValue());
            // A device or FIFO is written through, not replaced: naming it twice loses nothing (/dev/null twice).
            if (d.replace()) {
                String other = seen.putIfAbsent(d.path(), e.getKey());
                if (other != null) {
                    throw new InvalidInputException(e.getKey(), "names the same file as " + other + " ("
                            + e.getValue() + "); give each output its own file");
                }
            }
        }
    }

    /**
     * Checks the outputs as {@link #check(Map)} does, and that none is the same file as one of the command's inputs
     * (compared as files, through links): an output replaces its file at the end, so an input named as an output was
     * read and then lost ({@code --trace t.json --output t.json} replaced the trace by the report).
     *
     * @param inputs each input option and the files it reads; null files, and files that do not exist, are skipped
     * @throws InvalidInputException {@code OPTION: PATH is also the input INPUT; write the output to another file}
     * @throws IOException if the file system fails otherwise
     */
    public static void check(Map<String, Path> outputs, Map<String, List<Path>> inputs) throws IOException {
        check(outputs);
        for (Map.Entry<String, Path> out : outputs.entrySet()) {
            Path file = out.getValue();
            // A file written through (a device, a FIFO) is not replaced: nothing read from it is lost. Nor is stdout.
            if (file == null || file.toString().equals(STDOUT) || !Files.isRegularFile(file)) {
                continue;
            }
            for (Map.Entry<String, List<Path>> in : inputs.entrySet()) {
                for (Path input : in.getValue()) {
                    if (input != null && Files.exists(input) && Files.isSameFile(file, input)) {
                        throw new InvalidInputException(out.getKey(), file + " is also the input " + in.getKey()
                                + "; write the output to another file");
                    }
                }
            }
        }
    }

    /**
     * Where a command's notes about what it wrote ("wrote FILE ...") go: stdout, unless one of its outputs is standard
     * output ({@link #isStdout}) or written through (a device or FIFO), then stderr. Such an output is a stream, often
     * stdout itself, and a note printed after the data would be read as part of it (a second JSON document, gzip's
     * trailing garbage).
     *
     * @param spec    the command, for its stdout and stderr
     * @param outputs its output files; null ones (options not given) are skipped
     */
    public static PrintWriter notes(CommandSpec spec, Path... outputs) {
        for (Path output : outputs) {
            if (isStdout(output) || output != null && Files.exists(output) && !Files.isRegularFile(output)) {
                return spec.commandLine().getErr();
            }
        }
        return spec.commandLine().getOut();
    }

    /**
     * The regular files directly in {@code dir} (none if it is no directory): the inputs a model directory holds.
     *
     * @throws IOException if {@code dir} cannot be listed
     */
    public static List<Path> filesIn(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    /**
     * Checks one output (none if {@code file} is null): {@link #check(Map)}.
     *
     * @throws IOException if the file system fails otherwise
     */
    public static void check(String option, Path file) throws IOException {
        check(option, file, null, null);
    }

    /**
     * Checks two outputs, either of them null if not given: {@link #check(Map)}.
     *
     * @throws IOException if the file system fails otherwise
     */
    public static void check(String option, Path file, String otherOption, Path otherFile) throws IOException {
        check(option, file, otherOption, otherFile, Map.of());
    }

    /**
     * Checks one or two outputs ({@code otherOption} null for one; a file null if not given) and that neither is one
     * of the {@code inputs}: {@link #check(Map, Map)}.
     *
     * @throws IOException if the file system fails otherwise
     */
    public static void check(String option, Path file, String otherOption, Path otherFile,
                             Map<String, List<Path>> inputs) throws IOException {
        Map<String, Path> outputs = new LinkedHashMap<>();
        outputs.put(option, file);
        if (otherOption != null) {
            outputs.put(otherOption, otherFile);
        }
        check(outputs, inputs);
    }

    /**
     * Checks the files a command writes into an output directory.
     *
     * @param option the directory's option
     * @param dir    the directory (it may not exist yet: the command creates it when writing)
     * @param names  the files it will hold
     * @throws IOException if the file system fails otherwise
     */
    public static void checkDirectory(String option, Path dir, String... names) throws IOException {
        checkDirectory(option, dir, Map.of(), names);
    }

    /**
     * Checks the files a command writes into an output directory, and that none is one of its inputs:
     * {@link #check(Map, Map)}.
     *
     * @throws InvalidInputException for {@code -}: standard output holds no files ({@link #refuseStdoutDirectory});
     *                               {@code OPTION DIR: is a file, not a directory}, or {@code OPTION DIR: PARENT is a
     *                               file, not a directory}, where a file stands in the directory's place
     * @throws IOException if the file system fails otherwise
     */
    public static void checkDirectory(String option, Path dir, Map<String, List<Path>> inputs, String... names)
            throws IOException {
        refuseStdoutDirectory(option, dir);
        // Said of the directory, as given: checked file by file, it read "DIR/RESULTS.md: cannot write: /abs/DIR is
        // a file, not a directory", naming neither the option nor the path the user typed.
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.exists(d)) {
                if (!Files.isDirectory(d)) {
                    throw new InvalidInputException(option + " " + dir, (d.equals(dir) ? "" : d + " ")
                            + "is a file, not a directory");
                }
                break;
            }
        }
        Map<String, Path> files = new LinkedHashMap<>();
        for (String name : names) {
            files.put(option + " " + name, dir.resolve(name));
        }
        check(files, inputs);
    }

    /**
     * Refuses {@code -} for an output directory: without it, the command made a directory named {@code -}.
     *
     * @param dir the directory as given; null if not given
     * @throws InvalidInputException {@code OPTION: standard output (-) takes text only, not a directory of files ...}
     */
    public static void refuseStdoutDirectory(String option, Path dir) {
        if (dir != null && dir.toString().equals(STDOUT)) {
            throw new InvalidInputException(option, "standard output (" + STDOUT + ") takes text only, not a "
                    + "directory of files; name a directory (./- for one named -)");
        }
    }
}
