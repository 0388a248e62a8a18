/**
 * The training loop: configuration and presets, validation, expert-load statistics, metrics, checkpoints and resume.
 */
package io.moelab.train.loop;
