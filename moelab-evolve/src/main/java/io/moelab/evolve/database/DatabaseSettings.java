package io.moelab.evolve.database;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import java.util.List;

/**
 * How the program database keeps and chooses programs. Names follow OpenEvolve's {@code database} section
 * where the meaning is the same.
 *
 * @param numIslands         islands, each evolving on its own between migrations
 * @param populationSize     programs kept over all islands: each island keeps {@code populationSize / numIslands}
 *                           (rounded down), dropping its worst that are not a grid cell's elite, an archive member
 *                           or its best
 * @param archiveSize        programs in the elite archive (top by fitness, the older kept on a tie; the front in
 *                           Pareto mode)
 * @param migrationInterval  generations between ring migrations (a generation is one child per island)
 * @param migrationRate      fraction of an island's programs, best first, copied to both neighbouring islands in
 *                           the ring: rounded down, but at least one, so 0 still moves each island's best; a
 *                           migrated copy among them stays (moving each program once); all as in OpenEvolve. One
 *                           island or a {@code migrationInterval} beyond the run means no migration
 * @param explorationRatio   probability that a parent is a random program of the island
 * @param exploitationRatio  probability that a parent comes from the archive (its members on the island)
 * @param featureDimensions  MAP-Elites dimensions: {@code complexity} (code length), {@code diversity}
 *                           (token-trigram distance to the island's elites), {@code score} (the fitness, as in
 *                           OpenEvolve) or any other metric name
 * @param featureBins        bins per dimension
 * @param fitnessMetric      the metric that is the fitness (not blank); when a program lacks it, the mean of its
 *                           metrics that are not feature dimensions (of all when every one is), as in OpenEvolve
 * @param paretoMetrics      empty for one scalar fitness; else keep the non-dominated front over these metrics
 *                           (a leading {@code -} minimizes)
 * @param numTopPrograms     best programs of the island shown in prompts
 * @param numInspirations    other programs shown in prompts: the island's best, grid neighbours, random ones
 */
public record DatabaseSettings(int numIslands, int populationSize, int archiveSize, int migrationInterval,
                               double migrationRate, double explorationRatio, double exploitationRatio,
                               List<String> featureDimensions, int featureBins, String fitnessMetric,
                               List<String> paretoMetrics, int numTopPrograms, int numInspirations) {

    /** Validates ranges and copies lists. */
    public DatabaseSettings {
        atLeast(numIslands, 1, "database.num_islands");
        atLeast(populationSize, numIslands, "database.population_size");
        atLeast(archiveSize, 1, "database.archive_size");
        atLeast(migrationInterval, 1, "database.migration_interval");
        atLeast(featureBins, 1, "database.feature_bins");
        // Read from the prompt section, as in OpenEvolve: named so ("database.num_inspirations" is no key at all).
        atLeast(numTopPrograms, 0, "prompt.num_top_programs");
        atLeast(numInspirations, 0, "prompt.num_diverse_programs");
        fraction(migrationRate, "database.migration_rate");
        fraction(explorationRatio, "database.exploration_ratio");
        fraction(exploitationRatio, "database.exploitation_ratio");
        if (explorationRatio + exploitationRatio > 1 + 1e-9) {
            throw new InvalidInputException("database.exploration_ratio", "plus exploitation_ratio must be at most 1, "
                    + "got " + Numbers.plain(explorationRatio + exploitationRatio));
        }
        // Checked when the configuration is read: a blank name was refused only after the initial program's evaluation,
        // and none (settings made in code) failed the run then with a NullPointerException.
        if (fitnessMetric == null || fitnessMetric.isBlank()) {
            throw new InvalidInputException("database.fitness_metric", "must name a metric, got "
                    + (fitnessMetric == null ? "none" : "'" + fitnessMetric + "'"));
        }
        requireNames("database.feature_dimensions", featureDimensions);
        requireNames("database.pareto_metrics", paretoMetrics);
        // A dimension twice left the grid its diagonal (bins cells, not bins squared); a metric twice, or both
        // maximized and minimized, let no program dominate another.
        requireDistinct("database.feature_dimensions", featureDimensions, "an axis of the grid");
        requireDistinct("database.pareto_metrics", paretoMetrics.stream()
                .map(m -> m.startsWith("-") ? m.substring(1) : m).toList(), "an objective (- minimizes it)");
        featureDimensions = List.copyOf(featureDimensions);
        paretoMetrics = List.copyOf(paretoMetrics);
    }

    /** Refuses no list, or a null entry: both failed later with an unnamed NullPointerException. */
    private static void requireNames(String name, List<String> values) {
        if (values == null) {
            throw new InvalidInputException(name, "must be a list (empty for none), got none");
        }
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) == null) {
                throw new InvalidInputException(name, "entry " + (i + 1) + " is null, not a name");
            }
        }
    }

    private static void requireDistinct(String name, List<String> values, String what) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String v : values) {
            if (!seen.add(v)) {
                throw new InvalidInputException(name, "lists " + v + " twice: each is " + what + " once");
            }
        }
    }

    /** OpenEvolve's defaults, scaled for runs of hundreds of iterations. */
    public static DatabaseSettings defaults() {
        return new DatabaseSettings(5, 1000, 100, 50, 0.1, 0.2, 0.7, List.of("complexity", "diversity"), 10,
                "combined_score", List.of(), 3, 3);
    }

    /** Whether programs are kept by Pareto dominance rather than one fitness. */
    public boolean pareto() {
        return !paretoMetrics.isEmpty();
    }

    private static void atLeast(int v, int min, String name) {
        if (v < min) {
            throw new InvalidInputException(name, "must be at least " + min + ", got " + v);
        }
    }

    private static void fraction(double v, String name) {
        if (!(v >= 0 && v <= 1)) {
            throw new InvalidInputException(name, "must be in [0, 1], got " + Numbers.plain(v));
        }
    }
}
