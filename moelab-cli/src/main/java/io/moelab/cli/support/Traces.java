package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.TraceFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Resolves {@code --trace} arguments: a file in any supported format, or {@code builtin:NAME}. */
public final class Traces {
    private Traces() {
    }

    /** One trace: {@code builtin:NAME} or a file in any supported format. */
    public static ExpertLoadTrace read(String source) {
        return source.startsWith(BuiltinTraces.PREFIX) ? BuiltinTraces.read(source) : TraceFiles.read(Path.of(source));
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
        List<ExpertLoadTrace> traces = new ArrayList<>();
        for (String source : sources) {
            ExpertLoadTrace trace = read(source);
            ExpertLoadTrace first = traces.isEmpty() ? trace : traces.getFirst();
            // Checked per source: the concatenation's own check counts steps across files ("step 3: is 2 layers x 5
            // experts") and names neither file.
            if (trace.layers() != first.layers() || trace.experts() != first.experts()) {
                throw new InvalidInputException("--trace " + source, "is " + Nouns.count(trace.layers(), "layer")
                        + " x " + Nouns.count(trace.experts(), "expert") + ", but --trace " + sources.getFirst()
                        + " is " + first.layers()
                        + " x " + first.experts() + " (traces given together are concatenated: one shape)");
            }
            traces.add(trace);
        }
        return ExpertLoadTrace.concat(traces);
    }
}
