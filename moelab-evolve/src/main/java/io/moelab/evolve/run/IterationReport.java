package io.moelab.evolve.run;

/**
 * What one completed iteration reports to a {@link RunListener}.
 *
 * @param record      its trace line
 * @param completed   iterations completed so far in the run
 * @param total       iterations the run goes to
 * @param bestFitness the best fitness so far
 * @param bestId      the best program so far
 * @param costUsd     LLM cost of the run so far
 */
public record IterationReport(TraceRecord record, long completed, int total, double bestFitness, String bestId,
                              double costUsd) {
}
