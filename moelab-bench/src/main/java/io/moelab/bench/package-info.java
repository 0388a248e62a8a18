/**
 * Benchmarks of moelab's EPLB and simulator: JMH benchmarks (run with {@code bin/bench NAME}) of a rebalance, a
 * placement score and a whole simulation, and side-by-side harnesses that time two or more builds of a module in
 * one JVM, each through its own {@link io.moelab.bench.BuildLoader class loader}, so that a shared host's drifting
 * load hits them alike.
 */
package io.moelab.bench;
