package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.StepSink;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.eplb.trace.WindowSums;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Resolves {@code --trace} arguments: a file in any supported format, {@code builtin:NAME}, or {@code -} for standard
 * input. The format is told from the content, for a file as for standard input: gzip or not, then moelab's compact
 * header, else JSON told apart by its keys ({@link TraceFiles}). Errors in a trace read from standard input are a
 * file's, naming {@value Inputs#NAME}.
 */
public final class Traces {
    private Traces() {
    }

    /** One trace, {@code builtin:NAME}, {@code -} or a file, its steps delivered one at a time; returns how many. */
    public static int read(String source, StepSink sink) {
        if (source.startsWith(BuiltinTraces.PREFIX)) {
            return BuiltinTraces.read(source, sink);
        }
        return Inputs.isStdin(source) ? TraceFiles.readStream(Inputs.stdin(), Inputs.NAME, sink)
                : TraceFiles.read(Path.of(source), sink);
    }

    /**
     * The files among {@code --trace} sources ({@code builtin:NAME} and {@code -} are none), for checks against
     * outputs.
     *
     * @param sources the {@code --trace} values, or null where the option was not given
     */
    public static List<Path> files(List<String> sources) {
        // A directory (one SGLang per_pass dump, a file per rank) stands for the files in it that are read.
        return sources == null ? List.of() : sources.stream()
                .filter(s -> !s.startsWith(BuiltinTraces.PREFIX) && !Inputs.isStdin(s))
                .flatMap(s -> TraceFiles.filesRead(Path.of(s)).stream()).toList();
    }

    /**
     * Reads every source and concatenates them in order, so one-step dumps become successive windows.
     *
     * @throws InvalidInputException naming {@code --trace} and both sources when one's shape differs from the first's
     */
    public static ExpertLoadTrace readAll(List<String> sources) {
        List<LoadMatrix> steps = new ArrayList<>();
        read(sources, steps::add);
        return ExpertLoadTrace.of(steps);
    }

    /**
     * Reads every source in order and sums the steps into windows of {@code window} steps as they are read: the
     * windows of {@link #readAll(List)}'s trace, bit for bit, and the same errors, without holding the steps.
     *
     * @throws InvalidInputException as {@link #readAll(List)}, or naming {@code window} if it is not positive
     */
    public static WindowSums windows(List<String> sources, int window) {
        WindowSums sums = new WindowSums(window);
        read(sources, sums);
        return sums;
    }

    /**
     * Reads every source in order, delivering the steps of their concatenation one at a time: {@link #readAll}'s
     * steps and errors, without holding them.
     *
     * @throws InvalidInputException as {@link #readAll(List)}
     */
    public static void read(List<String> sources, StepSink sink) {
        read(sources, new Path[sources.size()], sink);
    }

    /** {@link #read(List, StepSink)}, source i read from {@code spooled[i]} where that is not null. */
    private static void read(List<String> sources, Path[] spooled, StepSink sink) {
        Inputs.requireOne(Map.of("--trace", sources));
        int layers = -1;
        int experts = -1;
        for (int i = 0; i < sources.size(); i++) {
            String source = sources.get(i);
            ShapeCheck check = new ShapeCheck(sink, layers, experts);
            if (spooled[i] == null) {
                read(source, check);
            } else {
                readSpooled(source, spooled[i], check);
            }
            // After the whole source, as readAll checks: an error further on in it is reported first.
            if (check.mismatch) {
                throw shapeMismatch(source, check.layers, check.experts, sources.getFirst(), layers, experts);
            }
            if (layers < 0) {
                layers = check.layers;
                experts = check.experts;
            }
        }
    }

    /**
     * A copy read as the file it is (streamed; a long SGLang dump read twice, holding no step), not as a stream: a
     * stream's dump was held whole until its end, on every reading. Errors name the source, not the copy.
     */
    private static void readSpooled(String source, Path file, StepSink sink) {
        try {
            TraceFiles.read(file, Inputs.name(source), sink);
        } catch (InvalidInputException e) {
            // An I/O failure's message may still name the copy.
            throw Inputs.renamed(e, file.toString());
        }
    }

