/**
 * The serving simulator: {@link io.moelab.sim.Simulation} replays an expert-load trace, step by step, through an
 * expert-parallel deployment under each {@link io.moelab.sim.Policy} (none, or an EPLB algorithm re-planning
 * every K steps), charging each rebalance its planning time and weight transfer; {@link io.moelab.sim.Sweep}
 * varies the rebalance interval and the redundant experts around a base. Every formula is in docs/SIM.md.
 */
package io.moelab.sim;
