/**
 * Scoring candidates: {@link io.moelab.evolve.eval.CascadeEvaluator} runs a task's evaluation stages as child
 * processes under a timeout and an output cap, and turns what they print into an
 * {@link io.moelab.evolve.eval.Evaluation}.
 */
package io.moelab.evolve.eval;
