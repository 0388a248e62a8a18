/**
 * A run's configuration: {@link io.moelab.evolve.config.EvolveConfig} assembles defaults, a YAML file (OpenEvolve's
 * keys where the meaning is the same) and command-line options into the settings a run uses, and
 * {@link io.moelab.evolve.config.YamlErrors} words a file that does not parse as one line.
 */
package io.moelab.evolve.config;
