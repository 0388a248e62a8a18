package io.moelab.evolve.run;

/** Hears how a run goes, for progress bars and logs. Called from worker threads, one call at a time. */
public interface RunListener {

    /**
     * The run starts (or resumes).
     *
     * @param total     iterations the run goes to
     * @param completed iterations already completed (on resume)
     * @param best      the best fitness so far
     */
    default void started(int total, long completed, double best) {
    }

    /** An iteration completed. */
    default void iteration(IterationReport report) {
    }

    /** A one-line message worth showing (early stop, budget, checkpoint). */
    default void message(String text) {
    }

    /** Hears nothing. */
    RunListener NONE = new RunListener() {
    };
}
