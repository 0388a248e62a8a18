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
     * Refuses a state without its parts (a checkpoint file cut short or edited), which failed a resume later with
     * a NullPointerException.
     *
     * @throws IllegalArgumentException naming the missing part
     */
    public DatabaseState {
        require(programs, "programs");
        require(islands, "islands");
        require(archive, "archive");
        require(featureRanges, "featureRanges");
        if (featureRanges.size() != 2 || featureRanges.get(0) == null || featureRanges.get(1) == null) {
            throw new IllegalArgumentException("featureRanges must hold a minimum and a maximum array");
        }
    }

    private static void require(Object part, String name) {
        if (part == null) {
            throw new IllegalArgumentException("no " + name);
        }
    }

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
        /**
         * Refuses an island without its parts.
         *
         * @throws IllegalArgumentException naming the missing part
         */
        public IslandState {
            require(members, "members");
            require(grid, "grid");
            require(cellOf, "cellOf");
            require(attempts, "attempts");
        }
    }
}
