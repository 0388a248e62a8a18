/**
 * Text to token ids and back: {@link io.moelab.runtime.tokenizer.ByteTokenizer} for moelab's own byte-level
 * models, {@link io.moelab.runtime.tokenizer.HuggingFaceTokenizer} for a model directory's {@code tokenizer.json}
 * (through DJL's bundled native Hugging Face tokenizers library, never downloaded), and
 * {@link io.moelab.runtime.tokenizer.Tokenizers#forModel} to pick one for a model directory.
 */
package io.moelab.runtime.tokenizer;
