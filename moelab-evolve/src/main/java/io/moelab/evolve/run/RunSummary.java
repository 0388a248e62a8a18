package io.moelab.evolve.run;

import java.util.Map;

/**
 * How a run ended.
 *
 * @param completed    iterations completed (over all sessions of a resumed run)
 * @param total        iterations requested
 * @param bestId       the best program
 * @param bestFitness  its fitness
 * @param bestMetrics  its metrics
 * @param initialFitness the initial program's fitness
 * @param costUsd      LLM cost of the run
 * @param tokens       LLM tokens of the run
 * @param stopReason   why it stopped before the total ({@code early_stopping}, {@code budget}), or null
 * @param errors       failed iterations by error kind, in the kinds' alphabetical order
 */
public record RunSummary(long completed, int total, String bestId, double bestFitness, Map<String, Double> bestMetrics,
                         double initialFitness, double costUsd, long tokens, String stopReason,
                         Map<String, Integer> errors) {
}
