/**
 * The simulator's cost model: {@link io.moelab.sim.cost.StepModel}, the time of one serving step for a placement
 * and the step's routed tokens, and {@link io.moelab.sim.cost.MigrationCost}, what switching placements copies and
 * how long it takes.
 */
package io.moelab.sim.cost;
