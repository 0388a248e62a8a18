package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Refuses, before allocating, what the options ask for but the heap cannot hold: bad input naming the option,
 * instead of running out of memory minutes later.
 */
public final class Heap {
    private Heap() {
    }

    /**
     * Refuses {@code bytes} that exceed the maximum heap.
     *
     * @param option the option to name in the error
     * @param bytes  what {@code what} needs
     * @param what   what needs the bytes, e.g. "a KV cache of 20000003 positions"
     * @param fewer  what to ask for less of, e.g. "fewer steps"
     * @throws InvalidInputException if {@code bytes} exceed the JVM's maximum heap
     */
    public static void require(String option, long bytes, String what, String fewer) {
        long heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap) {
            throw new InvalidInputException(option, String.format(Locale.ROOT,
                    "%s needs about %s of memory, more than this JVM's heap of %s (give it more with "
                            + "MOELAB_JAVA_OPTS=-Xmx..., or ask for %s)", what, size(bytes), size(heap), fewer));
        }
    }

    /**
     * {@link #require} for a synthetic trace summed into windows of {@code window} steps as it is generated (a
     * {@link io.moelab.eplb.trace.WindowSums} given {@link SyntheticTraceGenerator}'s steps): what is held is the
     * windows, the window being summed and the generator's block of steps, not the trace.
     *
     * @param window steps per window; one below 1 is left to the windows' own check
     */
    public static void requireWindows(String option, SyntheticTraceSpec s, int window) {
        require(option, windowBytes(s, window), String.format(Locale.ROOT, "a trace of S x L x E = %d x %d x %d "
                + "loads in %s of %s", s.steps(), s.layers(), s.experts(),
                Nouns.count(s.steps() / Math.max(1, window), "window"), Nouns.count(window, "step")),
                "fewer steps or longer windows");
    }

    /** The bytes {@link #requireWindows} asks for: the windows, the one being summed and a block, as doubles. */
    static long windowBytes(SyntheticTraceSpec s, int window) {
        long held = s.steps() / Math.max(1, window) + 1 + SyntheticTraceGenerator.blockSteps(s);
        return held * Double.BYTES * s.layers() * s.experts();
    }

    /** This machine's physical memory in bytes, for what lives outside the heap (native buffers, PyTorch). */
    public static long machineBytes() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
    }

    /** Bytes in GiB with one decimal, or in whole MiB below one GiB. */
    public static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : (bytes >> 20) + " MiB";
    }
}
