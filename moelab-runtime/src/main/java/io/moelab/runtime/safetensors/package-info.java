/**
 * Reading and writing <a href="https://github.com/huggingface/safetensors">safetensors</a> checkpoints: single
 * files memory-mapped as {@link java.lang.foreign.MemorySegment}s with strict header validation, sharded
 * checkpoints described by {@code model.safetensors.index.json}, and a writer for tests and exports.
 */
package io.moelab.runtime.safetensors;
