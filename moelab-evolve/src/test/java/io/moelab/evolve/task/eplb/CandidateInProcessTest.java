package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness's parts in this JVM (EplbHarnessTest runs them in child JVMs, as the evaluator does, where only
 * their results are seen): the compiler's cache and messages, which class the loader picks, and the harness's
 * argument errors.
 */
class CandidateInProcessTest {
    private static final String HEADER = """
            import io.moelab.eplb.*;
            import io.moelab.eplb.algorithm.*;

            """;
    /** A balancer body: every slot holds expert {@code slot mod experts}. */
    private static final String BODY = """
                public String name() { return "n"; }
                public String description() { return "d"; }
                public Placement rebalance(BalancingRequest request) {
                    if (request.previous() == null && !request.history().isEmpty()) {
                        throw new IllegalStateException("history without the placement in service");
                    }
                    int r = request.topology().replicas();
                    int e = request.weight().experts();
                    int[][] phy2log = new int[request.weight().layers()][r];
                    for (int l = 0; l < phy2log.length; l++) {
                        for (int p = 0; p < r; p++) {
                            phy2log[l][p] = p % e;
                        }
                    }
                    return Placement.of(request.topology(), e, phy2log);
                }
            """;

    @TempDir
    Path dir;

    @Test
    void publicTypeNameIsTheFirstPublicTopLevelDeclaration() {
        assertThat(CandidateCompiler.publicTypeName("public class A {}")).isEqualTo("A");
        assertThat(CandidateCompiler.publicTypeName("class Hidden {}\n  public final class B$1 {}\n"))
                .isEqualTo("B$1");
        assertThat(CandidateCompiler.publicTypeName("public sealed abstract interface I {}")).isEqualTo("I");
        assertThat(CandidateCompiler.publicTypeName("public record R(int x) {}\npublic enum E {}")).isEqualTo("R");
        assertThat(CandidateCompiler.publicTypeName("public non-sealed strictfp static class _C {}"))
                .isEqualTo("_C");
        assertThat(CandidateCompiler.publicTypeName("class X { public class Inner {} }")).isEqualTo("EvolvedBalancer");
        assertThat(CandidateCompiler.publicTypeName("publicclass Y {}")).isEqualTo("EvolvedBalancer");
        assertThat(CandidateCompiler.publicTypeName("")).isEqualTo("EvolvedBalancer");
    }

