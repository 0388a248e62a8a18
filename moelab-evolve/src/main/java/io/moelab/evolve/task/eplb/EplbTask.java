package io.moelab.evolve.task.eplb;

import io.moelab.eplb.Placement;
import io.moelab.evolve.task.StageScorer;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The built-in {@code eplb} task: evolve one Java class implementing moelab's {@code BalancerAlgorithm},
 * starting from DeepSeek's EPLB, run by {@link EplbHarness} in child JVMs and scored with {@link EplbScore} by
 * {@link #scorer} in the evolve process, from the placements the harness records.
 */
public final class EplbTask {
    /** Placeholder, in {@link #stageCommands}, for the candidate's source file. */
    public static final String PROGRAM = "{program}";
    /** Placeholder for the candidate's work directory (compiled classes are cached there across stages). */
    public static final String WORKDIR = "{workdir}";
    /**
     * The results file a stage writes (the candidate's placements and timing samples, see {@link #scorer}),
     * relative to the stage's working directory.
     */
    public static final String RESULTS = EplbResults.FILE;

    private static final String INITIAL_PROGRAM = "initial_program.java";

    private EplbTask() {
    }

    /** The task's name: {@code eplb}. */
    public static String name() {
        return "eplb";
    }

    /** The language of candidate programs: {@code java}. */
    public static String language() {
        return "java";
    }

    /** The file name a candidate program is stored under: {@code EvolvedBalancer.java}. */
    public static String programFileName() {
        return "EvolvedBalancer.java";
    }

    /** The metric the evolution maximises: {@code combined_score}. */
    public static String fitnessMetric() {
        return "combined_score";
    }

    /** The starting program: DeepSeek's EPLB as a self-contained class, with one evolve block. */
    public static String initialProgram() {
        try (InputStream in = EplbTask.class.getResourceAsStream(INITIAL_PROGRAM)) {
            if (in == null) {
                throw new IllegalStateException("resource missing: " + INITIAL_PROGRAM);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The task-specific system prompt for the model. It names no answer form: the user message asks for
     * SEARCH/REPLACE edits or a whole program, as {@code diff_based_evolution} says.
     */
    public static String systemMessage() {
        return """
                You are an expert in high-performance Java and in expert-parallel load balancing (EPLB) for \
                Mixture-of-Experts inference.

                The program is ONE Java source file: a public class implementing \
                io.moelab.eplb.algorithm.BalancerAlgorithm with methods name(), description() and \
                Placement rebalance(BalancingRequest request). The request holds weight (a LoadMatrix: \
                layers x experts, the load of the latest window; load(layer, expert), copyLayer(layer, double[])), \
                history (earlier windows, oldest first, possibly empty), topology (Topology: replicas R physical \
                slots per layer, groups G, nodes N, gpus M; slot p lives on GPU p / (R / M), GPU g on node \
                g / (M / N)) and previous (the placement in service, or null). Return a Placement for every \
                layer: Placement.withRanks(topology, experts, phy2log, phyRank) or Placement.of(topology, experts, \
                phy2log), where phy2log[layer][slot] is the logical expert in each of the R slots. Every expert \
                needs at least one replica; experts may have several.

                Objective: the plan made on window i is scored on window i+1 (traffic drifts) by GPU \
                balancedness B = sum over layers of mean GPU load / sum over layers of max GPU load (1 is \
                perfect), on synthetic drifting traces (26 layers x 64 experts and 58 x 256, R=288) and real \
                DeepSeek-V3 loads. Rebalance time t is the median wall time of one call (the quietest of five timing \
                rounds) on the 58 x 256, R=288, \
                32-GPU shape. combined_score = 90 * B + min(10, 10 / t_ms) - max(0, t_ms - 10): balance \
                dominates; speed earns up to 10 points (the full bonus at 1 ms or faster) and every millisecond \
                above 10 ms costs a point.

                Rules: keep the class public with a public no-argument constructor; no package line. Use only \
                java.* and the API types io.moelab.eplb.{Placement, Topology, LoadMatrix, \
                InvalidInputException} and io.moelab.eplb.algorithm.{BalancerAlgorithm, BalancingRequest, \
                PlacementMode}; every other class is invisible at compile and run time. Be deterministic, \
                single-threaded and stateless between calls; never call System.exit. Change only the code \
                between // EVOLVE-BLOCK-START and // EVOLVE-BLOCK-END; the user message says in which form to \
                answer (SEARCH/REPLACE edits or the whole program).
                """;
    }

    /**
     * The argv of each evaluation stage (stage 1: validity, stage 2: score), with {@link #PROGRAM} and
     * {@link #WORKDIR} left in place for the evaluator to substitute; each writes {@link #RESULTS} in its working
     * directory, for {@link #scorer}.
     *
     * @param javaExecutable the {@code java} launcher of a JDK (the harness compiles with javac in-process)
     * @param classpath      the harness's class path, e.g. {@link #classpath()}
     * @param heapMb         the child JVM's maximum heap in MiB (a number, or a placeholder such as
     *                       {@code {memory_mb}})
     * @param suite          {@code default}, or {@code quick} for tests
     */
    public static List<List<String>> stageCommands(String javaExecutable, String classpath, String heapMb,
                                                   String suite) {
        List<List<String>> stages = new ArrayList<>();
        for (String stage : List.of("1", "2")) {
            stages.add(List.of(javaExecutable, "-Xmx" + heapMb + "m", "-XX:+UseSerialGC", "-cp", classpath,
                    EplbHarness.class.getName(), "--program", PROGRAM, "--stage", stage, "--workdir", WORKDIR,
                    "--results", RESULTS, "--suite", suite));
        }
        return List.copyOf(stages);
    }

    /**
     * Scores the stages in the evolve process from their {@link #RESULTS} files: every placement re-checked and
     * balancedness computed from the process's own copy of the suite's workloads; only the timing samples are
     * taken from the child, where the candidate runs.
     *
     * @param suite {@code default} or {@code quick}, as given to {@link #stageCommands}
     * @throws IllegalArgumentException for an unknown suite
     */
    public static StageScorer scorer(String suite) {
        return EplbResults.scorer(suite);
    }

    /**
     * The class path the harness needs: where this module's classes and moelab-eplb's classes were loaded from
     * ({@code target/classes} directories or jars).
     */
    public static String classpath() {
        Set<String> entries = new LinkedHashSet<>();
        for (Class<?> c : List.of(EplbHarness.class, Placement.class)) {
            CodeSource source = c.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                throw new IllegalStateException("cannot locate the classes of " + c.getName());
            }
            try {
                entries.add(Path.of(source.getLocation().toURI()).toString());
            } catch (URISyntaxException e) {
                throw new IllegalStateException("bad code source of " + c.getName() + ": " + source.getLocation(), e);
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