    private static InvalidInputException shapeMismatch(String source, int layers, int experts, String firstSource,
                                                       int firstLayers, int firstExperts) {
        return new InvalidInputException("--trace " + Inputs.name(source), "is " + Nouns.count(layers, "layer")
                + " x " + Nouns.count(experts, "expert") + ", but --trace " + Inputs.name(firstSource) + " is "
                + firstLayers + " x " + firstExperts + " (traces given together are concatenated: one shape)");
    }

    /**
     * Sources for a command that reads them more than once (a simulation reads its trace once per run, a sweep once
     * per variant): each that can be read only once, standard input or a stream given by its path (a pipe,
     * {@code /dev/stdin}), is first copied to a temporary file, and read from there under its own name. A regular
     * file or a built-in trace is read where it is. {@link Rereadable#close} deletes the copies.
     *
     * @throws InvalidInputException for a second {@code -} ({@link Inputs#requireOne}), or naming a stream that
     *                               cannot be read
     */
    public static Rereadable rereadable(List<String> sources) {
        Inputs.requireOne(Map.of("--trace", sources));
        Rereadable r = new Rereadable(sources);
        try {
            for (int i = 0; i < sources.size(); i++) {
                String source = sources.get(i);
                if (Inputs.isStdin(source)) {
                    r.spools[i] = spool(source, Inputs.stdin());
                } else if (!source.startsWith(BuiltinTraces.PREFIX) && isStream(Path.of(source))) {
                    r.spools[i] = spool(source, Path.of(source));
                }
            }
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    /** A path that exists and is neither a regular file nor a directory: a FIFO, a device, /dev/stdin. */
    private static boolean isStream(Path path) {
        return Files.exists(path) && !Files.isRegularFile(path) && !Files.isDirectory(path);
    }

    private static Inputs.Spool spool(String source, InputStream in) {
        try {
            return Inputs.Spool.of(in);
        } catch (IOException e) {
            throw new InvalidInputException(Inputs.name(source), "cannot read: " + e.getMessage(), e);
        }
    }

    private static Inputs.Spool spool(String source, Path stream) {
        try (InputStream in = Files.newInputStream(stream)) {
            return spool(source, in);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e.getMessage(), e);
        }
    }

    /** {@link #rereadable}'s sources: read them with {@link #read(StepSink)} as often as needed, then close. */
    public static final class Rereadable implements AutoCloseable {
        private final List<String> sources;
        private final Inputs.Spool[] spools;

        private Rereadable(List<String> sources) {
            this.sources = List.copyOf(sources);
            this.spools = new Inputs.Spool[sources.size()];
        }

        /** Reads every source in order: {@link Traces#read(List, StepSink)}'s steps and errors. */
        public void read(StepSink sink) {
            Path[] files = new Path[spools.length];
            for (int i = 0; i < spools.length; i++) {
                files[i] = spools[i] == null ? null : spools[i].file();
            }
            Traces.read(sources, files, sink);
        }

        /** Deletes the copies; one that cannot be deleted is left for the JVM's exit. */
        @Override
        public void close() {
            for (Inputs.Spool spool : spools) {
                if (spool != null) {
                    try {
                        spool.close();
                    } catch (IOException e) {
                        // Registered with deleteOnExit: removed when the JVM ends.
                    }
                }
            }
        }
    }

    /** Passes one source's steps on unless its shape differs from the earlier sources' (then it drops them). */
    private static final class ShapeCheck implements StepSink {
        private final StepSink sink;
        private final int expectedLayers;
        private final int expectedExperts;
        private int layers = -1;
        private int experts = -1;
        private boolean mismatch;

        ShapeCheck(StepSink sink, int expectedLayers, int expectedExperts) {
            this.sink = sink;
            this.expectedLayers = expectedLayers;
            this.expectedExperts = expectedExperts;
        }

        @Override
        public void accept(LoadMatrix step) {
            if (layers < 0) {
                layers = step.layers();
                experts = step.experts();
                mismatch = expectedLayers >= 0 && (layers != expectedLayers || experts != expectedExperts);
            }
            if (!mismatch) {
                sink.accept(step);
            }
        }
    }
}
