package io.moelab.evolve.task.eplb;

import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Evaluates one candidate program of the {@code eplb} task; run in a child JVM by the evolve evaluator:
 *
 * <pre>
 * java -Xmx512m -cp CLASSPATH io.moelab.evolve.task.eplb.EplbHarness --program FILE --stage 1|2 --workdir DIR
 *      --results FILE [--suite default|quick]
 * </pre>
 *
 * <p>It compiles the program (cached in {@code DIR/classes} by source hash), loads it so that it sees only
 * {@code java.*}, {@code javax.*} and the EPLB API, instantiates its public {@code BalancerAlgorithm} and runs
 * it on the main thread. Stage 1 plans small random cases; stage 2 plans every window of the suite and times a
 * rebalance. It checks each placement (to stop at the first bad one) but computes no score: the candidate runs
 * in this JVM and could fake one. It writes, atomically and last, an {@link EplbResults} file of the
 * placements and the raw timing samples, or of the candidate's failure ({@code compile_error}, {@code exception},
 * {@code invalid_output}, {@code no_algorithm}); the evolve process scores that file. The exit code is 0 either
 * way; bad arguments exit with 2. A candidate that exits the JVM or hangs is left to the parent, which sees the
 * exit code or a missing results file.
 */
public final class EplbHarness {
    /** Longest {@code error_message} written. */
    static final int MAX_MESSAGE = 4000;

    private EplbHarness() {
    }

    /**
     * Runs the harness and exits with its code (see the class comment).
     *
     * @param args the arguments of the class comment
     * @throws IOException if the working directory or the metrics file cannot be written
     */
    public static void main(String[] args) throws IOException {
        int code = run(args);
        System.out.flush();
        System.exit(code);
    }

    private record Arguments(Path program, int stage, Path workdir, Path results, String suite) {
    }

    private static final class BadArguments extends Exception {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        BadArguments(String message) {
            super(message);
        }
    }

