/**
 * Expert-load traces: {@link io.moelab.eplb.trace.ExpertLoadTrace} in memory, and
 * {@link io.moelab.eplb.trace.TraceFiles} to read them (moelab's compact format, vLLM's and SGLang's JSON, and
 * SGLang's {@code torch.save} dumps, {@code .pt}; the format is told from the content) and to write them (compact
 * or vLLM JSON). A reader can pass the steps one at a time to a {@link io.moelab.eplb.trace.StepSink} instead of
 * holding the trace. Also the built-in recordings and a seeded synthetic trace generator.
 */
package io.moelab.eplb.trace;
