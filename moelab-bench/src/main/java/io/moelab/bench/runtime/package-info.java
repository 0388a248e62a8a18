/**
 * Benchmarks of moelab's runtime: the matrix-vector product in each weight format (JMH, and builds side by side),
 * how close F32 products come to the memory bus, greedy decode of builds side by side, and decode speed beside
 * Jlama on the same checkpoint.
 */
package io.moelab.bench.runtime;
