package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import java.util.Locale;

/** The expert-load trace formats moelab reads and writes. */
public enum TraceFormat {
    /**
     * The vLLM-style expert-load JSON: {@code {"load_history": [{"logical_expert_load": [[...] per layer]}, ...]}},
     * one entry per step. vLLM's EPLB keeps a step's {@code logical_expert_load} counts in memory and writes no
     * file; {@code load_history}, the list of steps, is moelab's. Read and written.
     */
    VLLM,
    /**
     * SGLang's expert-distribution recorder dump: {@code {"logical_count": [[...] per layer]}} for one
     * aggregate step, or {@code [step][layer][expert]}; {@code "counts"} is accepted as the key too. Layers
     * that are zero throughout (dense layers) are dropped. Read only, as JSON or as the {@code torch.save} file
     * ({@code .pt}) SGLang's recorder writes, a dict holding a {@code logical_count} tensor.
     */
    SGLANG,
    /**
     * moelab's compact binary format for long traces: gzip-compressed, zig-zag varint deltas between steps
     * for integral loads (float64 otherwise). Read and written.
     */
    COMPACT;

    /** The command-line spelling, lower case. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a command-line spelling.
     *
     * @throws InvalidInputException naming {@code format}
     */
    public static TraceFormat parse(String name) {
        for (TraceFormat f : values()) {
            if (f.cliName().equals(name)) {
                return f;
            }
        }
        throw new InvalidInputException("format", "unknown trace format '" + name + "' (known: vllm, sglang, compact)");
    }
}
