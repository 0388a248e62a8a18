package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.evolve.task.StageScorer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Runs the harness as the evaluator does: a child JVM per stage, on the quick suite. */
class EplbHarnessTest {
    private static final String HEADER = """
            import io.moelab.eplb.*;
            import io.moelab.eplb.algorithm.*;

            """;

    @TempDir
    Path dir;

    /**
     * Exit code, console output, and the metrics as the evolve process scores the results file (null when the
     * file is missing).
     */
    private record Result(int exitCode, String output, JsonNode metrics) {
        String error() {
            return metrics.path("error").asString();
        }

        String message() {
            return metrics.path("error_message").asString();
        }
    }

    @Test
    void initialProgramPassesBothStagesAndReusesTheCompile() throws Exception {
        Path program = write("EvolvedBalancer.java", EplbTask.initialProgram());
        Path workdir = dir.resolve("work");
        Result one = run(program, 1, workdir);
        assertThat(one.exitCode()).as(one.output()).isZero();
        assertThat(one.metrics().path("error").isMissingNode()).as(one.metrics().toString()).isTrue();
        assertThat(one.metrics().get("validity").asDouble()).isEqualTo(1.0);
        assertThat(one.metrics().get("combined_score").asDouble()).isBetween(0.0, 90.0);
        Path classFile = workdir.resolve("classes/EvolvedBalancer.class");
        FileTime compiled = Files.getLastModifiedTime(classFile);
        assertThat(workdir.resolve("classes").resolve(CandidateCompiler.HASH_FILE)).exists();

        Result two = run(program, 2, workdir);
        assertThat(two.exitCode()).as(two.output()).isZero();
        JsonNode m = two.metrics();
        assertThat(m.path("error").isMissingNode()).as(m.toString()).isTrue();
        double balancedness = m.get("balancedness").asDouble();
        double millis = m.get("rebalance_ms").asDouble();
        assertThat(balancedness).isGreaterThan(0.0).isLessThanOrEqualTo(1.0);
        assertThat(millis).isGreaterThan(0.0);
        assertThat(m.get("validity").asDouble()).isEqualTo(1.0);
        assertThat(m.get("balancedness_tiny_hierarchical").asDouble()).isBetween(0.0, 1.0);
        assertThat(m.get("balancedness_tiny_global").asDouble()).isBetween(0.0, 1.0);
        double speed = Math.min(10, 10 / Math.max(millis, 1e-3));
        assertThat(m.get("speed_score").asDouble()).isCloseTo(speed, within(1e-9));
        assertThat(m.get("combined_score").asDouble())
                .isCloseTo(90 * balancedness + speed - Math.max(0, millis - 10), within(1e-9));
        assertThat(Files.getLastModifiedTime(classFile)).as("stage 2 reuses stage 1's classes").isEqualTo(compiled);
    }

