package io.moelab.evolve.database;

import io.moelab.eplb.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The programs of a run, on islands that evolve apart: a child always lands on its parent's island, and
 * programs cross only by ring migration (island i to i + 1 and i - 1, as in OpenEvolve) every
 * {@code migration_interval} generations, never as a copy of what the target already holds, and a copy never
 * moves on. Each island keeps a MAP-Elites grid over the feature dimensions; an elite archive and the best
 * program span islands but are read per island when choosing parents, so islands stay isolated. Thread-safe:
 * every method that reads or changes the programs locks the database.
 */
public final class ProgramDatabase {
    /** Recent attempts each island keeps for prompts (and checkpoints): the most a prompt can show. */
    public static final int ATTEMPTS_KEPT = 50;

    private final DatabaseSettings settings;
    private final Fitness fitness;
    private final FeatureMap features;
    /** Every program, failed ones included (they feed the prompt history), by id in arrival order. */
    private final Map<String, Program> programs = new LinkedHashMap<>();
    private final List<Island> islands = new ArrayList<>();
    /** Elite archive: top programs by fitness, or the non-dominated front in Pareto mode. */
    private final Set<String> archive = new LinkedHashSet<>();
    private String bestId;
    private long childrenSinceMigration;
    private int migrations;

    /** An empty database. */
    public ProgramDatabase(DatabaseSettings settings) {
        this.settings = settings;
        this.fitness = new Fitness(settings);
        this.features = new FeatureMap(settings.featureDimensions(), settings.featureBins(), fitness::of);
        for (int i = 0; i < settings.numIslands(); i++) {
            islands.add(new Island(i));
        }
    }

    /** The settings. */
    public DatabaseSettings settings() {
        return settings;
    }

    /**
     * Seeds every island with the initial program (id {@code "0"} on island 0, copies {@code "0>i"} elsewhere),
     * so that each island starts from it without borrowing from another.
     */
    public synchronized void seed(Program initial) {
        add(initial);
        for (int i = 1; i < islands.size(); i++) {
            insert(initial.migrateTo(i));
        }
    }

    /**
     * Adds an evaluated child to its island (failed children are kept for history only) and migrates when a
     * migration is due.
     */
    public synchronized void add(Program child) {
        island(child.island());
        insert(child);
        if (child.migratedFrom() == null && child.iteration() > 0) {
            islands.get(child.island()).generation++;
            countTowardMigration();
        }
    }

    /**
     * Counts an iteration on {@code island} whose model answer gave no child (no usable edit) toward the migration
     * interval, as a child counts: else a model that often answers unusably delayed migration without bound.
     */
    public synchronized void recordNoChild(int island) {
        island(island);
        countTowardMigration();
    }

    /**
     * The island numbered {@code island}.
     *
     * @throws IllegalArgumentException naming it when there is none (an index out of bounds named nothing)
     */
    private Island island(int island) {
        if (island < 0 || island >= islands.size()) {
            throw new IllegalArgumentException("no island " + island + " (have " + islands.size() + ")");
        }
        return islands.get(island);
    }

    private void countTowardMigration() {
        childrenSinceMigration++;
        if (islands.size() > 1 && childrenSinceMigration >= (long) settings.migrationInterval() * islands.size()) {
            migrate();
            childrenSinceMigration = 0;
        }
    }

    private void insert(Program p) {
        if (programs.containsKey(p.id())) {
            throw new IllegalArgumentException("program " + p.id() + " is already in the database");
        }
        programs.put(p.id(), p);
        if (!p.valid()) {
            return;
        }
        Island island = islands.get(p.island());
        double[] raw = features.raw(p, elites(island, 5));
        island.members.add(p.id());
        island.codes.add(hash(p.code()));
        if (raw != null) {
            features.observe(raw);
            String cell = features.cell(raw);
            island.cellOf.put(p.id(), cell);
            String incumbent = island.grid.get(cell);
            if (incumbent == null || fitness.better(p, programs.get(incumbent))) {
                island.grid.put(cell, p.id());
            }
        }
        if (island.bestId == null || fitness.of(p) > fitness.of(programs.get(island.bestId))) {
            island.bestId = p.id();
        }
        if (bestId == null || fitness.of(p) > fitness.of(programs.get(bestId))) {
            bestId = p.id();
        }
        updateArchive(p);
        // A program that lost its archive place to p may live on another island, which may now be over its cap.
        for (Island i : islands) {
            enforcePopulation(i);
        }
    }

