package io.moelab.evolve.database;

import static io.moelab.evolve.database.Fixtures.child;
import static io.moelab.evolve.database.Fixtures.failed;
import static io.moelab.evolve.database.Fixtures.initial;
import static io.moelab.evolve.database.Fixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.InvalidInputException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Hand-computed cases for the program database. */
class ProgramDatabaseTest {

    private static List<String> ids(List<Program> programs) {
        return programs.stream().map(Program::id).toList();
    }

    @Test
    void seedPutsTheInitialProgramOnEveryIsland() {
        ProgramDatabase db = new ProgramDatabase(settings(3, 30, 10, 5, 0.1, 0.2, 0.5));
        db.seed(initial(0.25));
        assertThat(ids(db.programs())).containsExactly("0", "0>1", "0>2");
        for (int i = 0; i < 3; i++) {
            String id = i == 0 ? "0" : "0>" + i;
            assertThat(db.members(i)).containsExactly(id);
            Program p = db.get(id).orElseThrow();
            assertThat(p.island()).isEqualTo(i);
            assertThat(p.code()).isEqualTo("code 0");
            assertThat(p.metrics()).containsEntry("score", 0.25);
            assertThat(p.migratedFrom()).isEqualTo(i == 0 ? null : "0");
            Sample s = db.sample(i, new SeededRandom(i));
            assertThat(s.parent().id()).isEqualTo(id);
            assertThat(s.topPrograms()).isEmpty();
            assertThat(s.inspirations()).isEmpty();
        }
        assertThat(db.migrations()).isZero();
        assertThat(db.best().orElseThrow().id()).isEqualTo("0");
        assertThat(db.islandCount()).isEqualTo(3);
    }

