/**
 * AI-driven research for systems (ADRS): an OpenEvolve-style loop in which a language model proposes edits to
 * a program, an evaluator scores each candidate in a child process, and an island-based MAP-Elites database
 * keeps the best. Generic over tasks; the EPLB task ships with it.
 */
package io.moelab.evolve;
