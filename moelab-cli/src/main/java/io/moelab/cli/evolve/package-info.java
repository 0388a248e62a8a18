/**
 * {@code moelab evolve}: runs or resumes the LLM-driven generate-evaluate-refine loop, and {@code evolve init}
 * writes a task's initial program and a commented configuration.
 */
package io.moelab.cli.evolve;