    @Test
    void sha256OfTheUtf8Bytes() {
        // FIPS 180-2's example, and the UTF-8 bytes c3 a9 of e-acute (sha256sum(1)).
        assertThat(CandidateCompiler.sha256("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(CandidateCompiler.sha256("\u00e9"))
                .isEqualTo("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
    }

    @Test
    void aChangedSourceIsCompiledAgainAndTheSameOneIsNot() throws Exception {
        Path classes = dir.resolve("classes");
        String one = HEADER + "public class One implements BalancerAlgorithm {\n" + BODY + "}\n";
        assertThat(CandidateCompiler.compile(one, EplbTask.classpath(), classes)).isTrue();
        assertThat(Files.readString(classes.resolve(CandidateCompiler.HASH_FILE)))
                .isEqualTo(CandidateCompiler.sha256(one) + "\n");
        assertThat(classes.resolve("One.class")).exists();
        assertThat(CandidateCompiler.compile(one, EplbTask.classpath(), classes)).isFalse();

        String two = one.replace("One", "Two");
        assertThat(CandidateCompiler.compile(two, EplbTask.classpath(), classes)).isTrue();
        assertThat(classes.resolve("Two.class")).exists();
        assertThat(classes.resolve("One.class")).as("the other source's classes go").doesNotExist();

        // A hash file that names another source is not trusted.
        Files.writeString(classes.resolve(CandidateCompiler.HASH_FILE), CandidateCompiler.sha256(one) + "\n");
        assertThat(CandidateCompiler.compile(two, EplbTask.classpath(), classes)).isTrue();
    }

    @Test
    void compileErrorsNameFileLineAndColumnWithTheSourceLine() throws Exception {
        String source = "public class Bad {\n    void f() {\n        int x = 1\n    }\n}\n";
        CandidateFailure f = catchThrowableOfType(CandidateFailure.class,
                () -> CandidateCompiler.compile(source, EplbTask.classpath(), dir.resolve("c")));
        assertThat(f.kind()).isEqualTo(CandidateFailure.Kind.COMPILE_ERROR);
        assertThat(f.getMessage()).isEqualTo("Bad.java:3:18: error: ';' expected\n    int x = 1\n");
        assertThat(dir.resolve("c").resolve(CandidateCompiler.HASH_FILE)).doesNotExist();

        // A class of moelab's that is not the API: javac's error, then what candidates may use.
        String hidden = HEADER + "public class Copy {\n"
                + "    Object o = new io.moelab.eplb.algorithm.DeepSeekBalancer();\n}\n";
        CandidateFailure h = catchThrowableOfType(CandidateFailure.class,
                () -> CandidateCompiler.compile(hidden, EplbTask.classpath(), dir.resolve("h")));
        assertThat(h.getMessage()).startsWith("Copy.java:5:").contains("DeepSeekBalancer").endsWith("\nnote: "
                + "candidates see only java.*, javax.* and io.moelab.eplb.InvalidInputException, "
                + "io.moelab.eplb.LoadMatrix, io.moelab.eplb.Placement, io.moelab.eplb.Topology, "
                + "io.moelab.eplb.algorithm.BalancerAlgorithm, io.moelab.eplb.algorithm.BalancingRequest, "
                + "io.moelab.eplb.algorithm.PlacementMode\n");
    }

    @Test
    void apiTypesAndTheirNestedTypesAreAllowedAndNothingElse() {
        assertThat(CandidateLoader.isAllowedApi("io.moelab.eplb.Placement")).isTrue();
        assertThat(CandidateLoader.isAllowedApi("io.moelab.eplb.Placement$Builder")).isTrue();
        assertThat(CandidateLoader.isAllowedApi("io.moelab.eplb.algorithm.DeepSeekBalancer")).isFalse();
        assertThat(CandidateLoader.isAllowedApi("io.moelab.eplb.PlacementX")).isFalse();
        assertThat(CandidateLoader.isAllowedApi("java.lang.String")).isFalse();
    }

    /** Which class is the balancer, and the failures of each way to have none. */
    @Test
    void theLoaderPicksTheOnePublicConcreteBalancer() throws Exception {
        assertThat(instantiate("public class Top implements BalancerAlgorithm {\n" + BODY
                + "    public static class Nested implements BalancerAlgorithm {\n" + BODY + "    }\n}\n").getClass()
                .getName()).as("a top-level class wins over a nested one").isEqualTo("Top");
        assertThat(instantiate("public class Holder {\n    public static class Only implements BalancerAlgorithm {\n"
                + BODY + "    }\n    static class Hidden implements BalancerAlgorithm {\n" + BODY + "    }\n"
                + "    public abstract static class Half implements BalancerAlgorithm {\n    }\n}\n").getClass()
                .getName()).as("a nested one alone, beside non-public and abstract ones").isEqualTo("Holder$Only");

        assertThat(failure("public class Holder {\n    public static class A implements BalancerAlgorithm {\n" + BODY
                + "    }\n    public static class B implements BalancerAlgorithm {\n" + BODY + "    }\n}\n"))
                .isEqualTo("no_algorithm: expected one public class implementing BalancerAlgorithm, found 2: "
                        + "Holder$A, Holder$B");
        assertThat(failure("public class Nothing {\n}\n"))
                .isEqualTo("no_algorithm: no public class implements io.moelab.eplb.algorithm.BalancerAlgorithm");
        assertThat(failure("public interface Face extends BalancerAlgorithm {\n}\n"))
                .startsWith("no_algorithm: no public class");
        assertThat(failure("public class Arg implements BalancerAlgorithm {\n    public Arg(int x) {\n    }\n" + BODY
                + "}\n")).isEqualTo("no_algorithm: Arg has no public no-argument constructor");
        assertThat(failure("public class Thrower implements BalancerAlgorithm {\n    public Thrower() {\n"
                + "        throw new IllegalStateException(\"no\");\n    }\n" + BODY + "}\n"))
                .startsWith("exception: constructing Thrower threw java.lang.IllegalStateException: no\n"
                        + "    at Thrower.<init>(Thrower.java:6)");
        assertThat(failure("public class Init implements BalancerAlgorithm {\n"
                + "    static int x = Integer.parseInt(\"none\");\n"
                + BODY + "}\n")).startsWith("exception: constructing Init failed: "
                + "java.lang.ExceptionInInitializerError\n");
    }

    private BalancerAlgorithmHolder compiled(String body) throws Exception {
        Path classes = Files.createTempDirectory(dir, "classes");
        CandidateCompiler.compile(HEADER + body, EplbTask.classpath(), classes);
        return new BalancerAlgorithmHolder(CandidateLoader.open(classes));
    }

    private Object instantiate(String body) throws Exception {
        try (BalancerAlgorithmHolder h = compiled(body)) {
            return h.loader().instantiate();
        }
    }

    private String failure(String body) throws Exception {
        try (BalancerAlgorithmHolder h = compiled(body)) {
            CandidateFailure f = catchThrowableOfType(CandidateFailure.class, () -> h.loader().instantiate());
            assertThat(f).as("no failure").isNotNull();
            return f.kind().key() + ": " + f.getMessage();
        }
    }

    private record BalancerAlgorithmHolder(CandidateLoader loader) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            loader.close();
        }
    }

    /** Bad arguments: exit code 2, one error line and the usage, nothing written. */
    @Test
    void badArgumentsAreRefusedBeforeAnythingIsWritten() throws Exception {
        Path program = dir.resolve("P.java");
        Files.writeString(program, "public class P {}\n");
        Path work = dir.resolve("work");
        Path results = dir.resolve("results.txt");
        List<String> ok = List.of("--program", program.toString(), "--stage", "1", "--workdir", work.toString(),
                "--results", results.toString());
        record Case(List<String> argv, String error) {
        }
        List<Case> cases = new ArrayList<>();
        cases.add(new Case(with(ok, "--stage", "0"), "--stage must be 1 or 2, got '0'"));
        cases.add(new Case(with(ok, "--stage", "12"), "--stage must be 1 or 2, got '12'"));
        cases.add(new Case(concat(ok, "--suite", "big"), "--suite must be one of [default, quick], got 'big'"));
        cases.add(new Case(concat(ok, "--seed", "1"), "unknown argument '--seed'"));
        cases.add(new Case(concat(ok, "--suite"), "--suite needs a value"));
        cases.add(new Case(concat(ok, "--stage", "2"), "--stage given twice"));
        cases.add(new Case(ok.subList(2, ok.size()), "missing --program"));
        cases.add(new Case(ok.subList(0, 6), "missing --results"));
        cases.add(new Case(with(ok, "--program", dir.resolve("gone.java").toString()),
                "cannot read --program " + dir.resolve("gone.java") + ": java.nio.file.NoSuchFileException: "
                        + dir.resolve("gone.java")));
        for (Case c : cases) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream saved = System.err;
            int code;
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            try {
                code = EplbHarness.run(c.argv().toArray(String[]::new));
            } finally {
                System.setErr(saved);
            }
            assertThat(code).as(c.error()).isEqualTo(2);
            assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("error: " + c.error() + "\nusage: EplbHarness "
                    + "--program FILE --stage 1|2 --workdir DIR --results FILE [--suite default|quick]\n");
            assertThat(work).doesNotExist();
            assertThat(results).doesNotExist();
        }
    }