    private void updateArchive(Program p) {
        if (settings.pareto()) {
            for (String id : archive) {
                if (fitness.dominates(programs.get(id), p) || sameScores(programs.get(id), p)) {
                    return;
                }
            }
            // A program that dominates p may have left an overfull front: p is still not on the front.
            for (Program q : programs.values()) {
                if (q.valid() && fitness.dominates(q, p)) {
                    return;
                }
            }
            archive.removeIf(id -> fitness.dominates(p, programs.get(id)));
            archive.add(p.id());
            if (archive.size() > settings.archiveSize()) {
                archive.remove(archive.iterator().next()); // the oldest member of an overfull front
            }
            return;
        }
        if (archive.size() < settings.archiveSize()) {
            archive.add(p.id());
            return;
        }
        // Full: only a newcomer that beats the worst member (the oldest of equal ones) takes its place, as in a
        // grid cell. A tie displaced the oldest, so migrant copies pushed out older programs, their original too.
        String worst = archive.stream().min(Comparator.comparingDouble(id -> fitness.of(programs.get(id))))
                .orElseThrow();
        if (fitness.of(p) > fitness.of(programs.get(worst))) {
            archive.remove(worst);
            archive.add(p.id());
        }
    }

    private boolean sameScores(Program a, Program b) {
        for (String spec : settings.paretoMetrics()) {
            if (Fitness.objective(a, spec) != Fitness.objective(b, spec)) {
                return false;
            }
        }
        return true;
    }

    /** Drops the island's worst programs that hold no cell, no archive place and are not its best. */
    private void enforcePopulation(Island island) {
        int cap = Math.max(1, settings.populationSize() / islands.size());
        while (island.members.size() > cap) {
            Optional<String> victim = island.members.stream()
                    .filter(id -> !id.equals(island.bestId) && !archive.contains(id)
                            && !id.equals(island.grid.get(island.cellOf.get(id))))
                    .min(Comparator.comparingDouble(id -> fitness.of(programs.get(id))));
            if (victim.isEmpty()) {
                return;
            }
            island.members.remove(victim.get());
            island.cellOf.remove(victim.get());
            // Diversity compares with members only: kept, its trigrams grew the heap by one program per iteration.
            features.forget(victim.get());
        }
    }

    /**
     * Ring migration, as in OpenEvolve: each island's best programs go, as copies, to both ring neighbours (the
     * next island, then the previous one; with two islands that is one island, which gets one copy) unless the
     * neighbour has their code. A copy among them stays: each program moves once (as in OpenEvolve), else an
     * island's best went round the ring copy by copy until every island held it. Every island's migrants are
     * chosen before any copy lands, so the order of the islands does not decide which programs move; one that
     * the population cap has dropped from its island by its turn (copies landing there pushed it out) stays, as
     * in OpenEvolve, which chooses at the island's turn and finds it gone.
     */
    private void migrate() {
        int n = islands.size();
        List<List<Program>> outgoing = new ArrayList<>();
        for (Island island : islands) {
            List<Program> ranked = ranked(island);
            int k = Math.max(1, (int) Math.floor(settings.migrationRate() * ranked.size()));
            outgoing.add(ranked.subList(0, Math.min(k, ranked.size())));
        }
        for (int i = 0; i < n; i++) {
            int next = (i + 1) % n;
            int previous = (i + n - 1) % n;
            List<Island> targets = next == previous ? List.of(islands.get(next))
                    : List.of(islands.get(next), islands.get(previous));
            Island source = islands.get(i);
            for (Program p : outgoing.get(i)) {
                // Else a program its island had dropped still spread to both neighbours and could live on there.
                if (migrant(p) || !source.members.contains(p.id())) {
                    continue;
                }
                for (Island target : targets) {
                    // The id names the island the copy lands on, so the copies to the two neighbours differ.
                    Program copy = p.migrateTo(target.index);
                    if (!target.codes.contains(hash(p.code())) && !programs.containsKey(copy.id())) {
                        insert(copy);
                    }
                }
            }
        }
        migrations++;
    }

    /**
     * Whether {@code p} is a migrated copy (the seed's copies included): it names its original, or, read from a
     * checkpoint without that field, has a copy's {@code ID>ISLAND} id.
     */
    private static boolean migrant(Program p) {
        return p.migratedFrom() != null || p.id().contains(">");
    }

    /** The island's valid programs, best first. */
    private List<Program> ranked(Island island) {
        return island.members.stream().map(programs::get)
                .sorted(Comparator.comparingDouble(fitness::of).reversed()).toList();
    }

