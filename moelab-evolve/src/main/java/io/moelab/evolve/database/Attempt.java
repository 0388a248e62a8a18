package io.moelab.evolve.database;

/**
 * What one iteration tried and how it went, for the next prompts ("previous attempts").
 *
 * @param iteration    the iteration
 * @param parentId     the program it edited
 * @param programId    the program it produced, or null when none was produced
 * @param outcome      how it compares with its parent
 * @param parentFitness the parent's fitness
 * @param fitness      the child's fitness (NaN when there is none)
 * @param summary      one or a few lines: the evaluator's error, or edits that did not apply
 * @param changes      what the answer said it changes (its words before its edits, on one line), or null/empty
 *                     when it said nothing (and in checkpoints written before the field)
 */
public record Attempt(long iteration, String parentId, String programId, Outcome outcome, double parentFitness,
                      double fitness, String summary, String changes) {

    /** An attempt that says nothing of what it changed. */
    public Attempt(long iteration, String parentId, String programId, Outcome outcome, double parentFitness,
                   double fitness, String summary) {
        this(iteration, parentId, programId, outcome, parentFitness, fitness, summary, null);
    }

    /** How an attempt went. */
    public enum Outcome {
        /** Better than its parent. */
        IMPROVED,
        /** Equal to its parent. */
        UNCHANGED,
        /** Worse than its parent. */
        REGRESSED,
        /** The child failed to compile, crashed, timed out or produced invalid output. */
        FAILED,
        /** The answer held no edit that applied, so there was nothing to evaluate. */
        NO_EDIT,
        /** The model could not be called. */
        LLM_ERROR
    }
}
