package io.moelab.evolve.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;
import org.quicktheories.impl.Constraint;

/**
 * Properties of the program database over random runs: samples each iteration from a random island and adds a
 * child there, as the evolution loop does, and checks the result against naive recomputations.
 */
class ProgramDatabasePropertiesTest {

    /** One iteration: the island to sample, the child's code variant, metrics and whether it failed. */
    record Op(int island, int code, int score, int a, int b, boolean hasB, boolean fail) {
    }

    /** A run: its settings and its iterations. */
    record Scenario(DatabaseSettings settings, List<Op> ops, long seed) {
        @Override
        public String toString() {
            return "Scenario[islands=" + settings.numIslands() + ", population=" + settings.populationSize()
                    + ", archive=" + settings.archiveSize() + ", interval=" + settings.migrationInterval()
                    + ", rate=" + settings.migrationRate() + ", dims=" + settings.featureDimensions()
                    + ", pareto=" + settings.paretoMetrics() + ", seed=" + seed + ", ops=" + ops + "]";
        }
    }

    private static int between(RandomnessSource r, int lo, int hi) {
        return (int) r.next(Constraint.between(lo, hi));
    }

    private static Gen<Scenario> scenarios(boolean pareto, int maxOps) {
        return r -> {
            int islands = between(r, 1, 4);
            int population = islands * between(r, 2, 6);
            int archive = pareto ? 1000 : between(r, 1, 6);
            int interval = between(r, 1, 3);
            double rate = between(r, 0, 10) / 10.0;
            double exploration = between(r, 0, 10) / 10.0;
            double exploitation = between(r, 0, 10 - (int) Math.round(exploration * 10)) / 10.0;
            List<String> dims = switch (between(r, 0, 4)) {
                case 0 -> List.of("complexity");
                case 1 -> List.of("complexity", "diversity");
                case 2 -> List.of("a");
                case 3 -> List.of("score", "complexity");
                default -> List.of("diversity", "b");
            };
            DatabaseSettings s = new DatabaseSettings(islands, population, archive, interval, rate, exploration,
                    exploitation, dims, between(r, 1, 4), "score", pareto ? List.of("a", "-b") : List.of(),
                    between(r, 0, 4), between(r, 0, 4));
            int n = between(r, 1, maxOps);
            List<Op> ops = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ops.add(new Op(between(r, 0, islands - 1), between(r, 0, 7), between(r, 0, 9), between(r, 0, 4),
                        between(r, 0, 4), between(r, 0, 5) > 0, between(r, 0, 6) == 0));
            }
            return new Scenario(s, ops, between(r, 0, 1000));
        };
    }

    private static Program initial() {
        return new Program("0", "seed code\nint x = 0;", null, 0, 0, 0, Map.of("score", 0.3, "a", 1.0, "b", 2.0),
                null, "", null);
    }

    private static List<Program> shown(Sample s) {
        return Stream.of(List.of(s.parent()), s.topPrograms(), s.inspirations()).flatMap(List::stream).toList();
    }

    /** One iteration as the loop runs it: sample, make a child on the sample's island, add it, record it. */
    private static Sample step(ProgramDatabase db, Op op, int iteration, long seed) {
        Sample s = db.sample(op.island(), SeededRandom.forIteration(seed, iteration));
        Map<String, Double> metrics = new HashMap<>();
        metrics.put("score", op.score() / 10.0);
        metrics.put("a", (double) op.a());
        if (op.hasB()) {
            metrics.put("b", (double) op.b());
        }
        Program child = new Program(Integer.toString(iteration), "int f() {\n  return " + op.code() + " * x;\n}",
                s.parent().id(), s.island(), s.parent().generation() + 1, iteration,
                op.fail() ? Map.of() : metrics, op.fail() ? "boom" : null, "", null);
        db.add(child);
        db.recordAttempt(s.island(), new Attempt(iteration, s.parent().id(), child.id(),
                op.fail() ? Attempt.Outcome.FAILED : Attempt.Outcome.UNCHANGED, db.fitness(s.parent()),
                op.fail() ? Double.NaN : db.fitness(child), op.fail() ? "boom" : ""));
        return s;
    }

    @Test
    void samplesStayOnTheirIslandAndNeverShowFailedPrograms() {
        qt().withExamples(200).withFixedSeed(1).forAll(scenarios(false, 40)).checkAssert(sc -> {
            ProgramDatabase db = new ProgramDatabase(sc.settings());
            db.seed(initial());
            int it = 0;
            for (Op op : sc.ops()) {
                int sampled = db.members(op.island()).size();
                Sample s = step(db, op, ++it, sc.seed());
                assertThat(s.island()).isEqualTo(op.island());
                List<String> members = db.members(op.island());
                // The child was added after sampling; what the sample showed lived on the island then.
                assertThat(shown(s)).allSatisfy(p -> {
                    assertThat(p.island()).isEqualTo(op.island());
                    assertThat(p.valid()).isTrue();
                });
                assertThat(s.topPrograms()).doesNotContain(s.parent()).doesNotHaveDuplicates()
                        .hasSizeLessThanOrEqualTo(sc.settings().numTopPrograms());
                // Inspirations are what the prompt shows besides the parent and top programs, as many as there are.
                assertThat(s.inspirations()).doesNotContain(s.parent()).doesNotHaveDuplicates()
                        .noneMatch(s.topPrograms()::contains)
                        .hasSize(Math.min(sc.settings().numInspirations(), sampled - 1 - s.topPrograms().size()));
                assertThat(members).allSatisfy(id -> assertThat(db.get(id).orElseThrow().island())
                        .isEqualTo(op.island()));
            }
        });
    }

    @Test
    void invariantsHoldAfterEveryAdd() {
        qt().withExamples(200).withFixedSeed(2).forAll(scenarios(false, 60)).checkAssert(sc -> {
            DatabaseSettings set = sc.settings();
            ProgramDatabase db = new ProgramDatabase(set);
            db.seed(initial());
            int it = 0;
            for (Op op : sc.ops()) {
                step(db, op, ++it, sc.seed());
                checkInvariants(db, set, it);
            }
        });
    }

    private static void checkInvariants(ProgramDatabase db, DatabaseSettings set, int children) {
        List<Program> all = db.programs();
        List<Program> valid = all.stream().filter(Program::valid).toList();
        int islands = set.numIslands();

        // Migrations: one every interval x islands children.
        assertThat(db.migrations()).isEqualTo(islands == 1 ? 0 : children / (set.migrationInterval() * islands));

        // The best is the maximum fitness.
        double max = valid.stream().mapToDouble(db::fitness).max().orElseThrow();
        assertThat(db.fitness(db.best().orElseThrow())).isEqualTo(max);

        // The archive is the top archive_size by fitness (fitness values compared, ties being interchangeable).
        List<Double> top = valid.stream().map(db::fitness).sorted(Comparator.reverseOrder())
                .limit(set.archiveSize()).toList();
        List<Double> archived = db.archive().stream().map(id -> db.fitness(db.get(id).orElseThrow()))
                .sorted(Comparator.reverseOrder()).toList();
        assertThat(archived).isEqualTo(top);

        DatabaseState state = db.snapshot();
        int cap = Math.max(1, set.populationSize() / islands);
        Set<String> everyMember = new HashSet<>();
        for (int i = 0; i < islands; i++) {
            DatabaseState.IslandState is = state.islands().get(i);
            List<String> members = db.members(i);
            assertThat(members).isEqualTo(is.members());
            everyMember.addAll(members);
            Map<String, String> grid = db.grid(i);
            assertThat(members).contains(is.bestId());
            // The island's best has the island's maximum fitness over all programs it ever held.
            int island = i;
            double islandMax = valid.stream().filter(p -> p.island() == island).mapToDouble(db::fitness).max()
                    .orElseThrow();
            assertThat(db.fitness(db.get(is.bestId()).orElseThrow())).isEqualTo(islandMax);
            // Grid: each elite is a member in its own cell, at least as good as every member of that cell.
            assertThat(members).containsAll(grid.values());
            grid.forEach((cell, id) -> assertThat(is.cellOf().get(id)).isEqualTo(cell));
            for (String id : members) {
                String cell = is.cellOf().get(id);
                // Exactly the programs that report every metric dimension have a cell (score: a finite fitness).
                Program p = db.get(id).orElseThrow();
                boolean reports = set.featureDimensions().stream().allMatch(d -> d.equals("complexity")
                        || d.equals("diversity") || (d.equals("score") ? Double.isFinite(db.fitness(p))
                        : !Double.isNaN(p.metric(d))));
                assertThat(cell != null).as(id).isEqualTo(reports);
                if (cell == null) {
                    continue;
                }
                assertThat(grid).containsKey(cell);
                assertThat(db.fitness(db.get(grid.get(cell)).orElseThrow()))
                        .isGreaterThanOrEqualTo(db.fitness(db.get(id).orElseThrow()));
            }
            // Population cap: over the cap only when every member is protected.
            if (members.size() > cap) {
                assertThat(members).allSatisfy(id -> assertThat(id.equals(is.bestId())
                        || db.archive().contains(id) || grid.containsValue(id)).isTrue());
            }
        }
        // Archive members and the best are never dropped.
        assertThat(everyMember).containsAll(db.archive()).contains(db.best().orElseThrow().id());
        // No failed program is a member.
        assertThat(everyMember).allSatisfy(id -> assertThat(db.get(id).orElseThrow().valid()).isTrue());

        // Migrants: named after their origin and target, copies of a child on a ring neighbour of its island (the
        // initial program's copies excepted: the seed puts one on every island), never bringing code the target
        // island held before they arrived.
        for (int k = 0; k < all.size(); k++) {
            Program m = all.get(k);
            if (m.migratedFrom() == null) {
                continue;
            }
            assertThat(m.id()).isEqualTo(m.migratedFrom() + ">" + m.island());
            Program origin = db.get(m.migratedFrom()).orElseThrow();
            assertThat(origin.migratedFrom()).isNull();
            assertThat(origin.island()).isNotEqualTo(m.island());
            if (origin.iteration() > 0) {
                assertThat(m.island()).as("%s's island", m.id()).isIn((origin.island() + 1) % islands,
                        (origin.island() + islands - 1) % islands);
            }
            assertThat(origin.code()).isEqualTo(m.code());
            assertThat(origin.metrics()).isEqualTo(m.metrics());
            for (Program q : all.subList(0, k)) {
                if (q.valid() && q.island() == m.island()) {
                    assertThat(q.code()).as("%s arrived on island %d which had %s", m.id(), m.island(), q.id())
                            .isNotEqualTo(m.code());
                }
            }
        }
    }

    /** A Pareto objective computed here: larger is better, a missing metric the worst. */
    private static double[] objectives(Program p) {
        Double a = p.metrics().get("a");
        Double b = p.metrics().get("b");
        return new double[] {a == null ? Double.NEGATIVE_INFINITY : a, b == null ? Double.NEGATIVE_INFINITY : -b};
    }

    private static boolean dominatesNaive(double[] x, double[] y) {
        return x[0] >= y[0] && x[1] >= y[1] && (x[0] > y[0] || x[1] > y[1]);
    }

    @Test
    void paretoArchiveIsExactlyTheNonDominatedFront() {
        qt().withExamples(200).withFixedSeed(3).forAll(scenarios(true, 50)).checkAssert(sc -> {
            ProgramDatabase db = new ProgramDatabase(sc.settings());
            db.seed(initial());
            int it = 0;
            for (Op op : sc.ops()) {
                step(db, op, ++it, sc.seed());
                List<double[]> points = db.programs().stream().filter(Program::valid)
                        .map(ProgramDatabasePropertiesTest::objectives).toList();
                Set<List<Double>> front = new HashSet<>();
                for (double[] x : points) {
                    boolean dominated = false;
                    for (double[] y : points) {
                        dominated |= dominatesNaive(y, x);
                    }
                    if (!dominated) {
                        front.add(List.of(x[0], x[1]));
                    }
                }
                List<List<Double>> archived = db.archive().stream().map(id -> objectives(db.get(id).orElseThrow()))
                        .map(x -> List.of(x[0], x[1])).toList();
                // One program per point of the front, and every point of the front.
                assertThat(archived).doesNotHaveDuplicates();
                assertThat(new HashSet<>(archived)).isEqualTo(front);
            }
        });
    }

    @Test
    void restoredDatabaseBehavesLikeTheOriginal() {
        qt().withExamples(120).withFixedSeed(4).forAll(scenarios(false, 60), scenarios(false, 30))
                .checkAssert((first, then) -> {
                    ProgramDatabase original = new ProgramDatabase(first.settings());
                    original.seed(initial());
                    int it = 0;
                    for (Op op : first.ops()) {
                        step(original, op, ++it, first.seed());
                    }
                    String json = Fixtures.json(original.snapshot());
                    ProgramDatabase viaJson = ProgramDatabase.restore(first.settings(), Fixtures.fromJson(json));
                    ProgramDatabase direct = ProgramDatabase.restore(first.settings(), original.snapshot());
                    assertThat(Fixtures.json(viaJson.snapshot())).isEqualTo(json);
                    assertThat(Fixtures.json(direct.snapshot())).isEqualTo(json);
                    int islands = first.settings().numIslands();
                    for (Op op : then.ops()) {
                        Op o = new Op(op.island() % islands, op.code(), op.score(), op.a(), op.b(), op.hasB(),
                                op.fail());
                        it++;
                        Sample a = step(original, o, it, first.seed());
                        Sample b = step(viaJson, o, it, first.seed());
                        Sample c = step(direct, o, it, first.seed());
                        assertThat(b).isEqualTo(a);
                        assertThat(c).isEqualTo(a);
                    }
                    String end = Fixtures.json(original.snapshot());
                    assertThat(Fixtures.json(viaJson.snapshot())).isEqualTo(end);
                    assertThat(Fixtures.json(direct.snapshot())).isEqualTo(end);
                });
    }
}