    static int run(String[] args) throws IOException {
        Arguments a;
        String source;
        try {
            a = parse(args);
            try {
                source = Files.readString(a.program(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new BadArguments("cannot read --program " + a.program() + ": " + e);
            }
        } catch (BadArguments e) {
            System.err.println("error: " + e.getMessage());
            System.err.println("usage: EplbHarness --program FILE --stage 1|2 --workdir DIR --results FILE"
                    + " [--suite default|quick]");
            return 2;
        }
        Files.deleteIfExists(a.results());
        Files.createDirectories(a.workdir());
        EplbResults.Writer results = new EplbResults.Writer(a.stage(), a.suite());
        String text;
        String summary;
        long start = System.nanoTime();
        try {
            CandidateCompiler.compile(source, System.getProperty("java.class.path"), a.workdir().resolve("classes"));
            try (CandidateLoader loader = CandidateLoader.open(a.workdir().resolve("classes"))) {
                BalancerAlgorithm algorithm = loader.instantiate();
                if (a.stage() == 1) {
                    stageOne(algorithm, loader.candidateClasses(), results);
                } else {
                    stageTwo(algorithm, loader.candidateClasses(), EplbWorkloads.suite(a.suite()), results);
                }
            }
            text = results.finish();
            summary = "planned every case";
        } catch (CandidateFailure f) {
            text = EplbResults.Writer.failure(a.stage(), a.suite(), f);
            summary = f.kind().key();
        }
        AtomicFiles.writeString(a.results(), text);
        System.out.printf(Locale.ROOT, "eplb stage %d (%s): %s in %.2f s%n", a.stage(), a.suite(), summary,
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static Arguments parse(String[] args) throws BadArguments {
        Map<String, String> options = new LinkedHashMap<>();
        Set<String> known = Set.of("--program", "--stage", "--workdir", "--results", "--suite");
        for (int i = 0; i < args.length; i += 2) {
            if (!known.contains(args[i])) {
                throw new BadArguments("unknown argument '" + args[i] + "'");
            }
            if (i + 1 >= args.length) {
                throw new BadArguments(args[i] + " needs a value");
            }
            if (options.put(args[i], args[i + 1]) != null) {
                throw new BadArguments(args[i] + " given twice");
            }
        }
        for (String required : List.of("--program", "--stage", "--workdir", "--results")) {
            if (!options.containsKey(required)) {
                throw new BadArguments("missing " + required);
            }
        }
        String stage = options.get("--stage");
        if (!stage.equals("1") && !stage.equals("2")) {
            throw new BadArguments("--stage must be 1 or 2, got '" + stage + "'");
        }
        String suite = options.getOrDefault("--suite", "default");
        if (!EplbWorkloads.SUITES.contains(suite)) {
            throw new BadArguments("--suite must be one of " + EplbWorkloads.SUITES + ", got '" + suite + "'");
        }
        return new Arguments(Path.of(options.get("--program")), Integer.parseInt(stage),
                Path.of(options.get("--workdir")), Path.of(options.get("--results")), suite);
    }

    /** Plans each small case twice (the second time with history and the first plan), checking each plan. */
    private static void stageOne(BalancerAlgorithm algorithm, Set<String> own, EplbResults.Writer results)
            throws CandidateFailure {
        StagePlans.stageOne(EplbWorkloads.stageOneCases(), recorded(algorithm, own, results));
    }

    /** Plans every window of the suite, then times a rebalance on its largest shape. */
    private static void stageTwo(BalancerAlgorithm algorithm, Set<String> own, EplbWorkloads.Suite suite,
                                 EplbResults.Writer results) throws CandidateFailure {
        List<EplbWorkloads.Workload> workloads = suite.workloads().stream().map(Supplier::get).toList();
        StagePlans.stageTwo(workloads, recorded(algorithm, own, results));
        EplbWorkloads.Workload timed = workloads.get(suite.timingWorkload());
        results.timing(time(algorithm, BalancingRequest.of(timed.windows().getFirst(), timed.topology()), suite,
                own));
    }

    /** A step that has the candidate plan, checks the plan and records it for the evolve process to score. */
    private static StagePlans.Step<RuntimeException> recorded(BalancerAlgorithm algorithm, Set<String> own,
                                                              EplbResults.Writer results) {
        return (group, request, scoredOn, where) -> {
            Placement plan = call(algorithm, request, where, own);
            PlacementCheck.validate(plan, request, where);
            results.plan(plan);
            return plan;
        };
    }

    /** Timing rounds; the least disturbed one counts. */
    static final int ROUNDS = 5;

    /** Timed calls per round for a suite's total. */
    static int perRound(int totalCalls) {
        return Math.max(1, totalCalls / ROUNDS);
    }

    /**
     * Wall milliseconds of each timed rebalance after the warm-up, round by round. The score takes the lowest of
     * the per-round medians: a shared machine slows some rounds by multiples (other processes, a stray GC); the
     * quietest round is what the code costs.
     */
    private static List<double[]> time(BalancerAlgorithm algorithm, BalancingRequest request, EplbWorkloads.Suite suite,
                                 Set<String> own) throws CandidateFailure {
        String where = "timing run";
        long warmupEnd = System.nanoTime() + suite.warmupMillis() * 1_000_000L;
        do {
            call(algorithm, request, where, own);
        } while (System.nanoTime() < warmupEnd);
        int perRound = perRound(suite.maxTimedCalls());
        int minPerRound = perRound(suite.minTimedCalls());
        long roundNanos = suite.timingMillis() * 1_000_000L / ROUNDS;
        List<double[]> rounds = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            double[] millis = new double[perRound];
            int n = 0;
            long deadline = System.nanoTime() + roundNanos;
            while (n < minPerRound || (n < millis.length && System.nanoTime() < deadline)) {
                long t0 = System.nanoTime();
                call(algorithm, request, where, own);
                millis[n++] = (System.nanoTime() - t0) / 1e6;
            }
            rounds.add(Arrays.copyOf(millis, n));
        }
        return rounds;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** One rebalance by the candidate; anything it throws becomes an {@code exception} failure. */
    private static Placement call(BalancerAlgorithm algorithm, BalancingRequest request, String where,
                                  Set<String> own) throws CandidateFailure {
        try {
            return algorithm.rebalance(request);
        } catch (Throwable t) {
            throw new CandidateFailure(CandidateFailure.Kind.EXCEPTION,
                    "rebalance threw on " + where + ": " + Failures.describe(t, own));
        }
    }
}
