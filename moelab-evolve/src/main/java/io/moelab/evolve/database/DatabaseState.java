package io.moelab.evolve.database;

import java.util.List;
import java.util.Map;

/**
 * A program database as plain data, for checkpoints (serialized as JSON).
 *
 * @param programs               every program, in arrival order
 * @param islands                per island: members, grid, cells, best, generation, recent attempts
 * @param archive                elite archive ids
 * @param bestId                 the best program's id
 * @param childrenSinceMigration children added since the last migration
 * @param migrations             migrations so far
 * @param featureRanges          minimum and maximum per feature dimension (NaN where unset)
 */
public record DatabaseState(List<Program> programs, List<IslandState> islands, List<String> archive, String bestId,
                            long childrenSinceMigration, int migrations, List<double[]> featureRanges) {

    /**
     * One island as plain data.
     *
     * @param members    ids of its valid programs
     * @param grid       MAP-Elites cell to program id
     * @param cellOf     cell of each member
     * @param bestId     its best program
     * @param generation children added to it
     * @param attempts   recent attempts, newest first
     */
    public record IslandState(List<String> members, Map<String, String> grid, Map<String, String> cellOf,
                              String bestId, long generation, List<Attempt> attempts) {
    }
}
