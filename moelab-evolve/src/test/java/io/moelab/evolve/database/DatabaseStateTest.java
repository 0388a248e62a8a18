package io.moelab.evolve.database;

import static io.moelab.evolve.database.Fixtures.child;
import static io.moelab.evolve.database.Fixtures.failed;
import static io.moelab.evolve.database.Fixtures.fromJson;
import static io.moelab.evolve.database.Fixtures.initial;
import static io.moelab.evolve.database.Fixtures.json;
import static io.moelab.evolve.database.Fixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Snapshots as checkpoints store them: JSON text written and read by Jackson. */
class DatabaseStateTest {

    @Test
    void attemptsWithNonFiniteFitnessSurviveJson() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 20, 5, 10, 0.1, 0.2, 0.5));
        db.seed(initial(0.5));
        db.add(failed(1, 0));
        db.add(child(2, 1, "c2", Map.of("score", 0.7, "odd", Double.POSITIVE_INFINITY)));
        List<Attempt> attempts = List.of(
                new Attempt(1, "0", "1", Attempt.Outcome.FAILED, 0.5, Double.NaN, "boom\nline 2"),
                new Attempt(2, "0", null, Attempt.Outcome.NO_EDIT, Double.NEGATIVE_INFINITY, Double.NaN, null),
                new Attempt(3, "0", "3", Attempt.Outcome.IMPROVED, Double.NEGATIVE_INFINITY,
                        Double.POSITIVE_INFINITY, ""),
                new Attempt(4, "0", "4", Attempt.Outcome.REGRESSED, 0.5, -0.0, "x", "Hedge by 10%."));
        attempts.forEach(a -> db.recordAttempt(0, a));
        DatabaseState state = db.snapshot();
        String text = json(state);
        DatabaseState back = fromJson(text);

        assertThat(back.islands().get(0).attempts()).containsExactlyElementsOf(attempts.reversed());
        assertThat(back.programs()).containsExactlyElementsOf(state.programs());
        assertThat(back.programs().get(3).metrics().get("odd")).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(back.archive()).isEqualTo(state.archive());
        assertThat(back.bestId()).isEqualTo("2");
        assertThat(back.islands().get(1).grid()).isEqualTo(state.islands().get(1).grid());
        assertThat(json(back)).isEqualTo(text);

        ProgramDatabase restored = ProgramDatabase.restore(db.settings(), back);
        assertThat(restored.sample(0, new SeededRandom(4)).attempts()).containsExactlyElementsOf(attempts.reversed());
        assertThat(restored.sample(0, new SeededRandom(4))).isEqualTo(db.sample(0, new SeededRandom(4)));
        assertThat(restored.best()).isEqualTo(db.best());
        assertThat(restored.programs()).isEqualTo(db.programs());
    }

    /** A checkpoint written before attempts recorded their changes resumes, its attempts describing none. */
    @Test
    void attemptsOfACheckpointWithoutChangesReadAsHavingNone() {
        ProgramDatabase db = new ProgramDatabase(settings(1, 20, 5, 10, 0.1, 0.2, 0.5));
        db.seed(initial(0.5));
        db.recordAttempt(0, new Attempt(1, "0", null, Attempt.Outcome.NO_EDIT, 0.5, Double.NaN, "x", "An idea."));
        tools.jackson.databind.node.ObjectNode tree = (tools.jackson.databind.node.ObjectNode)
                Fixtures.JSON.readTree(json(db.snapshot()));
        tools.jackson.databind.node.ObjectNode attempt = (tools.jackson.databind.node.ObjectNode)
                tree.get("islands").get(0).get("attempts").get(0);
        assertThat(attempt.remove("changes").asString()).isEqualTo("An idea.");
        DatabaseState old = fromJson(Fixtures.JSON.writeValueAsString(tree));
        assertThat(old.islands().get(0).attempts()).containsExactly(
                new Attempt(1, "0", null, Attempt.Outcome.NO_EDIT, 0.5, Double.NaN, "x", null));
    }

    @Test
    void emptyDatabaseRoundTripsWithUnsetFeatureRanges() {
        DatabaseSettings s = new DatabaseSettings(2, 20, 5, 10, 0.1, 0.2, 0.5, List.of("complexity", "x"), 3,
                "score", List.of(), 3, 3);
        ProgramDatabase fresh = new ProgramDatabase(s);
        DatabaseState empty = fresh.snapshot();
        assertThat(empty.featureRanges()).hasSize(2);
        assertThat(empty.featureRanges().get(0)).containsOnly(Double.NaN);
        ProgramDatabase restored = ProgramDatabase.restore(s, fromJson(json(empty)));
        // Identical behaviour from there: the first program must not land in a cell skewed by a bogus range.
        for (ProgramDatabase db : List.of(fresh, restored)) {
            db.seed(new Program("0", "abc", null, 0, 0, 0, Map.of("score", 0.1, "x", 5.0), null, "", null));
            db.add(child(1, 0, "abcdef", Map.of("score", 0.2, "x", -5.0)));
            db.add(child(2, 1, "a", Map.of("score", 0.3, "x", 50.0)));
        }
        assertThat(json(restored.snapshot())).isEqualTo(json(fresh.snapshot()));
        assertThat(restored.grid(0)).isEqualTo(Map.of("0,0", "0", "2,0", "1"));
    }

    /**
     * A checkpoint whose ids do not line up (a program's id edited, an island's member or cell naming a program the
     * file lacks, a program on an island the run does not have) was read as a database; the first iteration after
     * the resume failed with a NullPointerException. Each is refused as the file is read, naming the reference.
     */
    @Test
    void aStateWhoseIdsNameNoProgramIsRefused() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 20, 5, 10, 0.1, 0.2, 0.5));
        db.seed(initial(0.5));
        db.add(child(1, 1, 0.7));
        String text = json(db.snapshot());
        assertThat(fromJson(text).programs()).hasSize(3);
        // The program "1" renamed: island 1 still lists it as a member, its cell, its best and the archive's.
        assertThatThrownBy(() -> fromJson(text.replace("\"id\":\"1\"", "\"id\":\"9\"")))
                .hasRootCauseInstanceOf(IllegalArgumentException.class)
                .rootCause().hasMessage("island 1: member '1' is not among the programs");
        assertThatThrownBy(() -> fromJson(text.replace("\"bestId\":\"1\"", "\"bestId\":\"ghost\"")))
                .rootCause().hasMessageContaining("'ghost' is not among the programs");
        assertThatThrownBy(() -> fromJson(text.replace("\"island\":1", "\"island\":2")))
                .rootCause().hasMessage("program '0>1' is on island 2, but the checkpoint has 2 islands");
        assertThatThrownBy(() -> fromJson(text.replace("\"archive\":[", "\"archive\":[\"x\",")))
                .rootCause().hasMessage("archive: 'x' is not among the programs");
        // Restoring copied the maxima with the minima's length: an ArrayIndexOutOfBoundsException.
        assertThatThrownBy(() -> fromJson(text.replace("\"featureRanges\":[[", "\"featureRanges\":[[1.0,")))
                .rootCause().hasMessage("featureRanges: minima for 2 dimensions but maxima for 1");
    }

    /**
     * A state with no islands is no database (every one has at least one): restoring it blamed the settings
     * ("database.num_islands: 5 islands, but the run's checkpoint has 0") for what is a corrupt file.
     */
    @Test
    void aStateWithoutIslandsIsRefused() {
        assertThatThrownBy(() -> fromJson("{\"programs\":[],\"islands\":[],\"archive\":[],"
                + "\"featureRanges\":[[1,2],[3,4]]}"))
                .rootCause().isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no islands: a database has at least one");
    }

    @Test
    void restoreRejectsADifferentIslandCount() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 20, 5, 10, 0.1, 0.2, 0.5));
        db.seed(initial(0.5));
        DatabaseState state = db.snapshot();
        assertThatThrownBy(() -> ProgramDatabase.restore(settings(3, 20, 5, 10, 0.1, 0.2, 0.5), state))
                .isInstanceOf(io.moelab.eplb.InvalidInputException.class)
                .hasMessage("database.num_islands: 3 islands, but the run's checkpoint has 2 (resume with the run's "
                        + "--config)");
    }

    @Test
    void restoreRejectsADifferentNumberOfFeatureDimensions() {
        DatabaseSettings two = new DatabaseSettings(1, 20, 5, 10, 0.1, 0.2, 0.5, List.of("complexity", "diversity"),
                4, "score", List.of(), 3, 3);
        ProgramDatabase db = new ProgramDatabase(two);
        db.seed(initial(0.5));
        DatabaseState state = fromJson(json(db.snapshot()));
        for (List<String> dims : List.of(List.of("complexity", "diversity", "score"), List.of("score"))) {
            DatabaseSettings other = new DatabaseSettings(1, 20, 5, 10, 0.1, 0.2, 0.5, dims, 4, "score", List.of(),
                    3, 3);
            assertThatThrownBy(() -> ProgramDatabase.restore(other, state))
                    .isInstanceOf(io.moelab.eplb.InvalidInputException.class)
                    .hasMessage("database.feature_dimensions: " + dims.size() + " dimensions, but the run's "
                            + "checkpoint has 2 (resume with the run's --config)");
        }
    }

    @Test
    void restoredDatabaseRemembersCodeDroppedFromAnIsland() {
        // Island 1 drops "1" (the worst, unprotected); island 0 later has the same code as its best. Migrating
        // it would bring back code island 1 had, which the original database refuses: so must the restored one.
        DatabaseSettings s = settings(2, 4, 1, 2, 0.0, 0.2, 0.5);
        ProgramDatabase db = new ProgramDatabase(s);
        db.seed(initial(0.5));
        db.add(child(1, 1, "dup", Map.of("score", 0.1)));
        db.add(child(2, 1, "b", Map.of("score", 0.2)));
        db.add(child(3, 1, "c", Map.of("score", 0.3)));
        assertThat(db.members(1)).doesNotContain("1");
        ProgramDatabase restored = ProgramDatabase.restore(s, fromJson(json(db.snapshot())));
        for (ProgramDatabase d : List.of(db, restored)) {
            d.add(child(4, 0, "dup", Map.of("score", 0.9))); // the fourth child: a migration
            assertThat(d.migrations()).isEqualTo(1);
            assertThat(d.get("4>1")).isEmpty();
        }
        assertThat(json(restored.snapshot())).isEqualTo(json(db.snapshot()));
    }

    @Test
    void everyReferenceOfAnIslandAndTheBestMustNameAProgram() {
        List<Program> programs = List.of(initial(0.5));
        List<double[]> ranges = List.of(new double[] {1}, new double[] {2});
        java.util.function.Function<DatabaseState.IslandState, DatabaseState> state = island ->
                new DatabaseState(programs, List.of(island), List.of(), "0", 0, 0, ranges);
        assertThatThrownBy(() -> state.apply(new DatabaseState.IslandState(List.of("0"), Map.of("0", "ghost"),
                Map.of(), "0", 0, List.of()))).hasMessage("island 0: grid cell 'ghost' is not among the programs");
        assertThatThrownBy(() -> state.apply(new DatabaseState.IslandState(List.of("0"), Map.of(),
                Map.of("ghost", "0"), "0", 0, List.of())))
                .hasMessage("island 0: cellOf 'ghost' is not among the programs");
        assertThatThrownBy(() -> state.apply(new DatabaseState.IslandState(List.of("0"), Map.of(), Map.of(), "ghost",
                0, List.of()))).hasMessage("island 0: bestId 'ghost' is not among the programs");
        DatabaseState.IslandState fine = new DatabaseState.IslandState(List.of("0"), Map.of("0", "0"),
                Map.of("0", "0"), "0", 0, List.of());
        assertThat(state.apply(fine).islands()).containsExactly(fine);
        assertThatThrownBy(() -> new DatabaseState(programs, List.of(fine), List.of(), "ghost", 0, 0, ranges))
                .hasMessage("bestId 'ghost' is not among the programs");
    }

    @Test
    void aStateOrIslandWithoutAPartNamesIt() {
        List<double[]> ranges = List.of(new double[0], new double[0]);
        DatabaseState.IslandState island = new DatabaseState.IslandState(List.of(), Map.of(), Map.of(), null, 0,
                List.of());
        assertThatThrownBy(() -> new DatabaseState(null, List.of(island), List.of(), null, 0, 0, ranges))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no programs");
        assertThatThrownBy(() -> new DatabaseState(List.of(), null, List.of(), null, 0, 0, ranges))
                .hasMessage("no islands");
        assertThatThrownBy(() -> new DatabaseState(List.of(), List.of(island), null, null, 0, 0, ranges))
                .hasMessage("no archive");
        assertThatThrownBy(() -> new DatabaseState(List.of(), List.of(island), List.of(), null, 0, 0, null))
                .hasMessage("no featureRanges");
        assertThatThrownBy(() -> new DatabaseState.IslandState(null, Map.of(), Map.of(), null, 0, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no members");
        assertThatThrownBy(() -> new DatabaseState.IslandState(List.of(), null, Map.of(), null, 0, List.of()))
                .hasMessage("no grid");
        assertThatThrownBy(() -> new DatabaseState.IslandState(List.of(), Map.of(), null, null, 0, List.of()))
                .hasMessage("no cellOf");
        assertThatThrownBy(() -> new DatabaseState.IslandState(List.of(), Map.of(), Map.of(), null, 0, null))
                .hasMessage("no attempts");
    }
}
