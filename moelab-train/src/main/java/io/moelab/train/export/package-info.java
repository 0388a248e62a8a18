/** Export of a trained model as a Hugging Face checkpoint that moelab-runtime loads. */
package io.moelab.train.export;
