/** DJL's PyTorch engine, set up to work offline. */
package io.moelab.train.engine;
