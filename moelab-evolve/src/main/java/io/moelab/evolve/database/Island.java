package io.moelab.evolve.database;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One island's population: its programs, its MAP-Elites grid and its recent attempts. Guarded by the database. */
final class Island {
    static final int ATTEMPTS_KEPT = ProgramDatabase.ATTEMPTS_KEPT;

    final int index;
    /** Valid programs living here, in arrival order. */
    final Set<String> members = new LinkedHashSet<>();
    /** MAP-Elites: cell to the id of the best program that fell into it. */
    final Map<String, String> grid = new LinkedHashMap<>();
    /** Cell of each member. */
    final Map<String, String> cellOf = new LinkedHashMap<>();
    /**
     * Hashes of the code of every valid program that lived here (dropped ones too), so that migration never
     * brings code the island already has or had.
     */
    final Set<String> codes = new LinkedHashSet<>();
    final Deque<Attempt> attempts = new ArrayDeque<>();
    String bestId;
    /** Children added here (migrants excluded). */
    long generation;

    Island(int index) {
        this.index = index;
    }

    void recordAttempt(Attempt a) {
        attempts.addFirst(a);
        while (attempts.size() > ATTEMPTS_KEPT) {
            attempts.removeLast();
        }
    }

    List<Attempt> recentAttempts(int n) {
        List<Attempt> out = new ArrayList<>();
        for (Attempt a : attempts) {
            if (out.size() == n) {
                break;
            }
            out.add(a);
        }
        return out;
    }
}