    private List<Program> elites(Island island, int n) {
        List<Program> r = ranked(island);
        return r.subList(0, Math.min(n, r.size()));
    }

    /**
     * Chooses a parent on {@code island} and the programs its prompt shows. With probability
     * {@code exploration_ratio} the parent is a random program of the island; with {@code exploitation_ratio}
     * a random archive member living on the island (the island's best if none); otherwise it is drawn with
     * probability rising with fitness rank.
     *
     * @throws IllegalStateException    if the island has no valid program (seed the database first)
     * @throws IllegalArgumentException if there is no such island
     */
    public synchronized Sample sample(int island, SeededRandom rng) {
        Island isl = island(island);
        List<Program> ranked = ranked(isl);
        if (ranked.isEmpty()) {
            throw new IllegalStateException("island " + island + " has no valid program");
        }
        Program parent;
        double r = rng.nextDouble();
        if (r < settings.explorationRatio()) {
            parent = rng.pick(ranked);
        } else if (r < settings.explorationRatio() + settings.exploitationRatio()) {
            List<Program> elite = archive.stream().map(programs::get).filter(p -> p.island() == island)
                    .filter(p -> isl.members.contains(p.id())).toList();
            parent = elite.isEmpty() ? programs.get(isl.bestId) : rng.pick(elite);
        } else {
            parent = rankWeighted(ranked, rng);
        }
        List<Program> top = ranked.stream().filter(p -> !p.id().equals(parent.id()))
                .limit(settings.numTopPrograms()).toList();
        return new Sample(island, parent, top, inspirations(isl, parent, top, ranked, rng),
                isl.recentAttempts(Island.ATTEMPTS_KEPT));
    }

    /** Rank-proportional choice: the best of n programs has weight n, the worst 1. */
    private static Program rankWeighted(List<Program> ranked, SeededRandom rng) {
        int n = ranked.size();
        double total = n * (n + 1) / 2.0;
        double x = rng.nextDouble() * total;
        for (int i = 0; i < n; i++) {
            x -= n - i;
            if (x < 0) {
                return ranked.get(i);
            }
        }
        return ranked.getLast();
    }

    /**
     * Up to {@code num_diverse_programs} programs of the island that the prompt does not show otherwise (neither
     * the parent nor a top program): its best, then the elites of grid cells next to the parent's, then random
     * members. OpenEvolve's {@code _sample_inspirations} starts with the island's best, which here is nearly
     * always the parent or the first top program, so that slot showed nothing the prompt lacked. Drawn after the
     * parent and from the iteration's own generator, so the parents drawn do not depend on it.
     */
    private List<Program> inspirations(Island island, Program parent, List<Program> top, List<Program> ranked,
                                       SeededRandom rng) {
        int want = settings.numInspirations();
        if (want == 0) {
            return List.of();
        }
        Set<String> shown = new java.util.HashSet<>();
        shown.add(parent.id());
        top.forEach(p -> shown.add(p.id()));
        LinkedHashSet<String> chosen = new LinkedHashSet<>();
        if (!shown.contains(island.bestId)) {
            chosen.add(island.bestId);
        }
        String cell = island.cellOf.get(parent.id());
        if (cell != null) {
            for (Map.Entry<String, String> e : island.grid.entrySet()) {
                if (chosen.size() >= want) {
                    break;
                }
                if (FeatureMap.adjacent(cell, e.getKey()) && !shown.contains(e.getValue())) {
                    chosen.add(e.getValue());
                }
            }
        }
        List<Program> pool = new ArrayList<>(ranked.stream()
                .filter(p -> !shown.contains(p.id()) && !chosen.contains(p.id())).toList());
        while (chosen.size() < want && !pool.isEmpty()) {
            chosen.add(pool.remove(rng.nextInt(pool.size())).id());
        }
        return chosen.stream().limit(want).map(programs::get).toList();
    }

    /** Records what an iteration tried on an island. @throws IllegalArgumentException if there is no such island */
    public synchronized void recordAttempt(int island, Attempt attempt) {
        island(island).recordAttempt(attempt);
    }

    /** The best valid program over all islands (by fitness, also in Pareto mode). */
    public synchronized Optional<Program> best() {
        return Optional.ofNullable(bestId).map(programs::get);
    }

    /** The scalar fitness of a program under these settings. */
    public double fitness(Program p) {
        return fitness.of(p);
    }

