package io.moelab.evolve.database;

import static io.moelab.evolve.database.Fixtures.child;
import static io.moelab.evolve.database.Fixtures.failed;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pareto dominance worked out by hand. */
class FitnessTest {
    private static final Fitness PARETO = new Fitness(new DatabaseSettings(1, 10, 5, 5, 0.1, 0.2, 0.5, List.of(), 1,
            "score", List.of("a", "-b"), 3, 3));

    @Test
    void aFailedProgramDominatesNothingAndEveryValidOneDominatesIt() {
        Program valid = child(1, 0, "c", Map.of("a", 0.0, "b", 9.0));
        Program broken = failed(2, 0);
        assertThat(PARETO.dominates(broken, valid)).isFalse();
        assertThat(PARETO.dominates(valid, broken)).isTrue();
        assertThat(PARETO.dominates(broken, failed(3, 0))).isFalse();
        assertThat(PARETO.better(valid, broken)).isTrue();
    }

    @Test
    void dominanceIsNoWorseInEveryObjectiveAndBetterInOne() {
        Program p = child(1, 0, "c", Map.of("a", 1.0, "b", 1.0));
        assertThat(PARETO.dominates(child(2, 0, "c", Map.of("a", 1.0, "b", 0.5)), p)).isTrue();
        assertThat(PARETO.dominates(child(2, 0, "c", Map.of("a", 1.0, "b", 1.0)), p)).isFalse();
        assertThat(PARETO.dominates(child(2, 0, "c", Map.of("a", 2.0, "b", 1.5)), p)).isFalse();
        // A missing objective is its worst value.
        assertThat(PARETO.dominates(p, child(2, 0, "c", Map.of("a", 1.0)))).isTrue();
    }
}
