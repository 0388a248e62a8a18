/**
 * The commands that run a model with moelab's runtime: {@code generate}, {@code logits}, {@code perplexity},
 * {@code trace} (expert loads while a model reads texts) and {@code bench} (throughput and memory), with the
 * options they share.
 */
package io.moelab.cli.runtime;
