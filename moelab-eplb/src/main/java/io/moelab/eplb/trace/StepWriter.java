package io.moelab.eplb.trace;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Writes a trace's steps to a stream as they come: a format's header when made, each step, then its end. */
interface StepWriter extends StepSink {
    /** Writes what follows the last step and flushes. */
    void finish() throws IOException;

    /** An I/O error of a writer's {@link #accept}, which cannot throw it; {@link TraceFiles} rethrows the cause. */
    final class WriteFailure extends UncheckedIOException {
        WriteFailure(IOException cause) {
            super(cause);
        }
    }
}
