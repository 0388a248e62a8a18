/**
 * The program database: {@link io.moelab.evolve.database.ProgramDatabase} keeps every evaluated
 * {@link io.moelab.evolve.database.Program} on islands, each with a MAP-Elites grid, migrating between islands in a
 * ring (to both neighbours), and samples each iteration's parent and prompt context; its state is plain data for
 * checkpoints.
 */
package io.moelab.evolve.database;
