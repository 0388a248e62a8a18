package io.moelab.train.loop;

import java.nio.file.Path;
import java.util.List;

/** Hears a training run's progress (the command line draws a progress bar from it). */
public interface TrainListener {
    /**
     * Before anything is written or trained: the files the run will write, their names known only now that its
     * corpus and configuration are loaded. Throwing here ends the run with nothing written, rather than once it has
     * trained.
     *
     * @param config    the run's configuration
     * @param files     the files the trainer writes in the run's directory ({@code model/} aside, replaced whole)
     * @param validated whether any domain has validation windows (routing is measured on them)
     */
    default void writes(TrainConfig config, List<Path> files, boolean validated) {}

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
