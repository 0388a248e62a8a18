package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.StepSink;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.eplb.trace.WindowSums;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Resolves {@code --trace} arguments: a file in any supported format, or {@code builtin:NAME}. */
public final class Traces {
    private Traces() {
    }

    /** One trace, {@code builtin:NAME} or a file, its steps delivered one at a time; returns their number. */
    public static int read(String source, StepSink sink) {
        return source.startsWith(BuiltinTraces.PREFIX) ? BuiltinTraces.read(source, sink)
                : TraceFiles.read(Path.of(source), sink);
    }

    /** The files among {@code --trace} sources ({@code builtin:NAME} is none), for checks against outputs. */
    public static List<Path> files(List<String> sources) {
        return sources == null ? List.of() : sources.stream().filter(s -> !s.startsWith(BuiltinTraces.PREFIX))
                .map(Path::of).toList();
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
        int layers = -1;
        int experts = -1;
        for (String source : sources) {
            ShapeCheck check = new ShapeCheck(sink, layers, experts);
            read(source, check);
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

    private static InvalidInputException shapeMismatch(String source, int layers, int experts, String firstSource,
                                                       int firstLayers, int firstExperts) {
        return new InvalidInputException("--trace " + source, "is " + Nouns.count(layers, "layer") + " x "
                + Nouns.count(experts, "expert") + ", but --trace " + firstSource + " is " + firstLayers + " x "
                + firstExperts + " (traces given together are concatenated: one shape)");
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
