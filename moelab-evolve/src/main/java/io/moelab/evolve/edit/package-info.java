/**
 * Applying a language model's edits to a program: SEARCH/REPLACE blocks ({@link io.moelab.evolve.edit.DiffParser},
 * {@link io.moelab.evolve.edit.EditApplier}), full rewrites ({@link io.moelab.evolve.edit.CodeExtractor},
 * {@link io.moelab.evolve.edit.EvolveBlocks#splice}), and the EVOLVE-BLOCK markers that fence the code a model may
 * change. Every block that does not apply is reported with a one-line reason that the next prompt can show.
 */
package io.moelab.evolve.edit;
