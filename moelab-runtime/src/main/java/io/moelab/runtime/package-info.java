/**
 * A pure-Java Mixture-of-Experts inference runtime: Hugging Face checkpoints (safetensors) memory-mapped as
 * {@link java.lang.foreign.MemorySegment}s, weight formats that own their memory and their dot products, Vector
 * API kernels, and the MoE model families Mixtral, Qwen2-MoE, Qwen3-MoE and OLMoE.
 */
package io.moelab.runtime;
