package io.moelab.evolve.task;

import java.nio.file.Path;
import java.util.List;

/**
 * What the loop evolves and how candidates are scored. A candidate is one source file; each evaluation stage
 * is a command run in a fresh working directory of the candidate's own, printing (or writing) JSON metrics.
 *
 * <p>Stage commands are templates: {@code {program}} (the candidate file), {@code {workdir}},
 * {@code {metrics}} (a file the stage may write its JSON to; otherwise the last JSON line of stdout counts),
 * {@code {stage}} (1-based), {@code {java}} (this JVM's {@code java}), {@code {task_dir}},
 * {@code {memory_mb}} and {@code {timeout}} (seconds) are substituted in every argument.
 */
public interface Task {

    /** Short name, for logs and the trace. */
    String name();

    /** Code fence language of the candidate (java, python, ...). */
    String language();

    /**
     * File name the candidate is written to in its working directory, e.g. {@code EvolvedBalancer.java}: a plain
     * name, without a directory part ({@link io.moelab.evolve.eval.CascadeEvaluator} refuses others).
     */
    String programFileName();

    /** The program evolution starts from. */
    String initialProgram();

    /** A system message for the model, or null for the generic one. */
    String systemMessage();

    /** The metric that is the fitness. */
    String fitnessMetric();

    /** The argv templates of the evaluation stages, first stage first: at least one, none empty. */
    List<List<String>> stageCommands();

    /** The directory the task came from ({@code {task_dir}}), or null for a built-in task. */
    Path directory();

    /** Cascade thresholds the task recommends when the configuration gives none (may be empty). */
    default List<Double> defaultCascadeThresholds() {
        return List.of();
    }

    /**
     * Scores the task's stages in the evolving process instead of trusting what they print or write (see
     * {@link StageScorer}), or null (the default) to read each stage's {@code {metrics}} file or the last JSON
     * line of its stdout, as OpenEvolve does.
     */
    default StageScorer stageScorer() {
        return null;
    }
}
