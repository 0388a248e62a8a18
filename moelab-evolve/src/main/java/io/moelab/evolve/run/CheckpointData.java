package io.moelab.evolve.run;

import io.moelab.evolve.database.DatabaseState;
import io.moelab.evolve.llm.CostLedger;
import java.util.List;
import java.util.Map;

/**
 * One checkpoint: the database (programs, islands, grids, archive, attempts) and the run's own state.
 *
 * @param database the database
 * @param state    the rest
 */
record CheckpointData(DatabaseState database, RunState state) {

    /**
     * The run's state besides the database. Randomness needs no state: iteration i always draws from the stream
     * seeded by (seed, i).
     *
     * @param completed   iterations completed when it was taken
     * @param traceLines  trace lines (iteration 0 included) already in the database
     * @param seed        the run's seed, checked on resume
     * @param task        the task's name, checked on resume
     * @param costs       LLM usage per model
     * @param bestFitness best fitness so far (for early stopping)
     * @param lastImprovement completed-iteration count at the last improvement
     * @param improvedTo  the best fitness at that improvement, which the next must exceed by the convergence
     *                    threshold (null in checkpoints written before it was kept: the best fitness is used)
     * @param fitnessMetric     {@code database.fitness_metric}, checked on resume (null in checkpoints written
     *                          before it was kept, as are the next two)
     * @param paretoMetrics     {@code database.pareto_metrics}, checked on resume
     * @param featureDimensions {@code database.feature_dimensions}, checked on resume
     * @param featureBins       {@code database.feature_bins}, checked on resume (null in checkpoints written before
     *                          it was kept)
     */
    record RunState(long completed, long traceLines, long seed, String task, Map<String, CostLedger.ModelUsage> costs,
                    Double bestFitness, long lastImprovement, Double improvedTo, String fitnessMetric,
                    List<String> paretoMetrics, List<String> featureDimensions, Integer featureBins) {
        /**
         * Refuses a state without its task or costs (a file cut short or edited).
         *
         * @throws IllegalArgumentException naming the missing part
         */
        RunState {
            if (task == null || costs == null) {
                throw new IllegalArgumentException("no " + (task == null ? "task" : "costs"));
            }
        }
    }
}
