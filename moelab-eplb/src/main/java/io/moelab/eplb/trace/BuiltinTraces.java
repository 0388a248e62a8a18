package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Real expert-load recordings shipped inside moelab (see {@code builtin/NOTICE.md} beside this class for
 * provenance), so demos and tests run without external files. On the command line they are named
 * {@code builtin:NAME}.
 */
public final class BuiltinTraces {
    /** Prefix that marks a built-in trace where a file path is expected. */
    public static final String PREFIX = "builtin:";

    private static final List<String> NAMES = List.of(
            "deepseek-v3/prefill_in512",
            "deepseek-v3/prefill_in1024",
            "deepseek-v3/prefill_in2048",
            "deepseek-v3/prefill_in4096",
            "deepseek-v3/prefill_in500out1500",
            "deepseek-v3/prefill_in1000out1000",
            "deepseek-v3/prefill_in1800out100",
            "deepseek-v3/prefill_in2000out100",
            "deepseek-v3/decode_in500out1500",
            "deepseek-v3/decode_in1000out1000",
            "deepseek-v3/decode_in1800out100",
            "deepseek-v3/decode_in2000out100",
            "qwen/qwen3-235b-a22b",
            "qwen/qwen3-30b-a3b",
            "qwen/qwen2-57b-a14b");

    private BuiltinTraces() {
    }

    /** Every built-in trace name. */
    public static List<String> names() {
        return NAMES;
    }

    /**
     * Reads a built-in trace.
     *
     * @param name a name from {@link #names()}, with or without {@link #PREFIX}
     * @throws InvalidInputException for an unknown name
     */
    public static ExpertLoadTrace read(String name) {
        List<LoadMatrix> steps = new ArrayList<>();
        read(name, steps::add);
        return ExpertLoadTrace.of(steps);
    }

    /**
     * Reads a built-in trace, delivering its steps one at a time.
     *
     * @param name a name from {@link #names()}, with or without {@link #PREFIX}
     * @return the number of steps
     * @throws InvalidInputException for an unknown name
     */
    public static int read(String name, StepSink sink) {
        String bare = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
        if (!NAMES.contains(bare)) {
            throw new InvalidInputException(PREFIX + bare, "no such built-in trace (known: "
                    + String.join(", ", NAMES) + ")");
        }
        try (InputStream in = BuiltinTraces.class.getResourceAsStream("builtin/" + bare + ".json.gz")) {
            if (in == null) {
                throw new IllegalStateException("built-in trace resource missing: " + bare);
            }
            return TraceFiles.read(in, PREFIX + bare, sink);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
