/**
 * Using a model's logits: {@link io.moelab.runtime.generate.Sampler} picks the next token (greedy, or seeded
 * nucleus sampling at a temperature), and {@link io.moelab.runtime.generate.Perplexity} measures how well a model
 * predicts a text, in windows of at most a given number of tokens.
 */
package io.moelab.runtime.generate;
