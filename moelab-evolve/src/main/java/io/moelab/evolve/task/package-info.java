/**
 * What a run evolves: a {@link io.moelab.evolve.task.Task} is an initial program and the evaluation stages that
 * score a candidate. {@link io.moelab.evolve.task.Tasks} finds one by its command-line name, the built-in EPLB task
 * or a directory holding {@code task.yaml} ({@link io.moelab.evolve.task.GenericTask}).
 */
package io.moelab.evolve.task;
