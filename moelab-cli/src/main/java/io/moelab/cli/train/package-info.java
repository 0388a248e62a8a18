/** {@code moelab train}: trains a small MoE language model with DJL's PyTorch engine. */
package io.moelab.cli.train;