    @Test
    void sampleOfAnEmptyIslandFailsAndUnknownIslandsAreRejected() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 10, 5, 5, 0.1, 0.2, 0.5));
        assertThatThrownBy(() -> db.sample(0, new SeededRandom(1))).isInstanceOf(IllegalStateException.class);
        db.seed(initial(1));
        assertThatThrownBy(() -> db.add(child(1, 2, 0.5))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> db.add(child(1, -1, 0.5))).isInstanceOf(IllegalArgumentException.class);
        db.add(child(1, 1, 0.5));
        assertThatThrownBy(() -> db.add(child(1, 1, 0.7))).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * An unknown island given to sample, recordAttempt, members or grid failed with an IndexOutOfBoundsException,
     * where add and recordNoChild name it: each now does as add does.
     */
    @Test
    void everyMethodTakingAnIslandNamesAnUnknownOne() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 10, 5, 5, 0.1, 0.2, 0.5));
        db.seed(initial(1));
        Attempt attempt = new Attempt(1, "0", null, Attempt.Outcome.NO_EDIT, 1, Double.NaN, "no edit");
        for (int island : new int[] {2, -1}) {
            String message = "no island " + island + " (have 2)";
            assertThatThrownBy(() -> db.sample(island, new SeededRandom(1)))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(message);
            assertThatThrownBy(() -> db.recordAttempt(island, attempt))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(message);
            assertThatThrownBy(() -> db.members(island))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(message);
            assertThatThrownBy(() -> db.grid(island))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(message);
            assertThatThrownBy(() -> db.add(child(1, island, 0.5)))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(message);
            assertThatThrownBy(() -> db.recordNoChild(island))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(message);
        }
        assertThat(db.members(1)).containsExactly("0>1");
    }

    @Test
    void childLandsOnItsParentsIslandOnly() {
        ProgramDatabase db = new ProgramDatabase(settings(3, 30, 10, 100, 0.1, 0.2, 0.5));
        db.seed(initial(0.1));
        Sample s = db.sample(2, new SeededRandom(7));
        assertThat(s.island()).isEqualTo(2);
        assertThat(s.parent().island()).isEqualTo(2);
        db.add(new Program("1", "code 1", s.parent().id(), s.island(), 1, 1, Map.of("score", 0.9), null, "",
                null));
        assertThat(db.members(2)).containsExactly("0>2", "1");
        assertThat(db.members(0)).containsExactly("0");
        assertThat(db.members(1)).containsExactly("0>1");
        // Island 0 never sees the much better program of island 2.
        for (int k = 0; k < 50; k++) {
            Sample s0 = db.sample(0, SeededRandom.forIteration(3, k));
            assertThat(Stream.of(List.of(s0.parent()), s0.topPrograms(), s0.inspirations()).flatMap(List::stream))
                    .allSatisfy(p -> assertThat(p.island()).isZero());
        }
    }

    @Test
    void withTwoIslandsEachIslandsBestGoesOnceToTheOther() {
        // 2 islands, interval 2: a migration after 2 x 2 = 4 children. Both ring neighbours of an island are the
        // other island, which gets one copy (as in OpenEvolve, whose second copy finds the first's code there).
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 50, 2, 0.2, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.5));
        db.add(child(2, 0, 0.9));
        db.add(child(3, 1, 0.3));
        assertThat(db.migrations()).isZero();
        db.add(child(4, 1, 0.7));
        assertThat(db.migrations()).isEqualTo(1);
        // Island 0 holds 0, 1, 2: at least 1 program moves (floor(0.2 * 3) = 0), its best "2".
        // Island 1 holds 0>1, 3, 4: its best "4".
        assertThat(db.members(0)).containsExactly("0", "1", "2", "4>0");
        assertThat(db.members(1)).containsExactly("0>1", "3", "4", "2>1");
        Program copy = db.get("2>1").orElseThrow();
        assertThat(copy.island()).isEqualTo(1);
        assertThat(copy.migratedFrom()).isEqualTo("2");
        assertThat(copy.code()).isEqualTo("code 2");
        assertThat(copy.metrics()).isEqualTo(Map.of("score", 0.9));
        assertThat(db.get("4>0").orElseThrow().migratedFrom()).isEqualTo("4");
        // Migrants do not count as children: four more children before the next migration.
        db.add(child(5, 0, 0.2));
        db.add(child(6, 1, 0.2));
        db.add(child(7, 0, 0.2));
        assertThat(db.migrations()).isEqualTo(1);
        db.add(child(8, 1, 0.2));
        assertThat(db.migrations()).isEqualTo(2);
        // Six members each: floor(0.2 * 6) = 1. Island 1's best is now the migrant 2>1: going back to island 0
        // it would duplicate "2", so it stays. Island 0's best is 2 (0.9), which island 1 already has as 2>1.
        assertThat(db.get("2>0")).isEmpty();
        assertThat(ids(db.programs())).hasSize(12);
        assertThat(db.members(0)).containsExactly("0", "1", "2", "4>0", "5", "7");
        assertThat(db.members(1)).containsExactly("0>1", "3", "4", "2>1", "6", "8");
    }

    /**
     * As in OpenEvolve, each island's migrants go to both ring neighbours, the next island first, migrant by
     * migrant, island by island; a copy is named {@code ID>ISLAND} after the island it lands on, so the copies of
     * one program to its two neighbours differ.
     */
    @Test
    void migrationCopiesToBothNeighboursAndMovesTheRoundedDownRate() {
        // 3 islands, interval 1: a migration after 3 children; rate 0.67. Island 0 holds 0 (0.1), 1 (0.5),
        // 2 (0.6): floor(2.01) = 2 programs move, "2" then "1", each to island 1 then island 2. Island 1 holds
        // 0>1 (0.1), 3 (0.7): floor(1.34) = 1, "3" to island 2 then island 0. Island 2 holds 0>2 only: at least
        // one program, a copy, which stays.
        ProgramDatabase db = new ProgramDatabase(settings(3, 100, 50, 1, 0.67, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.5));
        db.add(child(2, 0, 0.6));
        db.add(child(3, 1, 0.7));
        assertThat(db.migrations()).isEqualTo(1);
        assertThat(ids(db.programs())).containsExactly("0", "0>1", "0>2", "1", "2", "3",
                "2>1", "2>2", "1>1", "1>2", "3>2", "3>0");
        assertThat(db.members(0)).containsExactly("0", "1", "2", "3>0");
        assertThat(db.members(1)).containsExactly("0>1", "3", "2>1", "1>1");
        assertThat(db.members(2)).containsExactly("0>2", "2>2", "1>2", "3>2");
        // The copy on the previous island: its original's code, metrics, parent, generation and iteration.
        assertThat(db.get("3>0")).contains(
                new Program("3>0", "code 3", "0", 0, 1, 3, Map.of("score", 0.7), null, "", "3"));
    }

    /**
     * A migrated copy never migrates again, as in OpenEvolve (which skips programs marked as migrants): else island
     * 0's best reached island 2, two steps round the ring, through island 1's copy, and every island filled with
     * copies of one program.
     */
    @Test
    void aMigratedCopyNeverMigratesAgain() {
        ProgramDatabase db = fourIslandsAfterOneMigration();
        secondMigrationMovesNothing(db);
    }

    /**
     * A checkpoint's copy is known as one by its {@code ID>ISLAND} id even where the file lacks
     * {@code migratedFrom}, so that a resumed run keeps the rule.
     */
    @Test
    void aCopyRestoredWithoutItsOriginStillNeverMigrates() {
        DatabaseSettings s = settings(4, 100, 50, 1, 0, 0.2, 0.5);
        String text = Fixtures.json(fourIslandsAfterOneMigration().snapshot())
                .replaceAll(",?\"migratedFrom\":(null|\"[^\"]*\")", "");
        assertThat(text).doesNotContain("migratedFrom").contains("\"1>1\"");
        ProgramDatabase db = ProgramDatabase.restore(s, Fixtures.fromJson(text));
        assertThat(db.get("1>1").orElseThrow().migratedFrom()).isNull();
        secondMigrationMovesNothing(db);
    }

    /** Four islands, interval 1, rate 0 (one program an island), after the first migration. */
    private static ProgramDatabase fourIslandsAfterOneMigration() {
        ProgramDatabase db = new ProgramDatabase(settings(4, 100, 50, 1, 0, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.9));
        db.add(child(2, 1, 0.2));
        db.add(child(3, 2, 0.3));
        db.add(child(4, 3, 0.4));
        assertThat(db.migrations()).isEqualTo(1);
        // Each island's best to the next island, then the previous one: 1>1, 1>3, 2>2, 2>0, 3>3, 3>1, 4>0, 4>2.
        assertThat(db.members(0)).containsExactly("0", "1", "2>0", "4>0");
        assertThat(db.members(1)).containsExactly("0>1", "2", "1>1", "3>1");
        assertThat(db.members(2)).containsExactly("0>2", "3", "2>2", "4>2");
        assertThat(db.members(3)).containsExactly("0>3", "4", "1>3", "3>3");
        return db;
    }

    /**
     * The second migration of {@link #fourIslandsAfterOneMigration()}: island 0's best, 1, is on both its
     * neighbours already; the best of islands 1, 2 and 3 (1>1, 4>2 and 1>3) are copies, which stay, and the next
     * ones (6 on island 1, 3 on island 2) do not take their place (OpenEvolve skips copies among the top ones, it
     * does not pick more). Nothing moves, so 1 never reaches island 2, opposite its own.
     */
    private static void secondMigrationMovesNothing(ProgramDatabase db) {
        int before = db.programs().size();
        db.add(child(5, 0, 0.05));
        db.add(child(6, 1, 0.5));
        db.add(child(7, 2, 0.05));
        db.add(child(8, 3, 0.05));
        assertThat(db.migrations()).isEqualTo(2);
        assertThat(db.programs()).hasSize(before + 4);
        assertThat(db.members(2)).containsExactly("0>2", "3", "2>2", "4>2", "7");
        assertThat(db.get("1>2")).isEmpty();
    }

    /**
     * A checkpoint written when migration went one way round the ring (each island's best to the next island
     * only; the file is what that code saved for {@link #fourIslandsAfterOneMigration()}'s children) resumes, and
     * its next migration follows the two-way rule: each best already copied to the next island now reaches the
     * previous one too, under a new id.
     */
    @Test
    void aCheckpointFromTheOneWayRingResumesUnderTheTwoWayRule() throws Exception {
        String text;
        try (var in = ProgramDatabaseTest.class.getResourceAsStream("one-way-ring-database.json")) {
            text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        DatabaseSettings s = settings(4, 100, 50, 1, 0, 0.2, 0.5);
        // Files from before migratedFrom was saved too: their copies are known by their ids.
        String older = text.replaceAll(",?\\s*\"migratedFrom\":\\s*(null|\"[^\"]*\")", "");
        assertThat(older).doesNotContain("migratedFrom");
        for (String file : List.of(text, older)) {
            ProgramDatabase db = ProgramDatabase.restore(s, Fixtures.fromJson(file));
            assertThat(db.members(0)).containsExactly("0", "1", "4>0");
            assertThat(db.members(1)).containsExactly("0>1", "2", "1>1");
            assertThat(db.members(2)).containsExactly("0>2", "3", "2>2");
            assertThat(db.members(3)).containsExactly("0>3", "4", "3>3");
            db.add(child(5, 0, 0.05));
            db.add(child(6, 1, 0.5));
            db.add(child(7, 2, 0.05));
            db.add(child(8, 3, 0.05));
            assertThat(db.migrations()).isEqualTo(2);
            // Island 0's best, 1, is on island 1 already (1>1): it goes to island 3. Island 1's best is the copy
            // 1>1: nothing moves. Island 2's best, 3 (0.3), is on island 3 (3>3): to island 1. Island 3's best,
            // 4 (0.4), is on island 0 (4>0): to island 2.
            assertThat(db.programs()).hasSize(19);
            assertThat(ids(db.programs()).subList(16, 19)).containsExactly("1>3", "3>1", "4>2");
            assertThat(db.members(0)).containsExactly("0", "1", "4>0", "5");
            assertThat(db.members(1)).containsExactly("0>1", "2", "1>1", "6", "3>1");
            assertThat(db.members(2)).containsExactly("0>2", "3", "2>2", "7", "4>2");
            assertThat(db.members(3)).containsExactly("0>3", "4", "3>3", "8", "1>3");
            assertThat(db.get("3>1").orElseThrow().migratedFrom()).isEqualTo("3");
        }
    }

    @Test
    void migrationSkipsCodeTheTargetAlreadyHolds() {
        // Rate 1: everything moves, except code the target already has.
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 50, 1, 1.0, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, "shared", Map.of("score", 0.5)));
        db.add(child(2, 1, "shared", Map.of("score", 0.6)));
        assertThat(db.migrations()).isEqualTo(1);
        // Island 0 (0, 1) to island 1 (0>1, 2): "0" and "1" have code island 1 holds. The reverse likewise.
        assertThat(ids(db.programs())).containsExactly("0", "0>1", "1", "2");
        assertThat(db.members(0)).containsExactly("0", "1");
        assertThat(db.members(1)).containsExactly("0>1", "2");
    }

    @Test
    void migrationRateTakesTheBestFractionOfTheIsland() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 50, 5, 0.5, 0.2, 0.5));
        db.seed(initial(0.1));
        // 9 children on island 0 (10 members there) and 1 on island 1: floor(0.5 * 10) = 5 move to island 1.
        double[] scores = {0.3, 0.8, 0.2, 0.6, 0.9, 0.4, 0.05, 0.7, 0.5};
        for (int i = 0; i < scores.length; i++) {
            db.add(child(i + 1, 0, scores[i]));
        }
        db.add(child(10, 1, 0.01));
        assertThat(db.migrations()).isEqualTo(1);
        assertThat(db.members(1)).containsExactly("0>1", "10", "5>1", "2>1", "8>1", "4>1", "9>1");
        // Island 1 had 2 members: floor(0.5 * 2) = 1, its best 0>1, whose code island 0 has already.
        assertThat(db.members(0)).hasSize(10).noneMatch(id -> id.contains(">"));
    }

    /**
     * Every island's migrants are chosen before any copy lands, but the copies that land can make the cap drop
     * one of them from its island before its island's turn. Such a program no longer lives there and does not
     * move: OpenEvolve, which chooses an island's migrants at its turn, finds it gone. Its copies moved, and one
     * lived on a neighbour although its own island had dropped it.
     */
    @Test
    void aMigrantTheCapDropsBeforeItsIslandsTurnDoesNotMove() {
        // 4 islands of at most 12 / 4 = 3, interval 1 (a migration after 4 children), rate 1 (every program
        // is chosen), archive 1, one grid cell: an island's best is also its cell's elite.
        ProgramDatabase db = new ProgramDatabase(settings(4, 12, 1, 1, 1.0, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.9));
        db.add(child(2, 1, 0.5));
        db.add(child(3, 1, 0.4));
        db.add(child(4, 0, 0.8));
        assertThat(db.migrations()).isEqualTo(1);
        // Chosen: island 0's 1, 4 (0 is on every island already); island 1's 2, 3; islands 2 and 3 hold a copy.
        // Island 0's turn: 1>1 lands on island 1, which drops 0>1; 4>1 lands, and island 1 (2, 3, 1>1, 4>1)
        // drops its worst unprotected program, 3 (0.4). Island 1's turn: 2 goes to islands 2 and 0 (which drops
        // 0); 3 lives on no island any more and stays where it is, in the history.
        assertThat(db.members(1)).containsExactly("2", "1>1", "4>1");
        assertThat(db.members(2)).containsExactly("0>2", "2>2");
        assertThat(db.members(0)).containsExactly("1", "4", "2>0");
        assertThat(db.members(3)).containsExactly("0>3", "1>3", "4>3");
        assertThat(ids(db.programs())).containsExactly("0", "0>1", "0>2", "0>3", "1", "2", "3", "4",
                "1>1", "1>3", "4>1", "4>3", "2>2", "2>0");
    }

    @Test
    void failedProgramsAreKeptButNeverChosen() {
        ProgramDatabase db = new ProgramDatabase(settings(1, 100, 50, 5, 0.1, 0.5, 0.3));
        db.seed(initial(0.1));
        db.add(failed(1, 0));
        db.add(child(2, 0, 0.2));
        db.add(failed(3, 0));
        assertThat(ids(db.programs())).containsExactly("0", "1", "2", "3");
        assertThat(db.get("1").orElseThrow().error()).isEqualTo("compile error");
        assertThat(db.members(0)).containsExactly("0", "2");
        assertThat(db.archive()).containsExactlyInAnyOrder("0", "2");
        assertThat(db.fitness(db.get("1").orElseThrow())).isEqualTo(Double.NEGATIVE_INFINITY);
        for (int k = 0; k < 200; k++) {
            Sample s = db.sample(0, SeededRandom.forIteration(1, k));
            assertThat(Stream.of(List.of(s.parent()), s.topPrograms(), s.inspirations()).flatMap(List::stream))
                    .allSatisfy(p -> assertThat(p.valid()).isTrue());
        }
    }

    @Test
    void bestIsTheMaximumFitnessOverAllIslands() {
        ProgramDatabase db = new ProgramDatabase(settings(3, 100, 50, 100, 0.1, 0.2, 0.5));
        assertThat(db.best()).isEmpty();
        db.seed(initial(0.1));
        db.add(child(1, 1, 0.4));
        db.add(child(2, 2, 0.8));
        db.add(child(3, 0, 0.6));
        db.add(failed(4, 0));
        db.add(child(5, 2, 0.8)); // a tie does not replace the incumbent
        assertThat(db.best().orElseThrow().id()).isEqualTo("2");
        db.add(child(6, 0, 0.81));
        assertThat(db.best().orElseThrow().id()).isEqualTo("6");
    }

    @Test
    void fitnessFallsBackToTheMeanOfFiniteMetrics() {
        ProgramDatabase db = new ProgramDatabase(settings(1, 10, 5, 5, 0.1, 0.2, 0.5));
        assertThat(db.fitness(child(1, 0, "c", Map.of("score", 0.3, "a", 100.0)))).isEqualTo(0.3);
        assertThat(db.fitness(child(1, 0, "c", Map.of("a", 1.0, "b", 4.0)))).isEqualTo(2.5);
        assertThat(db.fitness(child(1, 0, "c", Map.of("a", 1.0, "b", 3.0, "c", Double.POSITIVE_INFINITY,
                "d", Double.NaN)))).isEqualTo(2.0);
        assertThat(db.fitness(child(1, 0, "c", Map.of("score", Double.NaN, "a", -1.0)))).isEqualTo(-1.0);
        assertThat(db.fitness(child(1, 0, "c", Map.of()))).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(db.fitness(failed(1, 0))).isEqualTo(Double.NEGATIVE_INFINITY);
        // Finite metrics whose sum is past a double's range still have a finite mean (it was +-infinity: an
        // infinitely fit program, whose fitness the trace wrote as null and which no grid's score axis could place).
        assertThat(db.fitness(child(1, 0, "c", Map.of("a", 1e308, "b", 1e308)))).isEqualTo(1e308);
        assertThat(db.fitness(child(1, 0, "c", Map.of("a", -Double.MAX_VALUE, "b", -Double.MAX_VALUE,
                "c", -Double.MAX_VALUE)))).isEqualTo(-Double.MAX_VALUE);
        assertThat(db.fitness(child(1, 0, "c", Map.of("a", Double.MAX_VALUE, "b", Double.MAX_VALUE,
                "c", -Double.MAX_VALUE)))).isEqualTo(Double.MAX_VALUE / 3);

        // The fallback also drives the choice of the best program.
        db.seed(new Program("0", "x", null, 0, 0, 0, Map.of("a", 1.0, "b", 2.0), null, "", null));
        db.add(child(1, 0, "y", Map.of("a", 0.0, "b", 4.0)));
        db.add(child(2, 0, "z", Map.of("a", 1.0)));
        assertThat(db.best().orElseThrow().id()).isEqualTo("1");
    }

    /**
     * A metric that is a grid dimension is an axis of diversity, not an objective: the mean that stands in for a
     * missing fitness metric leaves it out, as OpenEvolve's does (it counted, so a task reporting memory_kb = 5000 as
     * a dimension beside accuracy = 0.9 had fitness 2500.45 and evolved toward more memory). Only when every metric is
     * a dimension does the mean take them all.
     */
    @Test
    void theFallbackMeanLeavesOutMetricsThatAreGridDimensions() {
        ProgramDatabase db = new ProgramDatabase(new DatabaseSettings(1, 10, 5, 5, 0.1, 0.2, 0.5,
                List.of("complexity", "memory_kb"), 2, "combined_score", List.of(), 3, 3));
        assertThat(db.fitness(child(1, 0, "c", Map.of("accuracy", 0.9, "memory_kb", 5000.0)))).isEqualTo(0.9);
        assertThat(db.fitness(child(1, 0, "c", Map.of("accuracy", 0.5, "loss", 0.25, "memory_kb", 5000.0))))
                .isEqualTo(0.375);
        assertThat(db.fitness(child(1, 0, "c", Map.of("memory_kb", 5000.0)))).isEqualTo(5000.0);
        // The fitness metric itself, when reported, is the fitness whatever the dimensions.
        assertThat(db.fitness(child(1, 0, "c", Map.of("combined_score", 2.0, "memory_kb", 5000.0)))).isEqualTo(2.0);
        // And it decides the best: the smaller program is not the better one for using more memory.
        db.seed(new Program("0", "x", null, 0, 0, 0, Map.of("accuracy", 0.9, "memory_kb", 10.0), null, "", null));
        db.add(child(1, 0, "y", Map.of("accuracy", 0.5, "memory_kb", 9000.0)));
        assertThat(db.best().orElseThrow().id()).isEqualTo("0");
    }

    @Test
    void mapElitesKeepsOneEliteACellReplacedOnlyByABetterProgram() {
        // One metric dimension "x" in two bins. The seed (x = 0) fixes the low end; x = 10 the high end.
        DatabaseSettings s = new DatabaseSettings(1, 100, 50, 100, 0.1, 0.2, 0.5, List.of("x"), 2, "score",
                List.of(), 3, 3);
        ProgramDatabase db = new ProgramDatabase(s);
        db.seed(new Program("0", "c0", null, 0, 0, 0, Map.of("score", 0.1, "x", 0.0), null, "", null));
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "0"));
        db.add(child(1, 0, "c1", Map.of("score", 0.5, "x", 10.0)));
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "0", "1", "1"));
        db.add(child(2, 0, "c2", Map.of("score", 0.3, "x", 2.0))); // cell 0, better than 0
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2", "1", "1"));
        db.add(child(3, 0, "c3", Map.of("score", 0.2, "x", 3.0))); // cell 0, worse than 2
        db.add(child(4, 0, "c4", Map.of("score", 0.3, "x", 4.0))); // cell 0, equal to 2: no replacement
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2", "1", "1"));
        db.add(child(5, 0, "c5", Map.of("score", 0.9, "x", 8.0))); // cell 1, better than 1
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2", "1", "5"));
        db.add(child(6, 0, "c6", Map.of("score", 0.8, "x", 10.0))); // cell 1, worse
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2", "1", "5"));
        assertThat(db.members(0)).containsExactly("0", "1", "2", "3", "4", "5", "6");
        // A program that does not report x joins the island without a cell. Read as x = 0, it took cell 0 from 2
        // (its score is higher) and widened the range, which moved every later program's bin.
        db.add(child(7, 0, "c7", Map.of("score", 0.95)));
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2", "1", "5"));
        assertThat(db.members(0)).contains("7");
        db.add(child(8, 0, "c8", Map.of("score", 0.1, "x", 4.9))); // still bin 0 of [0, 10]
        db.add(child(9, 0, "c9", Map.of("score", 0.99, "x", 5.0))); // bin 1 of [0, 10]: the new elite there
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2", "1", "9"));
    }

    /**
     * OpenEvolve's built-in "score" dimension is the fitness (here combined_score, else the mean of the metrics),
     * scaled and binned like complexity; it was taken for a metric named score, so such grids had no cells.
     */
    @Test
    void scoreDimensionBinsTheFitness() {
        DatabaseSettings s = new DatabaseSettings(1, 100, 50, 100, 0.1, 0.2, 0.5, List.of("score", "complexity"), 2,
                "combined_score", List.of(), 3, 3);
        ProgramDatabase db = new ProgramDatabase(s);
        // Score [0.2, 0.2], length [2, 2]: no span yet, bin 0 of both.
        db.seed(new Program("0", "c0", null, 0, 0, 0, Map.of("combined_score", 0.2), null, "", null));
        // Score 1.0 and length 6 set the high ends: (1.0 - 0.2) / 0.8 * 2 = 2 and (6 - 2) / 4 * 2 = 2, clamped to 1.
        db.add(child(1, 0, "c1xxxx", Map.of("combined_score", 1.0)));
        // 0.3 / 0.8 * 2 = 0.75 and 1 / 4 * 2 = 0.5: cell 0,0, where it beats the seed.
        db.add(child(2, 0, "c2x", Map.of("combined_score", 0.5)));
        // No combined_score: the fitness is the mean, 0.8: 0.6 / 0.8 * 2 = 1.5 and 2 / 4 * 2 = 1.
        db.add(child(3, 0, "c3xx", Map.of("a", 0.6, "b", 1.0)));
        // A metric named score is not read: 0.7 gives 1.25 (score 0 would have been bin 0 of a range widened to 0).
        db.add(child(4, 0, "c4xxx", Map.of("combined_score", 0.7, "score", 0.0)));
        // No finite metric, so no fitness: no cell.
        db.add(child(5, 0, "c5", Map.of()));
        DatabaseState.IslandState island = db.snapshot().islands().get(0);
        assertThat(island.cellOf()).isEqualTo(Map.of("0", "0,0", "1", "1,1", "2", "0,0", "3", "1,1", "4", "1,1"));
        assertThat(db.grid(0)).isEqualTo(Map.of("0,0", "2", "1,1", "1"));
        assertThat(db.members(0)).contains("5");
        assertThat(db.snapshot().featureRanges()).containsExactly(new double[] {0.2, 2}, new double[] {1.0, 6});
    }

    @Test
    void populationCapDropsTheWorstUnprotectedProgram() {
        // One island of at most 3; one grid cell; archive of 1. Protected: the best (also archive and elite).
        ProgramDatabase db = new ProgramDatabase(settings(1, 3, 1, 100, 0.1, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.5));
        db.add(child(2, 0, 0.3));
        assertThat(db.members(0)).containsExactly("0", "1", "2");
        db.add(child(3, 0, 0.2));
        assertThat(db.members(0)).containsExactly("1", "2", "3");
        db.add(child(4, 0, 0.05)); // the newcomer is the worst
        assertThat(db.members(0)).containsExactly("1", "2", "3");
        db.add(child(5, 0, 0.4));
        assertThat(db.members(0)).containsExactly("1", "2", "5");
        // Dropped programs stay in the history.
        assertThat(ids(db.programs())).containsExactly("0", "1", "2", "3", "4", "5");
        assertThat(db.archive()).containsExactly("1");
    }

    /**
     * The cap is each island's: {@code population_size / num_islands}, rounded down. OpenEvolve caps the whole
     * database instead, which here would have kept all five programs (7 allowed).
     */
    @Test
    void theCapIsPerIslandThePopulationSizeOverTheIslandsRoundedDown() {
        // 2 islands, population 7: at most 3 each (not 4, not 7 between them); no migration.
        ProgramDatabase db = new ProgramDatabase(settings(2, 7, 1, 100, 0.1, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.5));
        db.add(child(2, 0, 0.4));
        assertThat(db.members(0)).containsExactly("0", "1", "2");
        db.add(child(3, 0, 0.3)); // 4 on island 0, 1 on island 1: island 0 drops its worst, 0
        assertThat(db.members(0)).containsExactly("1", "2", "3");
        assertThat(db.members(1)).containsExactly("0>1");
        db.add(child(4, 0, 0.3)); // ties with 3: the older of the two goes
        assertThat(db.members(0)).containsExactly("1", "2", "4");
    }

    /**
     * The diversity measure compares a newcomer with its island's best members: the token trigrams it caches are
     * those of members. A program the population cap drops is never a reference again, yet its trigrams were kept
     * for the rest of the run (tens of kilobytes for an EPLB-sized program, so gigabytes over a long run).
     */
    @Test
    void droppedProgramsLeaveTheDiversityCache() {
        ProgramDatabase db = new ProgramDatabase(new DatabaseSettings(1, 3, 1, 100, 0.1, 0.2, 0.5,
                List.of("diversity"), 1, "score", List.of(), 3, 3));
        db.seed(initial(0.1));
        for (int i = 1; i <= 40; i++) {
            db.add(child(i, 0, "int x = " + i + "; int y = x * " + i + ";", Map.of("score", i % 7 / 10.0)));
        }
        assertThat(db.members(0)).hasSize(3);
        assertThat(db.cachedDiversityPrograms()).isSubsetOf(db.members(0));
    }

    @Test
    void populationCapNeverDropsArchiveMembersOrTheBest() {
        // Cap 2 per island but an archive of 3: the archive members all stay, so the island holds 3.
        ProgramDatabase db = new ProgramDatabase(settings(1, 2, 3, 100, 0.1, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.9));
        db.add(child(2, 0, 0.8));
        assertThat(db.members(0)).containsExactlyInAnyOrder("0", "1", "2");
        db.add(child(3, 0, 0.7)); // 0 leaves the archive, then the island
        assertThat(db.archive()).containsExactlyInAnyOrder("1", "2", "3");
        assertThat(db.members(0)).containsExactlyInAnyOrder("1", "2", "3");
    }

    @Test
    void archiveHoldsTheTopProgramsByFitness() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 3, 100, 0.1, 0.2, 0.5));
        db.seed(initial(0.5));
        // The seed and its copy share the fitness 0.5.
        double[] scores = {0.2, 0.7, 0.6, 0.1, 0.9, 0.65};
        for (int i = 0; i < scores.length; i++) {
            db.add(child(i + 1, i % 2, scores[i]));
        }
        db.add(failed(7, 0));
        assertThat(db.archive()).containsExactlyInAnyOrder("2", "5", "6");
    }

    /**
     * A full archive takes a newcomer only if it beats the worst member, as a grid cell and the best do (and as
     * OpenEvolve's archive does). A tie displaced the oldest member: each migrant copy, as fit as its original, pushed
     * older programs out, and a run's best could leave the archive to its own copies.
     */
    @Test
    void aFullArchiveKeepsItsMembersAgainstANewcomerThatOnlyTies() {
        ProgramDatabase db = new ProgramDatabase(settings(1, 100, 2, 100, 0.1, 0.2, 0.5));
        db.seed(initial(1));
        db.add(child(1, 0, 5));
        db.add(child(2, 0, 5)); // beats 0, the worst
        assertThat(db.archive()).containsExactly("1", "2");
        db.add(child(3, 0, 5)); // ties with the worst
        assertThat(db.archive()).containsExactly("1", "2");
        db.add(child(4, 0, 6)); // beats them: the oldest of the equal worst leaves
        assertThat(db.archive()).containsExactly("2", "4");

        // Copies that migrate do not push their original out.
        ProgramDatabase ring = new ProgramDatabase(settings(2, 100, 2, 1, 0.1, 0.2, 0.5));
        ring.seed(initial(1));
        ring.add(child(1, 1, 5));
        ring.add(child(2, 0, 5)); // a migration follows: 2 goes to island 1, 1 to island 0
        assertThat(ring.migrations()).isEqualTo(1);
        assertThat(ring.archive()).containsExactly("1", "2");
    }

    @Test
    void paretoArchiveKeepsTheNonDominatedFront() {
        DatabaseSettings s = new DatabaseSettings(1, 100, 50, 100, 0.1, 0.2, 0.5, List.of("complexity"), 1,
                "score", List.of("a", "-b"), 3, 3);
        ProgramDatabase db = new ProgramDatabase(s);
        db.seed(new Program("0", "c0", null, 0, 0, 0, Map.of("a", 1.0, "b", 5.0), null, "", null));
        db.add(child(1, 0, "c1", Map.of("a", 2.0, "b", 5.0))); // dominates 0 (a higher, b equal)
        assertThat(db.archive()).containsExactly("1");
        db.add(child(2, 0, "c2", Map.of("a", 1.0, "b", 1.0))); // trade-off: lower a, lower b
        db.add(child(3, 0, "c3", Map.of("a", 3.0, "b", 9.0))); // trade-off
        assertThat(db.archive()).containsExactlyInAnyOrder("1", "2", "3");
        db.add(child(4, 0, "c4", Map.of("a", 1.5, "b", 6.0))); // dominated by 1
        db.add(child(5, 0, "c5", Map.of("a", 2.0, "b", 5.0))); // same scores as 1: the first stays
        db.add(child(6, 0, "c6", Map.of("a", 5.0))); // b missing: the worst b; not dominated (best a)
        assertThat(db.archive()).containsExactlyInAnyOrder("1", "2", "3", "6");
        db.add(child(7, 0, "c7", Map.of("a", 3.0, "b", 1.0))); // dominates 1 and 2 and 3
        assertThat(db.archive()).containsExactlyInAnyOrder("6", "7");
    }

    /**
     * A front larger than archive_size loses its oldest member; a program that member dominates must still stay out
     * (only the archive was compared, so it came in, and the archive held a dominated program).
     */
    @Test
    void anOverfullFrontNeverAdmitsADominatedProgram() {
        DatabaseSettings s = new DatabaseSettings(1, 100, 2, 100, 0.1, 0.2, 0.5, List.of("complexity"), 1,
                "score", List.of("x", "y"), 3, 3);
        ProgramDatabase db = new ProgramDatabase(s);
        db.seed(new Program("0", "c0", null, 0, 0, 0, Map.of("x", 0.0, "y", 0.0), null, "", null));
        db.add(child(1, 0, "c1", Map.of("x", 1.0, "y", 5.0)));
        db.add(child(2, 0, "c2", Map.of("x", 5.0, "y", 1.0)));
        db.add(child(3, 0, "c3", Map.of("x", 3.0, "y", 3.0))); // a front of three: the oldest, 1, leaves
        assertThat(db.archive()).containsExactlyInAnyOrder("2", "3");
        db.add(child(4, 0, "c4", Map.of("x", 0.5, "y", 4.5))); // dominated by 1 only
        assertThat(db.archive()).containsExactlyInAnyOrder("2", "3");
        // Every archive member is non-dominated among all valid programs.
        for (String id : db.archive()) {
            Program a = db.get(id).orElseThrow();
            for (Program q : db.programs()) {
                boolean dominates = q.metric("x") >= a.metric("x") && q.metric("y") >= a.metric("y")
                        && (q.metric("x") > a.metric("x") || q.metric("y") > a.metric("y"));
                assertThat(dominates).as("%s dominates archive member %s", q.id(), id).isFalse();
            }
        }
    }

    @Test
    void explorationOneChoosesParentsUniformly() {
        ProgramDatabase db = new ProgramDatabase(settings(1, 100, 50, 100, 0.1, 1.0, 0.0));
        db.seed(initial(0.1));
        for (int i = 1; i <= 4; i++) {
            db.add(child(i, 0, 0.1 * (i + 1)));
        }
        Map<String, Integer> counts = new HashMap<>();
        int n = 10_000;
        for (int k = 0; k < n; k++) {
            counts.merge(db.sample(0, SeededRandom.forIteration(42, k)).parent().id(), 1, Integer::sum);
        }
        // Uniform: 2000 each; rank weighting would give the best 3333 and the worst 667.
        assertThat(counts.keySet()).containsExactlyInAnyOrder("0", "1", "2", "3", "4");
        assertThat(counts.values()).allSatisfy(c -> assertThat(c).isBetween(1800, 2200));
    }

    @Test
    void rankWeightingFavoursTheBest() {
        ProgramDatabase db = new ProgramDatabase(settings(1, 100, 50, 100, 0.1, 0.0, 0.0));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.3));
        db.add(child(2, 0, 0.2));
        Map<String, Integer> counts = new HashMap<>();
        int n = 12_000;
        for (int k = 0; k < n; k++) {
            counts.merge(db.sample(0, SeededRandom.forIteration(5, k)).parent().id(), 1, Integer::sum);
        }
        // Ranks 3 : 2 : 1 of 6 for programs 1, 2, 0.
        assertThat((double) counts.get("1") / n).isCloseTo(0.5, within(0.03));
        assertThat((double) counts.get("2") / n).isCloseTo(1 / 3.0, within(0.03));
        assertThat((double) counts.get("0") / n).isCloseTo(1 / 6.0, within(0.03));
    }

    @Test
    void exploitationOneChoosesArchiveMembersOfTheIsland() {
        // Archive of 2 over two islands.
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 2, 100, 0.1, 0.0, 1.0));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.9));
        db.add(child(2, 0, 0.2));
        db.add(child(3, 0, 0.8));
        db.add(child(4, 1, 0.5));
        db.add(child(5, 1, 0.6));
        assertThat(db.archive()).containsExactlyInAnyOrder("1", "3");
        Set<String> parents0 = new HashSet<>();
        Set<String> parents1 = new HashSet<>();
        for (int k = 0; k < 200; k++) {
            parents0.add(db.sample(0, SeededRandom.forIteration(9, k)).parent().id());
            parents1.add(db.sample(1, SeededRandom.forIteration(9, k)).parent().id());
        }
        assertThat(parents0).containsExactlyInAnyOrder("1", "3");
        // No archive member lives on island 1: its best is the parent.
        assertThat(parents1).containsExactly("5");
    }

    @Test
    void sampleShowsTheIslandsBestAndInspirationsWithoutTheParent() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 50, 100, 0.1, 1.0, 0.0));
        db.seed(initial(0.1));
        for (int i = 1; i <= 6; i++) {
            db.add(child(i, 0, 0.1 * i + 0.05));
        }
        db.add(child(7, 1, 0.99));
        for (int k = 0; k < 100; k++) {
            Sample s = db.sample(0, SeededRandom.forIteration(2, k));
            List<String> ranked = Stream.of("6", "5", "4", "3", "2", "1", "0")
                    .filter(id -> !id.equals(s.parent().id())).limit(3).toList();
            assertThat(ids(s.topPrograms())).isEqualTo(ranked);
            // The prompt shows the parent and the top programs already: the inspirations are the three others.
            List<String> others = Stream.of("6", "5", "4", "3", "2", "1", "0")
                    .filter(id -> !id.equals(s.parent().id()) && !ranked.contains(id)).toList();
            assertThat(ids(s.inspirations())).containsExactlyInAnyOrderElementsOf(others);
        }
    }

    /**
     * The island's best came first among the inspirations although it is also the first top program (or the
     * parent): the prompt shows each program once, so one of the inspiration slots showed nothing, and an island of
     * five read "(none besides the programs above)" with programs it never showed. Inspirations are now drawn from
     * the programs the prompt does not show otherwise; with no top programs, the island's best leads them.
     */
    @Test
    void inspirationsAreProgramsThePromptDoesNotShowOtherwise() {
        DatabaseSettings one = new DatabaseSettings(1, 100, 50, 100, 0.1, 1.0, 0.0, List.of("complexity"), 1,
                "score", List.of(), 1, 2);
        DatabaseSettings none = new DatabaseSettings(1, 100, 50, 100, 0.1, 1.0, 0.0, List.of("complexity"), 1,
                "score", List.of(), 0, 2);
        for (DatabaseSettings settings : List.of(one, none)) {
            ProgramDatabase db = new ProgramDatabase(settings);
            db.seed(initial(0.1));
            for (int i = 1; i <= 4; i++) {
                db.add(child(i, 0, 0.1 * i + 0.05));
            }
            for (int k = 0; k < 100; k++) {
                Sample s = db.sample(0, SeededRandom.forIteration(5, k));
                assertThat(s.inspirations()).hasSize(2).doesNotContain(s.parent())
                        .noneMatch(s.topPrograms()::contains);
                if (settings.numTopPrograms() == 0 && !s.parent().id().equals("4")) {
                    assertThat(ids(s.inspirations())).first().isEqualTo("4");
                }
            }
        }
    }

    @Test
    void sameSeedAndIterationGiveTheSameSample() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 5, 100, 0.1, 0.3, 0.3));
        db.seed(initial(0.1));
        for (int i = 1; i <= 12; i++) {
            db.add(child(i, i % 2, (i * 37 % 11) / 11.0));
        }
        Set<String> parents = new HashSet<>();
        for (int k = 0; k < 50; k++) {
            Sample a = db.sample(k % 2, SeededRandom.forIteration(77, k));
            Sample b = db.sample(k % 2, SeededRandom.forIteration(77, k));
            assertThat(b).isEqualTo(a);
            parents.add(a.parent().id());
        }
        assertThat(parents).hasSizeGreaterThan(3); // the samples do depend on the iteration
    }

    @Test
    void attemptsComeBackNewestFirstAndAreCapped() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 50, 100, 0.1, 0.3, 0.3));
        db.seed(initial(0.1));
        for (int i = 1; i <= Island.ATTEMPTS_KEPT + 5; i++) {
            db.recordAttempt(0, new Attempt(i, "0", null, Attempt.Outcome.NO_EDIT, 0.1, Double.NaN, "x" + i));
        }
        db.recordAttempt(1, new Attempt(99, "0>1", "99", Attempt.Outcome.IMPROVED, 0.1, 0.2, ""));
        List<Attempt> a = db.sample(0, new SeededRandom(1)).attempts();
        assertThat(a).hasSize(Island.ATTEMPTS_KEPT);
        assertThat(a.getFirst().iteration()).isEqualTo(Island.ATTEMPTS_KEPT + 5);
        assertThat(a.getLast().iteration()).isEqualTo(6);
        assertThat(db.sample(1, new SeededRandom(1)).attempts()).extracting(Attempt::iteration).containsExactly(99L);
    }

    /**
     * The class promises thread safety (the loop samples on worker threads while another commits), which no test
     * checked. Eight threads each add 250 children to their own island (half of them failed) and sample between
     * adds: every child must arrive, the migrations must be the count the children call for whatever their order
     * (one per 2 x 4 children), and the result must survive a snapshot.
     */
    @Test
    void concurrentAddsAndSamplesLoseNothing() throws Exception {
        int islands = 4;
        int threads = 8;
        int each = 250;
        ProgramDatabase db = new ProgramDatabase(settings(islands, 100_000, 50, 2, 0.25, 0.2, 0.5));
        db.seed(initial(0.1));
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int k = 0; k < each; k++) {
                        int it = 1 + thread * each + k;
                        int island = thread % islands;
                        db.add(k % 2 == 0 ? child(it, island, "c" + it, Map.of("score", (double) it))
                                : failed(it, island));
                        db.recordAttempt(island, new Attempt(it, "0", null, Attempt.Outcome.FAILED, 0, 0, ""));
                        assertThat(db.sample(island, SeededRandom.forIteration(7, it)).island()).isEqualTo(island);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (var f : done) {
                f.get();
            }
        }
        Set<String> ids = new HashSet<>(ids(db.programs()));
        for (int it = 1; it <= threads * each; it++) {
            assertThat(ids).contains(Integer.toString(it));
        }
        assertThat(db.migrations()).isEqualTo(threads * each / (2 * islands));
        assertThat(db.best().orElseThrow().metric("score")).isEqualTo(threads * each - 1);
        String json = Fixtures.json(db.snapshot());
        assertThat(Fixtures.json(ProgramDatabase.restore(db.settings(), Fixtures.fromJson(json)).snapshot()))
                .isEqualTo(json);
    }

    @Test
    void aParetoGridCellChangesHandsOnlyToAProgramThatDominatesItsElite() {
        // One cell; objectives a (maximized) and b (minimized).
        DatabaseSettings s = new DatabaseSettings(1, 100, 50, 100, 0.1, 0.2, 0.5, List.of("complexity"), 1, "score",
                List.of("a", "-b"), 3, 3);
        ProgramDatabase db = new ProgramDatabase(s);
        db.seed(new Program("0", "c0", null, 0, 0, 0, Map.of("a", 1.0, "b", 1.0), null, "", null));
        db.add(child(1, 0, "c1", Map.of("a", 2.0, "b", 2.0))); // better a, worse b: no dominance
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "0"));
        db.add(child(2, 0, "c2", Map.of("a", 1.5, "b", 0.5))); // better in both
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2"));
        db.add(child(3, 0, "c3", Map.of("a", 3.0, "b", 3.0))); // a trade-off against 2
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "2"));
    }

    @Test
    void diversityIsTheMeanTrigramDistanceToTheIslandsElites() {
        DatabaseSettings s = new DatabaseSettings(1, 100, 50, 100, 0.1, 0.2, 0.5, List.of("diversity"), 10, "score",
                List.of(), 3, 3);
        ProgramDatabase db = new ProgramDatabase(s);
        // Alone on its island, the seed has no reference: diversity 0, cell 0.
        db.seed(new Program("0", "alpha beta gamma delta", null, 0, 0, 0, Map.of("score", 0.1), null, "", null));
        // No trigram in common with the seed: distance 1, the top of the range [0, 1].
        db.add(child(1, 0, "one two three four", Map.of("score", 0.5)));
        // Distance 1 to program 1, and 1 - 2/3 to the seed (two of three trigrams shared): mean 2/3, bin 6.
        db.add(child(2, 0, "alpha beta gamma delta epsilon", Map.of("score", 0.2)));
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "0", "9", "1", "6", "2"));
        assertThat(db.cachedDiversityPrograms()).containsExactlyInAnyOrder("0", "1", "2");
    }

    @Test
    void generationsCountAnIslandsOwnChildrenFailedOnesIncluded() {
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 50, 100, 0.1, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.2));
        db.add(child(2, 0, 0.3));
        db.add(failed(3, 0));
        db.add(child(4, 1, 0.4));
        assertThat(db.snapshot().islands()).extracting(DatabaseState.IslandState::generation).containsExactly(3L, 1L);
    }

    @Test
    void iterationsWithoutAChildCountTowardMigration() {
        // Interval 1 over two islands: the second count migrates.
        ProgramDatabase db = new ProgramDatabase(settings(2, 100, 50, 1, 0.1, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.9));
        assertThat(db.migrations()).isZero();
        db.recordNoChild(1);
        assertThat(db.migrations()).isEqualTo(1);
        assertThat(db.members(1)).containsExactly("0>1", "1>1");
        assertThat(db.snapshot().childrenSinceMigration()).isZero();
        db.recordNoChild(0);
        assertThat(db.snapshot().childrenSinceMigration()).isEqualTo(1);
    }

    @Test
    void anIslandsBestIsTheFirstOfEquallyFitPrograms() {
        ProgramDatabase db = new ProgramDatabase(settings(1, 100, 50, 100, 0.1, 0.2, 0.5));
        db.seed(initial(0.1));
        db.add(child(1, 0, 0.5));
        db.add(child(2, 0, 0.5));
        assertThat(db.snapshot().islands().getFirst().bestId()).isEqualTo("1");
        assertThat(db.best().orElseThrow().id()).isEqualTo("1");
    }

    /**
     * Grid cells along one metric x in ten bins: the parent (the only archive member, so exploitation always picks
     * it) sits in cell 9, program 2 in the neighbouring cell 8, programs 0 and 3 in cells 0 and 5, and program 4 in
     * the parent's own cell without being its elite.
     */
    private static ProgramDatabase gridOfFive(int numTop) {
        DatabaseSettings s = new DatabaseSettings(1, 100, 1, 100, 0.1, 0.0, 1.0, List.of("x"), 10, "score",
                List.of(), numTop, 1);
        ProgramDatabase db = new ProgramDatabase(s);
        db.seed(new Program("0", "c0", null, 0, 0, 0, Map.of("score", 0.1, "x", 0.0), null, "", null));
        db.add(child(1, 0, "c1", Map.of("score", 1.0, "x", 9.0)));
        db.add(child(2, 0, "c2", Map.of("score", 0.5, "x", 8.0)));
        db.add(child(3, 0, "c3", Map.of("score", 0.3, "x", 4.5)));
        db.add(child(4, 0, "c4", Map.of("score", 0.4, "x", 8.9)));
        assertThat(db.grid(0)).isEqualTo(Map.of("0", "0", "9", "1", "8", "2", "5", "3"));
        return db;
    }

    @Test
    void theElitesOfNeighbouringCellsInspireBeforeRandomPrograms() {
        ProgramDatabase db = gridOfFive(0);
        for (int k = 0; k < 30; k++) {
            Sample s = db.sample(0, SeededRandom.forIteration(4, k));
            assertThat(s.parent().id()).isEqualTo("1");
            assertThat(ids(s.inspirations())).containsExactly("2");
        }
    }

    @Test
    void aNeighbouringEliteThePromptShowsAsATopProgramIsNotAnInspiration() {
        ProgramDatabase db = gridOfFive(1);
        Set<String> seen = new HashSet<>();
        for (int k = 0; k < 30; k++) {
            Sample s = db.sample(0, SeededRandom.forIteration(4, k));
            assertThat(ids(s.topPrograms())).containsExactly("2");
            assertThat(s.inspirations()).hasSize(1);
            seen.add(s.inspirations().getFirst().id());
        }
        assertThat(seen).containsExactlyInAnyOrder("0", "3", "4");
    }

    @Test
    void aProgramKeepsItsFeedbackAndNoneReadsAsEmpty() {
        assertThat(new Program("1", "c", null, 0, 0, 1, Map.of(), null, "warning: slow", null).feedback())
                .isEqualTo("warning: slow");
        assertThat(new Program("1", "c", null, 0, 0, 1, Map.of(), null, null, null).feedback()).isEmpty();
    }

    @Test
    void settingsNameEachKeyOutOfRange() {
        record Bad(String message, Runnable make) {
        }
        List<String> x = List.of("x");
        List<Bad> bad = List.of(
                new Bad("database.num_islands: must be at least 1, got 0", () -> settings(0, 10, 5, 5, 0.1, 0.2, 0.5)),
                new Bad("database.population_size: must be at least 3, got 2",
                        () -> settings(3, 2, 5, 5, 0.1, 0.2, 0.5)),
                new Bad("database.archive_size: must be at least 1, got 0", () -> settings(1, 10, 0, 5, 0.1, 0.2, 0.5)),
                new Bad("database.migration_interval: must be at least 1, got 0",
                        () -> settings(1, 10, 5, 0, 0.1, 0.2, 0.5)),
                new Bad("database.feature_bins: must be at least 1, got 0", () -> new DatabaseSettings(1, 10, 5, 5, 0.1,
                        0.2, 0.5, x, 0, "score", List.of(), 3, 3)),
                new Bad("prompt.num_top_programs: must be at least 0, got -1", () -> new DatabaseSettings(1, 10, 5, 5,
                        0.1, 0.2, 0.5, x, 1, "score", List.of(), -1, 3)),
                new Bad("prompt.num_diverse_programs: must be at least 0, got -1", () -> new DatabaseSettings(1, 10, 5,
                        5, 0.1, 0.2, 0.5, x, 1, "score", List.of(), 3, -1)),
                new Bad("database.migration_rate: must be in [0, 1], got 1.5",
                        () -> settings(1, 10, 5, 5, 1.5, 0.2, 0.5)),
                new Bad("database.exploration_ratio: must be in [0, 1], got -0.5",
                        () -> settings(1, 10, 5, 5, 0.1, -0.5, 0.5)),
                new Bad("database.exploitation_ratio: must be in [0, 1], got NaN",
                        () -> settings(1, 10, 5, 5, 0.1, 0.2, Double.NaN)),
                new Bad("database.exploration_ratio: plus exploitation_ratio must be at most 1, got 1.25",
                        () -> settings(1, 10, 5, 5, 0.1, 0.75, 0.5)),
                new Bad("database.feature_dimensions: lists x twice: each is an axis of the grid once",
                        () -> new DatabaseSettings(1, 10, 5, 5, 0.1, 0.2, 0.5, List.of("x", "y", "x"), 1, "score",
                                List.of(), 3, 3)),
                new Bad("database.pareto_metrics: lists a twice: each is an objective (- minimizes it) once",
                        () -> new DatabaseSettings(1, 10, 5, 5, 0.1, 0.2, 0.5, x, 1, "score", List.of("a", "-a"), 3,
                                3)));
        for (Bad b : bad) {
            assertThatThrownBy(b.make()::run).isInstanceOf(InvalidInputException.class).hasMessage(b.message());
        }
        // The smallest values of each are accepted.
        assertThat(new DatabaseSettings(2, 2, 1, 1, 0, 0, 1, List.of(), 1, "score", List.of(), 0, 0).numIslands())
                .isEqualTo(2);
    }

    @Test
    void settingsRejectOutOfRangeValues() {
        assertThatThrownBy(() -> settings(0, 10, 5, 5, 0.1, 0.2, 0.5)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> settings(3, 2, 5, 5, 0.1, 0.2, 0.5)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> settings(1, 10, 5, 5, 1.5, 0.2, 0.5)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> settings(1, 10, 5, 5, 0.1, 0.6, 0.5)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> settings(1, 10, 5, 5, 0.1, Double.NaN, 0.5))
                .isInstanceOf(InvalidInputException.class);
        assertThat(settings(1, 10, 5, 5, 0.1, 0.5, 0.5).pareto()).isFalse();
        assertThat(DatabaseSettings.defaults().numIslands()).isEqualTo(5);
    }

    /**
     * Settings made in code (a Task whose fitnessMetric() is null gives EvolveConfig.defaults(null)) took a null
     * fitness metric, and the run failed with a NullPointerException once its initial program was scored; null lists
     * or entries failed with an unnamed NullPointerException. Each is refused by its key.
     */
    @Test
    void settingsRefuseNullsByKey() {
        java.util.function.BiFunction<List<String>, List<String>, DatabaseSettings> make = (dims, pareto) ->
                new DatabaseSettings(1, 10, 5, 5, 0.1, 0.2, 0.5, dims, 2, "score", pareto, 3, 3);
        java.util.List<String> withNull = new java.util.ArrayList<>(java.util.Arrays.asList("complexity", null));
        assertThatThrownBy(() -> new DatabaseSettings(1, 10, 5, 5, 0.1, 0.2, 0.5, List.of("complexity"), 2, null,
                List.of(), 3, 3)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.fitness_metric: must name a metric, got none");
        assertThatThrownBy(() -> make.apply(null, List.of())).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.feature_dimensions: must be a list (empty for none), got none");
        assertThatThrownBy(() -> make.apply(List.of(), null)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.pareto_metrics: must be a list (empty for none), got none");
        assertThatThrownBy(() -> make.apply(withNull, List.of())).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.feature_dimensions: entry 2 is null, not a name");
        assertThatThrownBy(() -> make.apply(List.of(), withNull)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.pareto_metrics: entry 2 is null, not a name");
    }
}
