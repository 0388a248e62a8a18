package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
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

    /** {@link #require} for a synthetic trace, which holds every load twice at its peak (the steps, then the trace). */
    public static void requireTrace(String option, SyntheticTraceSpec s) {
        require(option, 2 * Double.BYTES * s.loads(), String.format(Locale.ROOT, "a trace of S x L x E = %d x %d x %d "
                + "loads", s.steps(), s.layers(), s.experts()), "fewer steps");
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
