/**
 * {@code moelab eplb} and its subcommands: one placement from a load matrix ({@code rebalance}), algorithms side by
 * side on a trace ({@code evaluate}), synthetic traces ({@code generate}), rebalance timings ({@code bench}), a
 * demo that needs no files, and the regenerated results the docs quote ({@code report}).
 */
package io.moelab.cli.eplb;
