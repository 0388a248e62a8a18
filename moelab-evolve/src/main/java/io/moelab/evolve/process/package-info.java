/**
 * Running untrusted commands: {@link io.moelab.evolve.process.ChildProcess} runs a
 * {@link io.moelab.evolve.process.ProcessSpec} under a hard timeout and an output cap and kills its whole process
 * tree when it ends, and {@link io.moelab.evolve.process.Directories} removes working directories.
 */
package io.moelab.evolve.process;
