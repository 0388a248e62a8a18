package io.moelab.evolve.database;

import java.util.List;

/**
 * What one iteration starts from: a parent and the context for its prompt, all from one island.
 *
 * @param island       the island the child will live on
 * @param parent       the program to edit
 * @param topPrograms  the island's best programs other than the parent
 * @param inspirations other programs of the island, neither the parent nor top programs: its best, grid
 *                     neighbours of the parent, random ones
 * @param attempts     the island's most recent attempts, newest first
 */
public record Sample(int island, Program parent, List<Program> topPrograms, List<Program> inspirations,
                     List<Attempt> attempts) {
}
