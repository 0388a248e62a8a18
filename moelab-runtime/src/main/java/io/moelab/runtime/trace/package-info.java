/**
 * Expert-load traces from a running model: {@link io.moelab.runtime.trace.ExpertLoadRecorder} counts, per step,
 * the tokens each expert of each MoE layer receives, the statistics an EPLB plans from.
 */
package io.moelab.runtime.trace;
