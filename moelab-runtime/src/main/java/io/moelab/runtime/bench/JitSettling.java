package io.moelab.runtime.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * Tells when the JIT has stopped compiling: fed the JVM's total compilation time after each untimed benchmark run,
 * it reports settled once {@value #QUIET_RUNS} runs in a row added at most {@value #QUIET_MILLIS} ms to it.
 *
 * <p>Why: on a 2-core machine a C2 compilation takes a core from the two decoding threads for as long as it runs
 * (50-100 ms for the model's larger methods), and every token of those spells waited about one scheduler slice more
 * (m100, packed F32: tokens of 6 ms among tokens of 2 ms, in spells of 20-30 tokens). Methods of the batched prefill
 * run once per run, so they reach C2 only after a dozen runs: 256 warm-up tokens and one prefill left the JIT
 * compiling into the third and fourth timed runs. One quiet run is not enough: the compilation time of m100's
 * warm-up stood still for one run and grew again by 27 ms in the next.
 */
final class JitSettling {
    /** Compilation milliseconds a run may add and still count as quiet (the JVM's counter has 1 ms steps). */
    static final long QUIET_MILLIS = 1;
    /** Quiet runs in a row that make the JIT settled. */
    static final int QUIET_RUNS = 2;

    private final LongSupplier compileMillis;
    private long last;
    private int quiet;

    /** Watches {@code compileMillis}, a total compilation time in milliseconds, from its value now. */
    JitSettling(LongSupplier compileMillis) {
        this.compileMillis = compileMillis;
        this.last = compileMillis.getAsLong();
    }

    /**
     * Watches this JVM's total compilation time, or nothing where it is not monitored (then {@link #runDone} never
     * reports settled, and the warm-up runs its full count).
     */
    static JitSettling ofThisJvm() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return new JitSettling(() -> -1);
        }
        return new JitSettling(jit::getTotalCompilationTime);
    }

    /** Records that a run ended; true once the last {@value #QUIET_RUNS} runs were each quiet. */
    boolean runDone() {
        long now = compileMillis.getAsLong();
        if (now < 0) {
            return false;
        }
        quiet = now - last <= QUIET_MILLIS ? quiet + 1 : 0;
        last = now;
        return quiet >= QUIET_RUNS;
    }
}
