package io.moelab.evolve.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.evolve.edit.EvolveBlocks;
import io.moelab.evolve.eval.CascadeEvaluator;
import io.moelab.evolve.eval.Evaluation;
import io.moelab.evolve.eval.EvaluatorSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example task in docs/evolve/example-task loads, and its evaluator scores candidates as its README says. */
class ExampleTaskTest {
    /** Relative to the module directory, surefire's working directory. */
    private static final Path DIR = Path.of("..", "docs", "evolve", "example-task");

    @TempDir
    Path tmp;

    private static Evaluation evaluate(GenericTask task, String code, Path work) throws InterruptedException {
        EvaluatorSettings s = EvaluatorSettings.defaults().withTimeout(Duration.ofSeconds(60));
        return new CascadeEvaluator(task, s, task.fitnessMetric()).evaluate(code, work);
    }

    @Test
    void loads() {
        GenericTask t = GenericTask.load(DIR);
        assertThat(t.name()).isEqualTo("example-task");
        assertThat(t.language()).isEqualTo("java");
        assertThat(t.programFileName()).isEqualTo("Tour.java");
        assertThat(t.fitnessMetric()).isEqualTo("combined_score");
        assertThat(t.systemMessage()).contains("EVOLVE-BLOCK-START", "standard input", "combined_score");
        assertThat(t.stageCommands()).hasSize(1);
        assertThat(t.stageCommands().getFirst()).startsWith("{java}", "{task_dir}/Evaluate.java", "{program}");
        assertThat(EvolveBlocks.regions(t.initialProgram())).hasSize(1);
        assertThat(t.initialProgram()).doesNotContain("package ");
    }

    @Test
    void initialProgramScoresTheIndexOrderTour() throws Exception {
        GenericTask t = GenericTask.load(DIR);
        Evaluation e = evaluate(t, t.initialProgram(), tmp.resolve("initial"));
        assertThat(e.ok()).as(e.errorMessage()).isTrue();
        double[] expected = expectedScores(false);
        assertThat(e.metrics().get("combined_score")).isCloseTo(expected[0], within(1e-9));
        assertThat(e.metrics().get("mean_tour_length")).isCloseTo(expected[1], within(1e-6));
        assertThat(e.metrics().get("mean_baseline_length")).isCloseTo(expected[2], within(1e-6));
        assertThat(e.metrics()).containsEntry("valid", 1.0);
        // The value quoted in the README.
        assertThat(expected[0]).isCloseTo(0.2975, within(5e-5));
    }

    @Test
    void aNearestNeighbourCandidateScoresOne() throws Exception {
        GenericTask t = GenericTask.load(DIR);
        String nn = """
                    static int[] solve(double[] x, double[] y) {
                        int n = x.length;
                        int[] tour = new int[n];
                        boolean[] seen = new boolean[n];
                        seen[0] = true;
                        for (int i = 1; i < n; i++) {
                            int best = -1;
                            double bestD = Double.POSITIVE_INFINITY;
                            for (int j = 0; j < n; j++) {
                                double d = Math.hypot(x[tour[i - 1]] - x[j], y[tour[i - 1]] - y[j]);
                                if (!seen[j] && d < bestD) {
                                    best = j;
                                    bestD = d;
                                }
                            }
                            tour[i] = best;
                            seen[best] = true;
                        }
                        return tour;
                    }
                """;
        String code = EvolveBlocks.splice(t.initialProgram(), "// EVOLVE-BLOCK-START\n" + nn
                + "    // EVOLVE-BLOCK-END");
        assertThat(code).contains("Math.hypot").doesNotContain("tour[i] = i;");
        Evaluation e = evaluate(t, code, tmp.resolve("nn"));
        assertThat(e.ok()).as(e.errorMessage()).isTrue();
        assertThat(e.metrics().get("combined_score")).isCloseTo(1.0, within(1e-12));
        assertThat(e.metrics().get("mean_tour_length")).isCloseTo(expectedScores(true)[1], within(1e-6));
    }

    @Test
    void garbageOutputIsAnError() throws Exception {
        GenericTask t = GenericTask.load(DIR);
        Evaluation garbage = evaluate(t, """
                public class Tour {
                    public static void main(String[] args) {
                        System.out.println("hello world");
                    }
                }
                """, tmp.resolve("garbage"));
        assertThat(garbage.error()).isEqualTo("invalid_output");
        assertThat(garbage.errorMessage()).contains("expected 3 lines", "hello world");

        Evaluation twice = evaluate(t, """
                public class Tour {
                    public static void main(String[] args) {
                        for (int k = 0; k < 3; k++) {
                            StringBuilder sb = new StringBuilder("0");
                            for (int i = 0; i < 39; i++) {
                                sb.append(' ').append(i);
                            }
                            System.out.println(sb);
                        }
                    }
                }
                """, tmp.resolve("twice"));
        assertThat(twice.error()).isEqualTo("invalid_output");
        assertThat(twice.errorMessage()).contains("city 0 is visited twice");

        Evaluation broken = evaluate(t, "public class Tour { void f() { int x = } }", tmp.resolve("broken"));
        assertThat(broken.error()).isEqualTo("compile_error");
    }

    /**
     * Computed here from the README's description: {combined_score, mean tour length, mean baseline length} of the
     * index-order tour (or, with {@code nearest}, of the nearest-neighbour tour itself).
     */
    private static double[] expectedScores(boolean nearest) {
        long[] seeds = {1, 2, 3};
        double score = 0;
        double lengths = 0;
        double baselines = 0;
        for (long seed : seeds) {
            long s = seed;
            int n = 40;
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                s = s * 6364136223846793005L + 1442695040888963407L;
                x[i] = Long.remainderUnsigned(s >>> 33, 1000);
                s = s * 6364136223846793005L + 1442695040888963407L;
                y[i] = Long.remainderUnsigned(s >>> 33, 1000);
            }
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            // Nearest neighbour from city 0, ties to the lower index.
            int[] nn = new int[n];
            boolean[] used = new boolean[n];
            used[0] = true;
            for (int i = 1; i < n; i++) {
                int from = nn[i - 1];
                int best = -1;
                for (int j = 0; j < n; j++) {
                    if (!used[j] && (best < 0 || dist(x, y, from, j) < dist(x, y, from, best))) {
                        best = j;
                    }
                }
                nn[i] = best;
                used[best] = true;
            }
            double len = closed(x, y, nearest ? nn : order);
            double base = closed(x, y, nn);
            score += base / len;
            lengths += len;
            baselines += base;
        }
        return new double[] {score / seeds.length, lengths / seeds.length, baselines / seeds.length};
    }

    private static double dist(double[] x, double[] y, int a, int b) {
        return Math.sqrt((x[a] - x[b]) * (x[a] - x[b]) + (y[a] - y[b]) * (y[a] - y[b]));
    }

    private static double closed(double[] x, double[] y, int[] tour) {
        double sum = 0;
        for (int i = 0; i < tour.length; i++) {
            sum += dist(x, y, tour[i], tour[(i + 1) % tour.length]);
        }
        return sum;
    }
}
