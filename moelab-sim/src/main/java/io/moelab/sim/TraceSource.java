package io.moelab.sim;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.StepSink;

/**
 * A trace that a simulation reads step by step, as often as it needs to, instead of holding it: read once when made
 * (to check it and count its steps), then again for each run. What it keeps is the size of one step, twice (the
 * first step and the sum of all of them), whatever the trace's length: a 100,000-step DeepSeek-V3 trace held as
 * steps took 12 GB.
 *
 * <p>Every reading must deliver the same steps; one that delivers another number of steps, or steps of another
 * shape, fails as a trace that changed while it was read.
 */
public final class TraceSource {

    /** Delivers a trace's steps, oldest first, each time it is called (a file is read again). */
    @FunctionalInterface
    public interface Reader {
        /**
         * Delivers every step to {@code sink}. An unchecked exception {@code sink} throws must propagate unchanged:
         * it is how a reading stops early, and how an error of the simulation is told from one of the trace.
         */
        void read(StepSink sink);
    }

    private final Reader reader;
    private final int steps;
    private final int layers;
    private final int experts;
    private final LoadMatrix first;
    private final LoadMatrix total;
    private final boolean hasLoad;

    private TraceSource(Reader reader, Scan scan) {
        this.reader = reader;
        this.steps = scan.steps;
        this.layers = scan.first.layers();
        this.experts = scan.first.experts();
        this.first = scan.first;
        this.total = scan.total.take();
        this.hasLoad = scan.hasLoad;
    }

    /**
     * Reads a trace once through {@code reader}, to check and measure it.
     *
     * @throws InvalidInputException as {@link ExpertLoadTrace#of} would for the steps it delivers (none, or two
     *                               shapes), or whatever {@code reader} throws
     */
    public static TraceSource of(Reader reader) {
        Scan scan = new Scan();
        reader.read(scan);
        if (scan.steps == 0) {
            throw new InvalidInputException("trace", "has no steps");
        }
        if (scan.mismatch != null) {
            throw scan.mismatch;
        }
        return new TraceSource(reader, scan);
    }

    /** A trace already in memory, read from there. */
    public static TraceSource of(ExpertLoadTrace trace) {
        return of((Reader) sink -> trace.stepList().forEach(sink::accept));
    }

    /** Number of steps. */
    public int steps() {
        return steps;
    }

    /** MoE layers per step. */
    public int layers() {
        return layers;
    }

    /** Logical experts per layer. */
    public int experts() {
        return experts;
    }

    /** The first step. */
    public LoadMatrix first() {
        return first;
    }

    /** Every step summed, as {@link ExpertLoadTrace#sum} of all of them: the same additions in the same order. */
    public LoadMatrix total() {
        return total;
    }

    /** Whether any step routes any token. */
    public boolean hasLoad() {
        return hasLoad;
    }

    /**
     * Delivers every step again, oldest first.
     *
     * @throws InvalidInputException naming {@code trace} if the reading delivers other steps than the first did (a
     *                               file that changed), or as the reader does for a file that became unreadable
     */
    public void read(StepSink sink) {
        read(steps, sink);
    }

    /**
     * Delivers the first {@code limit} steps again, oldest first, and stops reading there.
     *
     * @throws IllegalArgumentException if {@code limit} is negative or above {@link #steps()}
     * @throws InvalidInputException    as {@link #read(StepSink)}
     */
    public void read(int limit, StepSink sink) {
        if (limit < 0 || limit > steps) {
            throw new IllegalArgumentException("limit " + limit + " outside 0.." + steps);
        }
        if (limit == 0) {
            return;
        }
        Replay replay = new Replay(limit, sink);
        try {
            reader.read(replay);
        } catch (Escape e) {
            if (e.replay != replay) {
                throw e;
            }
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            if (e.getCause() == null) {
                return; // stopped after `limit` steps
            }
            throw e;
        }
        if (replay.delivered != limit || replay.changed) {
            throw changed();
        }
    }

    private InvalidInputException changed() {
        return new InvalidInputException("trace", "changed while it was being read: it had "
                + Nouns.count(steps, "step") + " of " + Nouns.count(layers, "layer") + " x "
                + Nouns.count(experts, "expert") + " when first read (keep trace files as they are while a "
                + "simulation runs)");
    }

    @Override
    public String toString() {
        return "TraceSource[" + steps + " steps, " + layers + " layers x " + experts + " experts]";
    }

    /** The first reading: the shape, the first step, the total and whether there is any load. */
    private static final class Scan implements StepSink {
        private int steps;
        private LoadMatrix first;
        private LoadMatrix.Sum total;
        private boolean hasLoad;
        private InvalidInputException mismatch;

        @Override
        public void accept(LoadMatrix step) {
            if (first == null) {
                first = step;
                total = new LoadMatrix.Sum(step.layers(), step.experts());
            } else if (step.layers() != first.layers() || step.experts() != first.experts()) {
                // Thrown after the reading, as ExpertLoadTrace.of would have: thrown here, a file reader would
                // name its file in it.
                try {
                    step.requireShape(first.layers(), first.experts(), "step " + steps);
                } catch (InvalidInputException e) {
                    mismatch = mismatch == null ? e : mismatch;
                }
                steps++;
                return;
            }
            total.add(step);
            for (int l = 0; !hasLoad && l < step.layers(); l++) {
                hasLoad = step.layerTotal(l) > 0;
            }
            steps++;
        }
    }

    /** A later reading: passes the steps on, stops after the last one wanted and notices a changed trace. */
    private final class Replay implements StepSink {
        private final int limit;
        private final StepSink sink;
        private int delivered;
        private boolean changed;

        Replay(int limit, StepSink sink) {
            this.limit = limit;
            this.sink = sink;
        }

        @Override
        public void accept(LoadMatrix step) {
            if (changed) {
                return;
            }
            if (delivered == limit || step.layers() != layers || step.experts() != experts) {
                changed = true; // more steps than the first reading had, or another shape
                return;
            }
            try {
                sink.accept(step);
            } catch (RuntimeException e) {
                // Through the reader untouched: a file reader would otherwise name its file in the simulation's
                // error.
                throw new Escape(this, e);
            }
            delivered++;
            if (delivered == limit && limit < steps) {
                throw new Escape(this, null);
            }
        }
    }

    /** Carries the sink's exception, or (without one) the stop after the last step wanted, out of the reader. */
    private static final class Escape extends RuntimeException {
        private final transient Replay replay;

        Escape(Replay replay, RuntimeException cause) {
            super(cause == null ? "stop" : cause.toString(), cause, false, false);
            this.replay = replay;
        }
    }
}
