package io.moelab.train.loop;

/** Hears a training run's progress (the command line draws a progress bar from it). */
public interface TrainListener {
    /** The run starts (or resumes) at {@code firstStep} of {@code totalSteps}. */
    default void started(TrainConfig config, long firstStep, long totalSteps) {}

    /** Step {@code step} (1-based) finished with cross-entropy {@code loss}. */
    default void stepped(long step, double loss) {}

    /** A validation finished after {@code step} steps. */
    default void validated(long step, Validation.Result result) {}

    /** Something the user should know that does not stop the run, such as a domain left out of validation. */
    default void warning(String message) {}

    /** Listens to nothing. */
    TrainListener NONE = new TrainListener() {};
}
