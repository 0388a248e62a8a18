package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.io.JsonReader;
import io.moelab.eplb.io.Utf8Text;
import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reads and writes expert-load traces. Reading detects the format from the content: gzip or not, then
 * moelab's compact magic, a zip holding a torch.save pickle (an SGLang {@code .pt} dump), else JSON told apart by
 * its keys (see {@link TraceFormat}).
 */
public final class TraceFiles {
    private static final int BUFFER = 1 << 16;

    private TraceFiles() {
    }

    /**
     * Reads a trace file in any supported format, gzip-compressed or not, or a directory of one SGLang per_pass or
     * per_token dump's per-rank {@code .pt} files, read as one trace whose step i sums the ranks' forward pass i.
     *
     * @throws InvalidInputException for a missing, unreadable or malformed file, naming it
     */
    public static ExpertLoadTrace read(Path path) {
        List<LoadMatrix> steps = new ArrayList<>();
        read(path, steps::add);
        return ExpertLoadTrace.of(steps);
    }

    /**
     * Reads a trace file in any supported format, gzip-compressed or not, delivering its steps one at a time as
     * they are parsed, so that the caller need not hold them all. An SGLang dump's steps lose its all-zero layers,
     * which may be known only at the end of its array: a long dump in a regular file is then read twice (once to find
     * them, holding no step, once to deliver), one elsewhere (a pipe) held whole until its end. Problems are reported
     * as by {@link #read(Path)}, as the same one-line errors; steps delivered before one are to be discarded.
     *
     * @return the number of steps
     * @throws InvalidInputException for a missing, unreadable or malformed file, naming it
     */
    public static int read(Path path, StepSink sink) {
        return read(path, sink, JsonTraces.HELD_LOADS);
    }

    /**
     * Reads a trace file as {@link #read(Path, StepSink)} does, streamed from {@code path} (a long SGLang dump read
     * twice, holding no step), but naming {@code source} where that names the path: for a copy of a stream, such as
     * standard input spooled to a temporary file, whose errors should name the stream and not the copy.
     *
     * @param source the name for error messages, e.g. {@code "standard input"}
     * @return the number of steps
     * @throws InvalidInputException for a missing, unreadable or malformed file, naming {@code source}
     */
    public static int read(Path path, String source, StepSink sink) {
        return read(path, source, sink, JsonTraces.HELD_LOADS);
    }

    /** {@link #read(Path, StepSink)}, an SGLang dump's steps held up to {@code heldLoads} loads (tests). */
    static int read(Path path, StepSink sink, long heldLoads) {
        return read(path, path.toString(), sink, heldLoads);
    }

    /**
     * The files that reading {@code path} reads: {@code path} itself, or for a directory (one SGLang per_pass or
     * per_token dump, a file per rank) each {@code *.pt} file in it; none for a directory that cannot be listed. For
     * checks that no output replaces an input.
     */
    public static List<Path> filesRead(Path path) {
        if (!Files.isDirectory(path)) {
            return List.of(path);
        }
        try {
            return SglangPerPass.rankFiles(path);
        } catch (IOException | RuntimeException e) {
            return List.of(); // reading it fails the same way, naming the directory
        }
    }

