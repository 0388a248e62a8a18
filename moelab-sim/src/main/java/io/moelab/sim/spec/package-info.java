/**
 * What is simulated: {@link io.moelab.sim.spec.ModelSpec} (an MoE model's layers, experts and sizes) and
 * {@link io.moelab.sim.spec.ClusterSpec} (nodes, GPUs and links), by preset name or from JSON files through
 * {@link io.moelab.sim.spec.SpecFiles}.
 */
package io.moelab.sim.spec;
