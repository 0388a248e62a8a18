/**
 * The {@code moelab} command line ({@code bin/moelab}), built on picocli: {@link io.moelab.cli.Main} runs
 * {@link io.moelab.cli.MoelabCommand} and its subcommands, one package per module they drive. Exit codes: 0
 * success, 1 failure, 2 bad input or usage, reported as one {@code error:} line on stderr.
 */
package io.moelab.cli;
