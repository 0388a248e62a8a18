/**
 * What every command shares: checks of inputs and outputs before work starts (standard input as {@code -},
 * output paths, heap size, option words and lists), trace resolution for {@code --trace}, JSON settings, tables,
 * charts, progress on an interactive terminal, and a lock on a run directory.
 */
package io.moelab.cli.support;