    /** {@link #read(Path, String, StepSink)}, an SGLang dump's steps held up to {@code heldLoads} loads (tests). */
    static int read(Path path, String source, StepSink sink, long heldLoads) {
        if (!Files.exists(path)) {
            throw new InvalidInputException(source, "no such file");
        }
        if (Files.isDirectory(path)) {
            // SGLang's per_pass and per_token modes write one file per rank into one directory.
            try {
                return SglangPerPass.readRanks(path, source, sink);
            } catch (IOException e) {
                throw new InvalidInputException(source, "cannot read: " + e.getMessage(), e);
            }
        }
        if (Files.isRegularFile(path) && startsWith(path, TorchTraces.MAGIC)) {
            // A torch.save file is read in place (its zip directory is at its end); a zip that is none reads on as
            // any other content.
            int steps = readNamed(source, () -> TorchTraces.read(path, source, sink));
            if (steps != TorchTraces.NOT_TORCH) {
                return steps;
            }
        }
        // Read again from the start only where the second reading sees what the first did: not a pipe or device.
        JsonTraces.Reopen again = Files.isRegularFile(path) ? () -> json(path, source) : null;
        try (InputStream in = Files.newInputStream(path)) {
            return readNamed(in, source, sink, again, heldLoads);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(source, "no such file", e);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a trace from a stream that is no file, such as standard input, as {@link #read(Path, StepSink)} reads a
     * file: the format told from the content, the steps delivered one at a time, and every problem, a failing read
     * included, one {@link InvalidInputException} naming {@code source} where a file's errors name its path. The
     * stream is not closed.
     *
     * @param source the stream's name for error messages, e.g. {@code "standard input"}
     * @return the number of steps
     * @throws InvalidInputException for a malformed or unreadable stream, naming {@code source}
     */
    public static int readStream(InputStream in, String source, StepSink sink) {
        return readNamed(in, source, sink, null, JsonTraces.HELD_LOADS);
    }

    /** Reads a trace from {@code in}, every problem one {@link InvalidInputException} naming {@code source}. */
    private static int readNamed(InputStream in, String source, StepSink sink, JsonTraces.Reopen again,
                                 long heldLoads) {
        return readNamed(source, () -> read(in, source, sink, again, heldLoads));
    }

    /** A reading that may fail. */
    @FunctionalInterface
    private interface Reading {
        int run() throws IOException;
    }

    /** Runs {@code reading}, every problem one {@link InvalidInputException} naming {@code source}. */
    private static int readNamed(String source, Reading reading) {
        try {
            return reading.run();
        } catch (InvalidInputException e) {
            // Every problem names the source ("step 1: is 58 layers x 256 experts..." did not say which).
            throw names(e.getMessage(), source) ? e : e.in(source);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e.getMessage(), e);
        } catch (java.io.UncheckedIOException e) {
            // The JSON reader's wrapping of a failed read ("reading standard input"): the failure is what to say.
            throw new InvalidInputException(source, "cannot read: " + e.getCause().getMessage(), e);
        }
    }

    /**
     * Whether {@code message} starts by naming {@code source} ("SOURCE: ...", "SOURCE step 1[0][0]: ..."): not where
     * the source's name only begins its first word ("logical_count: ..." of a file named "log").
     */
    private static boolean names(String message, String source) {
        return message.startsWith(source) && message.length() > source.length()
                && (message.charAt(source.length()) == ':' || message.charAt(source.length()) == ' ');
    }

    /**
     * Reads a trace from a stream in any supported format.
     *
     * @param source a name for error messages
     * @throws IOException if the stream cannot be read
     */
    public static ExpertLoadTrace read(InputStream raw, String source) throws IOException {
        List<LoadMatrix> steps = new ArrayList<>();
        read(raw, source, steps::add);
        return ExpertLoadTrace.of(steps);
    }

    /**
     * Reads a trace from a stream in any supported format, delivering its steps one at a time (see
     * {@link #read(Path, StepSink)}; an SGLang dump whose all-zero layers are known only at its end is held whole
     * until then, as a stream cannot be read twice).
     *
     * @param source a name for error messages
     * @return the number of steps
     * @throws IOException if the stream cannot be read
     */
    public static int read(InputStream raw, String source, StepSink sink) throws IOException {
        return read(raw, source, sink, null, JsonTraces.HELD_LOADS);
    }

    private static int read(InputStream raw, String source, StepSink sink, JsonTraces.Reopen again, long heldLoads)
            throws IOException {
        try {
            InputStream in = decoded(raw);
            if (startsWith(in, CompactTraces.MAGIC)) {
                return CompactTraces.read(in, source, sink);
            }
            if (startsWith(in, TorchTraces.MAGIC)) {
                return readTorch(in, source, sink);
            }
            if (startsWith(in, TorchTraces.LEGACY_MAGIC)) {
                throw new InvalidInputException(source, TorchTraces.LEGACY);
            }
            // After the compact magic, and on the decompressed bytes: a gzip-compressed UTF-16 trace is one too.
            Utf8Text.require(in, source);
            JsonReader json = new JsonReader(new InputStreamReader(in, StandardCharsets.UTF_8), source);
            return JsonTraces.read(json, sink, again, heldLoads);
        } catch (ZipException e) {
            throw new InvalidInputException(source, "corrupt gzip data: " + e.getMessage(), e);
        } catch (java.io.EOFException e) {
            throw new InvalidInputException(source, "truncated file", e);
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof ZipException z) {
                throw new InvalidInputException(source, "corrupt gzip data: " + z.getMessage(), z);
            }
            if (e.getCause() instanceof java.io.EOFException eof) {
                throw new InvalidInputException(source, "truncated file", eof);
            }
            throw e;
        }
    }

    /**
     * Reads a torch.save file from a stream (standard input, or a file's gzip-compressed bytes): a zip is read from
     * its directory, at its end, so the stream is first copied to a temporary file. A zip that is no torch file is
     * read on as JSON, and refused as any other content that is not.
     */
    private static int readTorch(InputStream in, String source, StepSink sink) throws IOException {
        Path copy = Files.createTempFile("moelab-trace", ".pt");
        // A run ended by a signal while it copies (standard input may be a pipe that stays open) deletes it too.
        copy.toFile().deleteOnExit();
        try {
            Files.copy(in, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            int steps = TorchTraces.read(copy, source, sink);
            if (steps != TorchTraces.NOT_TORCH) {
                return steps;
            }
            try (InputStream again = new BufferedInputStream(Files.newInputStream(copy), BUFFER)) {
                JsonReader json = new JsonReader(new InputStreamReader(again, StandardCharsets.UTF_8), source);
                return JsonTraces.read(json, sink, null, JsonTraces.HELD_LOADS);
            }
        } finally {
            Files.deleteIfExists(copy);
        }
    }

    /** Whether the file {@code path} starts with {@code prefix}; false where it cannot be read (reported later). */
    private static boolean startsWith(Path path, byte[] prefix) {
        try (InputStream in = Files.newInputStream(path)) {
            return Arrays.equals(in.readNBytes(prefix.length), prefix);
        } catch (IOException e) {
            return false;
        }
    }

    /** A JSON reader of the trace file {@code path}, decompressed where it is gzip. */
    private static JsonReader json(Path path, String source) throws IOException {
        InputStream raw = Files.newInputStream(path);
        try {
            return new JsonReader(new InputStreamReader(decoded(raw), StandardCharsets.UTF_8), source);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** {@code raw} buffered, and decompressed where it starts as gzip does. */
    private static InputStream decoded(InputStream raw) throws IOException {
        InputStream in = new BufferedInputStream(raw, BUFFER);
        if (startsWith(in, new byte[] {(byte) 0x1f, (byte) 0x8b})) {
            // Not GZIPInputStream: it silently ignores data after the last member.
            in = new BufferedInputStream(new GzipMembersInputStream(in, BUFFER), BUFFER);
        }
        return in;
    }

    private static boolean startsWith(InputStream in, byte[] prefix) throws IOException {
        in.mark(prefix.length);
        byte[] head = in.readNBytes(prefix.length);
        in.reset();
        return Arrays.equals(head, prefix);
    }

    /** Produces a trace's steps, oldest first, for {@link #write(Path, TraceFormat, int, int, int, boolean, Steps)}. */
    @FunctionalInterface
    public interface Steps {
        /**
         * Gives every step to {@code sink}, in order.
         *
         * @throws IOException if a step cannot be produced, which fails the write
         */
        void deliver(StepSink sink) throws IOException;
    }

    /**
     * Writes a trace atomically. vLLM JSON is gzip-compressed when the file name ends in {@code .gz}; the
     * compact format always is.
     *
     * @throws IllegalArgumentException for {@link TraceFormat#SGLANG}, which is read-only
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void write(ExpertLoadTrace trace, Path path, TraceFormat format) throws IOException {
        write(path, format, trace.layers(), trace.experts(), trace.steps(), CompactTraces.isIntegral(trace),
                sink -> trace.stepList().forEach(sink::accept));
    }

    /**
     * Writes a trace atomically as its steps are produced, holding none of them: the bytes are those
     * {@link #write(ExpertLoadTrace, Path, TraceFormat)} writes for the same steps. A failure of {@code source} leaves
     * no file, as any other.
     *
     * @param integral whether every load is a whole number below 2^53 (the compact format's header says how values
     *                 are encoded before the first of them); where it is not so, the write fails with an
     *                 {@link IllegalArgumentException}
     * @throws IllegalArgumentException for {@link TraceFormat#SGLANG}, which is read-only
     * @throws IllegalStateException    if {@code source} delivers a step of another shape, or another number of steps
     * @throws IOException              from {@code source}, or as {@link AtomicFiles#write(Path, AtomicFiles.Content)};
     *                                  no file is left
     */
    public static void write(Path path, TraceFormat format, int layers, int experts, int steps, boolean integral,
                             Steps source) throws IOException {
        if (format == TraceFormat.SGLANG) {
            throw new IllegalArgumentException("SGLang dumps are read, not written");
        }
        boolean gzip = format == TraceFormat.COMPACT || path.getFileName().toString().endsWith(".gz");
        AtomicFiles.write(path, raw -> {
            OutputStream out = gzip ? new GZIPOutputStream(raw, BUFFER) : raw;
            StepWriter writer = format == TraceFormat.VLLM
                    ? JsonTraces.vllmWriter(new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8),
                            BUFFER))
                    : CompactTraces.writer(out, layers, experts, steps, integral);
            int[] written = {0};
            try {
                source.deliver(step -> {
                    if (step.layers() != layers || step.experts() != experts || written[0] == steps) {
                        throw new IllegalStateException("step " + written[0] + " of " + step.layers() + " x "
                                + step.experts() + " loads, in a trace of " + steps + " steps of " + layers + " x "
                                + experts);
                    }
                    writer.accept(step);
                    written[0]++;
                });
            } catch (StepWriter.WriteFailure e) {
                throw e.getCause();
            }
            if (written[0] != steps) {
                throw new IllegalStateException(written[0] + " steps delivered, in a trace of " + steps);
            }
            writer.finish();
            if (out instanceof GZIPOutputStream g) {
                g.finish();
            }
        });
    }
}
