package io.moelab.cli.support;

import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.TraceFiles;
import java.nio.file.Path;
import java.util.List;

/** Resolves {@code --trace} arguments: a file in any supported format, or {@code builtin:NAME}. */
public final class Traces {
    private Traces() {
    }

    /** One trace: {@code builtin:NAME} or a file in any supported format. */
    public static ExpertLoadTrace read(String source) {
        return source.startsWith(BuiltinTraces.PREFIX) ? BuiltinTraces.read(source) : TraceFiles.read(Path.of(source));
    }

    /** Reads every source and concatenates them in order, so one-step dumps become successive windows. */
    public static ExpertLoadTrace readAll(List<String> sources) {
        return ExpertLoadTrace.concat(sources.stream().map(Traces::read).toList());
    }
}
