/**
 * The simulator's cost model: {@link io.moelab.sim.cost.StepModel}, the time of one serving step for a placement
 * and the step's routed tokens, and {@link io.moelab.sim.cost.MigrationCost}, what switching placements copies and
 * how long it takes, and {@link io.moelab.sim.cost.Transfer}, such a copy in flight while serving goes on, sharing the
 * links with the steps' all-to-all.
 */
package io.moelab.sim.cost;
