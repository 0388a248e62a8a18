package io.moelab.eplb.trace;

import io.moelab.eplb.LoadMatrix;

/**
 * Receives a trace's steps one at a time, oldest first, as a reader parses them (see
 * {@link TraceFiles#read(java.nio.file.Path, StepSink)}), so that a consumer that needs only sums, such as
 * {@link WindowSums}, never holds every step.
 */
@FunctionalInterface
public interface StepSink {
    /** Takes the next step; every step a reader delivers from one source has the same shape. */
    void accept(LoadMatrix step);
}
