/**
 * The built-in {@code eplb} task of the evolve loop: the candidate program is one Java source file implementing
 * moelab's {@code BalancerAlgorithm}, started from DeepSeek's EPLB; {@link io.moelab.evolve.task.eplb.EplbHarness}
 * compiles and runs it in a child JVM and records its placements and timing samples, which
 * {@link io.moelab.evolve.task.eplb.EplbTask#scorer} scores in the evolve process; {@code EplbTask} describes the
 * task to the controller and {@link io.moelab.evolve.task.eplb.EplbScore} holds the fitness formula.
 */
package io.moelab.evolve.task.eplb;
