/** AdamW and the learning-rate schedule. */
package io.moelab.train.optim;
