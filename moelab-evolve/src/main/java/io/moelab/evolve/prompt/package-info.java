/**
 * The prompts sent to the model: {@link io.moelab.evolve.prompt.PromptBuilder} fills templates with the parent,
 * its metrics, the island's recent attempts and its best programs into a {@link io.moelab.evolve.prompt.Prompt}.
 */
package io.moelab.evolve.prompt;
