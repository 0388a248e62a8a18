/**
 * Measuring the runtime: {@link io.moelab.runtime.bench.MemoryBandwidth} (the machine's parallel read bandwidth,
 * the roofline of decoding), {@link io.moelab.runtime.bench.SyntheticCheckpoint} (random Mixtral-layout
 * checkpoints of a chosen size), {@link io.moelab.runtime.bench.WeightAccounting} (resident and per-token active
 * weight bytes from a checkpoint's header and a weight format) and {@link io.moelab.runtime.bench.ModelBench}
 * (prefill and decode throughput, memory).
 */
package io.moelab.runtime.bench;
