/** Corpora, the byte-level token streams of training and validation, and batch sampling. */
package io.moelab.train.data;
