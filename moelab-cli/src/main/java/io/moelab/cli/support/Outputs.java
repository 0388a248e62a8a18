package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.io.OutputPathException;
import java.io.IOException;
import java.io.PrintWriter;
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
 */
public final class Outputs {
    private Outputs() {
    }

    /**
     * Checks the outputs, in order.
     *
     * @param outputs the option (or a description such as {@code "--out DIR/summary.json"}) and its file; null files
     *                (options not given) are skipped
     * @throws OutputPathException   if a path cannot be written (a directory, a file where a parent goes, no access)
     * @throws InvalidInputException {@code OPTION: names the same file as OTHER (PATH)} for a file named twice
     * @throws IOException           if the file system fails otherwise
     */
    public static void check(Map<String, Path> outputs) throws IOException {
        Map<Path, String> seen = new HashMap<>();
        for (Map.Entry<String, Path> e : outputs.entrySet()) {
            if (e.getValue() == null) {
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
     */
    public static void check(Map<String, Path> outputs, Map<String, List<Path>> inputs) throws IOException {
        check(outputs);
        for (Map.Entry<String, Path> out : outputs.entrySet()) {
            Path file = out.getValue();
            // A file written through (a device, a FIFO) is not replaced: nothing read from it is lost.
            if (file == null || !Files.isRegularFile(file)) {
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
     * Where a command's notes about what it wrote ("wrote FILE ...") go: stdout, unless one of its outputs is written
     * through (a device or FIFO, such as {@code /dev/stdout}), then stderr. Such an output is a stream, often stdout
     * itself, and a note printed after the data would be read as part of it (a second JSON document, gzip's trailing
     * garbage).
     *
     * @param spec    the command, for its stdout and stderr
     * @param outputs its output files; null ones (options not given) are skipped
     */
    public static PrintWriter notes(CommandSpec spec, Path... outputs) {
        for (Path output : outputs) {
            if (output != null && Files.exists(output) && !Files.isRegularFile(output)) {
                return spec.commandLine().getErr();
            }
        }
        return spec.commandLine().getOut();
    }

    /** The regular files directly in {@code dir} (none if it is no directory): the inputs a model directory holds. */
    public static List<Path> filesIn(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    /** Checks one output (none if {@code file} is null): {@link #check(Map)}. */
    public static void check(String option, Path file) throws IOException {
        check(option, file, null, null);
    }

    /** Checks two outputs, either of them null if not given: {@link #check(Map)}. */
    public static void check(String option, Path file, String otherOption, Path otherFile) throws IOException {
        check(option, file, otherOption, otherFile, Map.of());
    }

    /**
     * Checks one or two outputs ({@code otherOption} null for one; a file null if not given) and that neither is one
     * of the {@code inputs}: {@link #check(Map, Map)}.
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
     */
    public static void checkDirectory(String option, Path dir, String... names) throws IOException {
        checkDirectory(option, dir, Map.of(), names);
    }

    /**
     * Checks the files a command writes into an output directory, and that none is one of its inputs:
     * {@link #check(Map, Map)}.
     */
    public static void checkDirectory(String option, Path dir, Map<String, List<Path>> inputs, String... names)
            throws IOException {
        Map<String, Path> files = new LinkedHashMap<>();
        for (String name : names) {
            files.put(option + " " + name, dir.resolve(name));
        }
        check(files, inputs);
    }
}
