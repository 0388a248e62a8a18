package io.moelab.evolve.database;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
     * Refuses a state without its parts or without islands (a checkpoint file cut short or edited), which failed a
     * resume later with a NullPointerException or blamed the settings.
     *
     * @throws IllegalArgumentException naming the missing part
     */
    public DatabaseState {
        require(programs, "programs");
        require(islands, "islands");
        require(archive, "archive");
        require(featureRanges, "featureRanges");
        if (islands.isEmpty()) {
            // Restoring it blamed database.num_islands for what is a file edited or cut short.
            throw new IllegalArgumentException("no islands: a database has at least one");
        }
        if (featureRanges.size() != 2 || featureRanges.get(0) == null || featureRanges.get(1) == null) {
            throw new IllegalArgumentException("featureRanges must hold a minimum and a maximum array");
        }
        if (featureRanges.get(0).length != featureRanges.get(1).length) {
            throw new IllegalArgumentException("featureRanges: minima for " + featureRanges.get(0).length
                    + " dimensions but maxima for " + featureRanges.get(1).length);
        }
        requireReferences(programs, islands, archive, bestId);
    }

    /**
     * Refuses ids that name no program, and programs on islands the state does not have (a checkpoint edited by
     * hand): the database looked them up later and the resumed run failed with a NullPointerException.
     */
    private static void requireReferences(List<Program> programs, List<IslandState> islands, List<String> archive,
                                          String bestId) {
        Set<String> ids = new HashSet<>();
        for (Program p : programs) {
            if (p == null || p.id() == null) {
                throw new IllegalArgumentException("a program without an id");
            }
            if (!ids.add(p.id())) {
                throw new IllegalArgumentException("program '" + p.id() + "' appears twice");
            }
            if (p.island() < 0 || p.island() >= islands.size()) {
                throw new IllegalArgumentException("program '" + p.id() + "' is on island " + p.island()
                        + ", but the checkpoint has " + islands.size() + " islands");
            }
        }
        for (int i = 0; i < islands.size(); i++) {
            IslandState island = islands.get(i);
            if (island == null) {
                throw new IllegalArgumentException("no island " + i);
            }
            String where = "island " + i + ": ";
            for (String id : island.members()) {
                requireKnown(ids, id, where + "member");
            }
            for (String id : island.grid().values()) {
                requireKnown(ids, id, where + "grid cell");
            }
            for (String id : island.cellOf().keySet()) {
                requireKnown(ids, id, where + "cellOf");
            }
            if (island.bestId() != null) {
                requireKnown(ids, island.bestId(), where + "bestId");
            }
        }
        for (String id : archive) {
            requireKnown(ids, id, "archive:");
        }
        if (bestId != null) {
            requireKnown(ids, bestId, "bestId");
        }
    }

    private static void requireKnown(Set<String> ids, String id, String what) {
        if (!ids.contains(id)) {
            throw new IllegalArgumentException(what + " '" + id + "' is not among the programs");
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
