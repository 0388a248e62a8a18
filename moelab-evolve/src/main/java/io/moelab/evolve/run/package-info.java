/**
 * The generate-evaluate-refine loop ({@link io.moelab.evolve.run.EvolutionRun}) and the files of a run directory:
 * its trace, one line per completed iteration, its programs and its checkpoints, from which a run resumes.
 */
package io.moelab.evolve.run;
