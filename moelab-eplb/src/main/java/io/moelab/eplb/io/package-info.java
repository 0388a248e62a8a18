/**
 * Files of the EPLB formats: a small streaming JSON reader and writer (the module has no third-party runtime
 * dependency), the rebalance input and placement files, the UTF-8 check of text inputs, and
 * {@link io.moelab.eplb.io.AtomicFiles}, which writes outputs all-or-nothing.
 */
package io.moelab.eplb.io;