    /** The harness in this JVM: its results file scores as the child's does, and the default suite is default. */
    @Test
    void theHarnessWritesResultsTheScorerAccepts() throws Exception {
        Path program = dir.resolve("Cyclic.java");
        Files.writeString(program, HEADER + "public class Cyclic implements BalancerAlgorithm {\n" + BODY + "}\n");
        for (int stage = 1; stage <= 2; stage++) {
            Path results = dir.resolve("results-" + stage + ".txt");
            Files.writeString(results, "stale");
            int code = EplbHarness.run(new String[] {"--program", program.toString(), "--stage", String.valueOf(stage),
                    "--workdir", dir.resolve("work").toString(), "--results", results.toString(), "--suite", "quick"});
            assertThat(code).isZero();
            var verdict = EplbResults.score(stage, "quick", results);
            assertThat(verdict.error()).as(verdict.errorMessage()).isNull();
            assertThat(verdict.metrics().get("validity")).isEqualTo(1.0);
            if (stage == 2) {
                // The quick suite times at most 200 calls, 40 a round, and at least one a round.
                assertThat(verdict.metrics().get("timed_calls")).isBetween(5.0, 200.0);
            }
        }
        // A candidate's failure is written as its kind and message, and exits 0 all the same.
        Path nothing = dir.resolve("Nothing.java");
        Files.writeString(nothing, "public class Nothing {}\n");
        Path results = dir.resolve("results-failed.txt");
        assertThat(EplbHarness.run(new String[] {"--program", nothing.toString(), "--stage", "1", "--workdir",
                dir.resolve("work2").toString(), "--results", results.toString()})).isZero();
        assertThat(Files.readString(results)).isEqualTo("moelab-eplb-results 1\nstage 1 suite default\n"
                + "error no_algorithm\nno public class implements io.moelab.eplb.algorithm.BalancerAlgorithm\n");
    }