    /** A program by id. */
    public synchronized Optional<Program> get(String id) {
        return Optional.ofNullable(programs.get(id));
    }

    /** Every program, in arrival order. */
    public synchronized List<Program> programs() {
        return List.copyOf(programs.values());
    }

    /** Ids of the valid programs on an island. @throws IllegalArgumentException if there is no such island */
    public synchronized List<String> members(int island) {
        return List.copyOf(island(island).members);
    }

    /**
     * The MAP-Elites grid of an island: cell to program id.
     *
     * @throws IllegalArgumentException if there is no such island
     */
    public synchronized Map<String, String> grid(int island) {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(island(island).grid));
    }

    /** Ids in the elite archive (the non-dominated front in Pareto mode). */
    public synchronized List<String> archive() {
        return List.copyOf(archive);
    }

    /** Ids of the programs whose diversity trigrams are cached, for tests. */
    synchronized Set<String> cachedDiversityPrograms() {
        return features.cached();
    }

    /** Migrations so far. */
    public synchronized int migrations() {
        return migrations;
    }

    /** Islands. */
    public int islandCount() {
        return islands.size();
    }

    /** Everything needed to rebuild this database, for checkpoints. */
    public synchronized DatabaseState snapshot() {
        List<DatabaseState.IslandState> states = new ArrayList<>();
        for (Island i : islands) {
            // Ordered copies: iteration order feeds choices, and must survive a checkpoint.
            states.add(new DatabaseState.IslandState(List.copyOf(i.members), new LinkedHashMap<>(i.grid),
                    new LinkedHashMap<>(i.cellOf), i.bestId, i.generation, List.copyOf(i.attempts)));
        }
        double[][] ranges = features.ranges();
        return new DatabaseState(List.copyOf(programs.values()), states, List.copyOf(archive), bestId,
                childrenSinceMigration, migrations, List.of(finite(ranges[0]), finite(ranges[1])));
    }

    /** A database rebuilt from a snapshot taken with the same settings. */
    public static ProgramDatabase restore(DatabaseSettings settings, DatabaseState state) {
        if (state.islands().size() != settings.numIslands()) {
            // A resume without the run's --config is the usual cause: name the setting, as bad input.
            throw new InvalidInputException("database.num_islands", settings.numIslands()
                    + " islands, but the run's checkpoint has " + state.islands().size() + " (resume with the run's "
                    + "--config)");
        }
        int dimensions = state.featureRanges().get(0).length;
        if (dimensions != settings.featureDimensions().size()) {
            // Copying the saved ranges failed with an index out of bounds for more dimensions, and fewer mixed
            // cells of two shapes in one grid.
            throw new InvalidInputException("database.feature_dimensions", settings.featureDimensions().size()
                    + " dimensions, but the run's checkpoint has " + dimensions + " (resume with the run's --config)");
        }
        ProgramDatabase db = new ProgramDatabase(settings);
        for (Program p : state.programs()) {
            db.programs.put(p.id(), p);
        }
        for (int i = 0; i < state.islands().size(); i++) {
            DatabaseState.IslandState s = state.islands().get(i);
            Island island = db.islands.get(i);
            island.members.addAll(s.members());
            island.grid.putAll(s.grid());
            island.cellOf.putAll(s.cellOf());
            island.bestId = s.bestId();
            island.generation = s.generation();
            s.attempts().forEach(island.attempts::addLast);
        }
        // Every valid program that ever lived on an island, dropped ones included, as insert() recorded them:
        // rebuilding from the current members alone let migration bring back code an island had dropped.
        for (Program p : state.programs()) {
            if (p.valid()) {
                db.islands.get(p.island()).codes.add(hash(p.code()));
            }
        }
        db.archive.addAll(state.archive());
        db.bestId = state.bestId();
        db.childrenSinceMigration = state.childrenSinceMigration();
        db.migrations = state.migrations();
        db.features.restore(new double[][] {infinite(state.featureRanges().get(0), Double.POSITIVE_INFINITY),
                infinite(state.featureRanges().get(1), Double.NEGATIVE_INFINITY)});
        return db;
    }

    /** JSON has no infinities: unset ranges are saved as NaN. */
    private static double[] finite(double[] v) {
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = Double.isInfinite(out[i]) ? Double.NaN : out[i];
        }
        return out;
    }

    private static double[] infinite(double[] v, double unset) {
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = Double.isNaN(out[i]) ? unset : out[i];
        }
        return out;
    }

    static String hash(String code) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(code.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