    @Test
    void compileErrorNamesTheLine() throws Exception {
        String source = EplbTask.initialProgram().replace("return \"evolved\";", "return \"evolved\"");
        int line = lineOf(source, "return \"evolved\"");
        Result r = run(write("EvolvedBalancer.java", source), 1, dir.resolve("work"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.error()).isEqualTo("compile_error");
        assertThat(r.message()).contains("EvolvedBalancer.java:" + line + ":").contains("';' expected");
    }

    @Test
    void candidateThatThrowsIsAnException() throws Exception {
        Result r = run(write("Thrower.java", HEADER + """
                public class Thrower implements BalancerAlgorithm {
                    public String name() { return "t"; }
                    public String description() { return "t"; }
                    public Placement rebalance(BalancingRequest request) { return helper(request); }
                    private Placement helper(BalancingRequest request) {
                        throw new IllegalStateException("boom");
                    }
                }
                """), 1, dir.resolve("work"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.error()).isEqualTo("exception");
        assertThat(r.message()).contains("java.lang.IllegalStateException: boom", "at Thrower.helper(Thrower.java:",
                "case 1");
        assertThat(r.metrics().has("combined_score")).isFalse();
    }

    @Test
    void invalidPlacementIsReported() throws Exception {
        // Plans only layer 0: fine on the 1-layer first case, wrong on the 3-layer second one.
        Result r = run(write("OneLayer.java", HEADER + """
                public class OneLayer implements BalancerAlgorithm {
                    public String name() { return "one"; }
                    public String description() { return "one"; }
                    public Placement rebalance(BalancingRequest request) {
                        int r = request.topology().replicas();
                        int e = request.weight().experts();
                        int[][] phy2log = new int[1][r];
                        for (int p = 0; p < r; p++) {
                            phy2log[0][p] = p % e;
                        }
                        return Placement.of(request.topology(), e, phy2log);
                    }
                }
                """), 1, dir.resolve("work"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.error()).isEqualTo("invalid_output");
        assertThat(r.message()).contains("case 2", "placement has 1 layer, expected 3");
    }

    @Test
    void hiddenMoelabClassesAreRejected() throws Exception {
        Result compiled = run(write("Copycat.java", HEADER + """
                public class Copycat implements BalancerAlgorithm {
                    public String name() { return "c"; }
                    public String description() { return "c"; }
                    public Placement rebalance(BalancingRequest request) {
                        return new io.moelab.eplb.algorithm.DeepSeekBalancer().rebalance(request);
                    }
                }
                """), 1, dir.resolve("work1"));
        assertThat(compiled.exitCode()).as(compiled.output()).isZero();
        assertThat(compiled.error()).isIn("compile_error", "exception");
        assertThat(compiled.message()).contains("DeepSeekBalancer");
        assertThat(compiled.metrics().has("combined_score")).isFalse();

        Result reflective = run(write("Sneaky.java", HEADER + """
                public class Sneaky implements BalancerAlgorithm {
                    public String name() { return "s"; }
                    public String description() { return "s"; }
                    public Placement rebalance(BalancingRequest request) {
                        try {
                            Class<?> c = Class.forName("io.moelab.eplb.algorithm.DeepSeekBalancer");
                            return ((BalancerAlgorithm) c.getConstructor().newInstance()).rebalance(request);
                        } catch (ReflectiveOperationException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
                """), 1, dir.resolve("work2"));
        assertThat(reflective.exitCode()).as(reflective.output()).isZero();
        assertThat(reflective.error()).isEqualTo("exception");
        assertThat(reflective.message()).contains("ClassNotFoundException", "DeepSeekBalancer");
    }

    @Test
    void classWithoutAlgorithmIsNoAlgorithm() throws Exception {
        Result r = run(write("Nothing.java", "public class Nothing { }\n"), 1, dir.resolve("work"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.error()).isEqualTo("no_algorithm");
    }

    @Test
    void systemExitEndsTheProcessWithoutResults() throws Exception {
        Path metrics = dir.resolve("exit.txt");
        Result r = run(write("Quitter.java", HEADER + """
                public class Quitter implements BalancerAlgorithm {
                    public String name() { return "q"; }
                    public String description() { return "q"; }
                    public Placement rebalance(BalancingRequest request) {
                        System.exit(3);
                        return null;
                    }
                }
                """), 1, dir.resolve("work"), metrics);
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(metrics).doesNotExist();
    }

    @Test
    void badArgumentsExitTwo() throws Exception {
        List<String> argv = new ArrayList<>(command(dir.resolve("x.java"), 1, dir.resolve("w"), dir.resolve("m")));
        int stage = argv.indexOf("--stage");
        argv.set(stage + 1, "3");
        Result r = exec(argv, dir.resolve("m"), 1);
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.output()).contains("error: --stage must be 1 or 2");
    }

    private Path write(String name, String source) throws IOException {
        Path file = dir.resolve("src-" + name);
        Files.writeString(file, source, StandardCharsets.UTF_8);
        return file;
    }

    private static int lineOf(String source, String text) {
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError(text);
    }

    private Result run(Path program, int stage, Path workdir) throws Exception {
        return run(program, stage, workdir, dir.resolve("results-" + stage + ".txt"));
    }

    private Result run(Path program, int stage, Path workdir, Path results) throws Exception {
        return exec(command(program, stage, workdir, results), results, stage);
    }

    /** The evaluator's argv for a stage, placeholders substituted and the results file moved to {@code results}. */
    private static List<String> command(Path program, int stage, Path workdir, Path results) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> template = EplbTask.stageCommands(java, EplbTask.classpath(), "512", "quick").get(stage - 1);
        return template.stream().map(a -> a.replace(EplbTask.PROGRAM, program.toString())
                .replace(EplbTask.WORKDIR, workdir.toString()))
                .map(a -> a.equals(EplbTask.RESULTS) ? results.toString() : a).toList();
    }

    private static Result exec(List<String> argv, Path results, int stage) throws Exception {
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("harness timed out");
        }
        JsonNode json = null;
        if (Files.exists(results)) {
            StageScorer.Verdict v = EplbResults.score(stage, "quick", results);
            ObjectNode node = JsonMapper.shared().createObjectNode();
            v.metrics().forEach(node::put);
            if (v.error() != null) {
                node.put("error", v.error());
                node.put("error_message", v.errorMessage());
            }
            json = node;
        }
        return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8), json);
    }
}
