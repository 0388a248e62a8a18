/** Atomic file operations of a run directory. */
package io.moelab.train.io;