    /**
     * The harness checks each plan before it records it and stops at the first bad one, reporting the case: here a
     * plan of one layer for the second case, of three, and a null plan. A candidate's exception names its own
     * frames, not the harness's.
     */
    @Test
    void theHarnessStopsAtTheFirstBadPlanOrException() throws Exception {
        String oneLayer = HEADER + "public class OneLayer implements BalancerAlgorithm {\n" + BODY.replace(
                "new int[request.weight().layers()][r]", "new int[1][r]") + "}\n";
        assertThat(harness(oneLayer, "OneLayer")).startsWith("error invalid_output\ncase 2 (3 layers, 12 experts, "
                + "R=16, G=4 on 2 nodes (hierarchical)): placement has 1 layer, expected 3");
        String nothing = HEADER + "public class Null implements BalancerAlgorithm {\n" + BODY.replace(
                "int r = request", "if (true) return null;\n        int r = request") + "}\n";
        assertThat(harness(nothing, "Null")).isEqualTo("error invalid_output\ncase 1 (1 layer, 8 experts, R=8 on 2 "
                + "GPUs): rebalance returned null\n");
        String thrower = HEADER + "public class Thrower implements BalancerAlgorithm {\n" + BODY.replace(
                "int r = request", "if (true) throw new IllegalStateException(\"boom\");\n        int r = request")
                + "}\n";
        assertThat(harness(thrower, "Thrower")).startsWith("error exception\nrebalance threw on case 1 (1 layer, 8 "
                + "experts, R=8 on 2 GPUs): java.lang.IllegalStateException: boom\n    at Thrower.rebalance(Thrower"
                + ".java:").doesNotContain("EplbHarness");
    }

    /** The results file of stage 1 of {@code source}, from its error line on. */
    private String harness(String source, String name) throws Exception {
        Path program = dir.resolve(name + ".java");
        Files.writeString(program, source);
        Path results = dir.resolve(name + ".txt");
        assertThat(EplbHarness.run(new String[] {"--program", program.toString(), "--stage", "1", "--workdir",
                dir.resolve("work-" + name).toString(), "--results", results.toString(), "--suite", "quick"}))
                .isZero();
        String text = Files.readString(results);
        String header = "moelab-eplb-results 1\nstage 1 suite quick\n";
        assertThat(text).startsWith(header);
        return text.substring(header.length());
    }

    /** Candidates load java.* and javax.* classes, the API, and nothing else of the JDK's or moelab's. */
    @Test
    void candidatesSeeJavaAndJavaxButNotTheJdksInternals() throws Exception {
        String probe = "public class Probe implements BalancerAlgorithm {\n"
                + "    public Probe() throws Exception {\n"
                + "        javax.crypto.Cipher.class.getName();\n"
                + "        java.util.List.of(1);\n"
                + "        for (String hidden : new String[] {\"sun.misc.Unsafe\", \"jdk.internal.misc.Unsafe\",\n"
                + "                \"io.moelab.eplb.algorithm.DeepSeekBalancer\"}) {\n"
                + "            try {\n"
                + "                Class.forName(hidden);\n"
                + "                throw new IllegalStateException(hidden + \" is visible\");\n"
                + "            } catch (ClassNotFoundException expected) {\n"
                + "            }\n"
                + "        }\n"
                + "    }\n" + BODY + "}\n";
        assertThat(instantiate(probe).getClass().getName()).isEqualTo("Probe");
    }

    /** javac's error on the last line of a source without a final newline still quotes that line. */
    @Test
    void anErrorOnTheLastLineQuotesIt() {
        CandidateFailure f = catchThrowableOfType(CandidateFailure.class,
                () -> CandidateCompiler.compile("public class Open {", EplbTask.classpath(), dir.resolve("c")));
        assertThat(f.getMessage()).startsWith("Open.java:1:").endsWith(": error: reached end of file while "
                + "parsing\n    public class Open {\n");
    }

    @Test
    void medianAndCallsPerRound() {
        assertThat(EplbHarness.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(EplbHarness.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
        assertThat(EplbHarness.median(new double[] {7})).isEqualTo(7);
        double[] unsorted = {5, 0.5};
        assertThat(EplbHarness.median(unsorted)).isEqualTo(2.75);
        assertThat(unsorted).as("the caller's array is left as it was").containsExactly(5, 0.5);
        assertThat(EplbHarness.perRound(200)).isEqualTo(40);
        assertThat(EplbHarness.perRound(9)).isEqualTo(1);
        assertThat(EplbHarness.perRound(10)).isEqualTo(2);
        assertThat(EplbHarness.perRound(4)).isEqualTo(1);
    }

    private static List<String> with(List<String> argv, String option, String value) {
        List<String> out = new ArrayList<>(argv);
        out.set(out.indexOf(option) + 1, value);
        return out;
    }

    private static List<String> concat(List<String> argv, String... more) {
        List<String> out = new ArrayList<>(argv);
        out.addAll(List.of(more));
        return out;
    }
}
