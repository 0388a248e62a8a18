/**
 * Weight formats and matrix kernels: {@link io.moelab.runtime.tensor.WeightMatrix} and its float (F32, F16, BF16)
 * and quantized (Q8, INT4) implementations, each owning its memory and its Vector API dot product, and
 * {@link io.moelab.runtime.tensor.MatVec} for matrix-vector products and float helpers.
 */
package io.moelab.runtime.tensor;
