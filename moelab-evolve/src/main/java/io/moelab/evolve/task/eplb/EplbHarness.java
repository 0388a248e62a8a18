package io.moelab.evolve.task.eplb;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.io.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Evaluates one candidate program of the {@code eplb} task; run in a child JVM by the evolve evaluator:
 *
 * <pre>
 * java -Xmx512m -cp CLASSPATH io.moelab.evolve.task.eplb.EplbHarness --program FILE --stage 1|2 --workdir DIR
 *      --metrics FILE [--suite default|quick]
 * </pre>
 *
 * <p>It compiles the program (cached in {@code DIR/classes} by source hash), loads it so that it sees only
 * {@code java.*}, {@code javax.*} and the EPLB API, instantiates its public {@code BalancerAlgorithm} and runs
 * it on the main thread. Stage 1 checks validity on small random cases; stage 2 scores next-window GPU
 * balancedness on the suite and times a rebalance ({@link EplbScore}). It writes one flat JSON object to the
 * metrics file, atomically: the metrics, or {@code error} ({@code compile_error}, {@code exception},
 * {@code invalid_output}, {@code no_algorithm}) and {@code error_message}; the exit code is 0 either way.
 * Bad arguments exit with 2. A candidate that exits the JVM or hangs is left to the parent, which sees the
 * exit code or a missing metrics file.
 */
public final class EplbHarness {
    /** Longest {@code error_message} written. */
    static final int MAX_MESSAGE = 4000;
    /** Earlier windows passed as history in stage 2. */
    private static final int HISTORY_WINDOWS = 4;

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

    private record Arguments(Path program, int stage, Path workdir, Path metrics, String suite) {
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
            System.err.println("usage: EplbHarness --program FILE --stage 1|2 --workdir DIR --metrics FILE"
                    + " [--suite default|quick]");
            return 2;
        }
        Files.deleteIfExists(a.metrics());
        Files.createDirectories(a.workdir());
        Map<String, Object> metrics;
        long start = System.nanoTime();
        try {
            CandidateCompiler.compile(source, System.getProperty("java.class.path"), a.workdir().resolve("classes"));
            try (CandidateLoader loader = CandidateLoader.open(a.workdir().resolve("classes"))) {
                BalancerAlgorithm algorithm = loader.instantiate();
                metrics = a.stage() == 1 ? stageOne(algorithm, loader.candidateClasses())
                        : stageTwo(algorithm, loader.candidateClasses(), EplbWorkloads.suite(a.suite()));
            }
        } catch (CandidateFailure f) {
            metrics = new LinkedHashMap<>();
            metrics.put("error", f.kind().key());
            String message = f.getMessage();
            metrics.put("error_message", message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) : message);
        }
        writeMetrics(a.metrics(), metrics);
        System.out.printf("eplb stage %d (%s): %s in %.2f s%n", a.stage(), a.suite(),
                metrics.containsKey("error") ? metrics.get("error") : "combined_score=" + metrics.get("combined_score"),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static Arguments parse(String[] args) throws BadArguments {
        Map<String, String> options = new LinkedHashMap<>();
        Set<String> known = Set.of("--program", "--stage", "--workdir", "--metrics", "--suite");
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
        for (String required : List.of("--program", "--stage", "--workdir", "--metrics")) {
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
                Path.of(options.get("--workdir")), Path.of(options.get("--metrics")), suite);
    }

    /** Validity on the small cases; the score is 90 × mean balancedness on the planned loads themselves. */
    private static Map<String, Object> stageOne(BalancerAlgorithm algorithm, Set<String> own) throws CandidateFailure {
        List<EplbWorkloads.Case> cases = EplbWorkloads.stageOneCases();
        double sum = 0;
        int scored = 0;
        for (int i = 0; i < cases.size(); i++) {
            EplbWorkloads.Case c = cases.get(i);
            String where = "case " + (i + 1) + " (" + c.name() + ")";
            BalancingRequest first = BalancingRequest.of(c.first(), c.topology());
            Placement plan = call(algorithm, first, where, own);
            PlacementCheck.validate(plan, first, where);
            sum += PlacementEvaluator.score(plan, c.first()).gpuBalancedness();
            String again = where + ", second call with history and previous placement";
            BalancingRequest second = new BalancingRequest(c.second(), List.of(c.first()), c.topology(), plan);
            Placement next = call(algorithm, second, again, own);
            PlacementCheck.validate(next, second, again);
            sum += PlacementEvaluator.score(next, c.second()).gpuBalancedness();
            scored += 2;
        }
        double balancedness = sum / scored;
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("validity", 1.0);
        metrics.put("combined_score", EplbScore.stageOne(balancedness));
        metrics.put("stage1_balancedness", balancedness);
        metrics.put("stage1_cases", (double) cases.size());
        return metrics;
    }

    /** Next-window balancedness on the suite, then the rebalance time on its largest shape. */
    private static Map<String, Object> stageTwo(BalancerAlgorithm algorithm, Set<String> own,
                                                EplbWorkloads.Suite suite) throws CandidateFailure {
        Map<String, Object> perWorkload = new LinkedHashMap<>();
        double total = 0;
        BalancingRequest timed = null;
        for (int w = 0; w < suite.workloads().size(); w++) {
            EplbWorkloads.Workload workload = suite.workloads().get(w).get();
            List<LoadMatrix> windows = workload.windows();
            double sum = 0;
            Placement previous = null;
            for (int i = 0; i + 1 < windows.size(); i++) {
                String where = "workload " + workload.key() + ", window " + i;
                BalancingRequest request = new BalancingRequest(windows.get(i),
                        windows.subList(Math.max(0, i - HISTORY_WINDOWS), i), workload.topology(), previous);
                Placement plan = call(algorithm, request, where, own);
                PlacementCheck.validate(plan, request, where);
                sum += PlacementEvaluator.score(plan, windows.get(i + 1)).gpuBalancedness();
                previous = plan;
            }
            double balancedness = sum / (windows.size() - 1);
            perWorkload.put("balancedness_" + workload.key(), balancedness);
            total += balancedness;
            if (w == suite.timingWorkload()) {
                timed = BalancingRequest.of(windows.getFirst(), workload.topology());
            }
        }
        double balancedness = total / suite.workloads().size();
        double[] timing = time(algorithm, timed, suite, own);
        double median = timing[0];
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("validity", 1.0);
        metrics.put("combined_score", EplbScore.combined(balancedness, median));
        metrics.put("balancedness", balancedness);
        metrics.put("rebalance_ms", median);
        metrics.put("speed_score", EplbScore.speedScore(median));
        metrics.put("time_penalty", EplbScore.timePenalty(median));
        metrics.putAll(perWorkload);
        metrics.put("timed_calls", timing[1]);
        return metrics;
    }

    /** Timing rounds; the least disturbed one counts. */
    private static final int ROUNDS = 5;

    /**
     * Wall milliseconds per rebalance after the warm-up: the lowest of the per-round medians. A shared machine
     * slows some rounds by multiples (other processes, a stray GC); the quietest round is what the code costs.
     * Returns {milliseconds, timed calls}.
     */
    private static double[] time(BalancerAlgorithm algorithm, BalancingRequest request, EplbWorkloads.Suite suite,
                                 Set<String> own) throws CandidateFailure {
        String where = "timing run";
        long warmupEnd = System.nanoTime() + suite.warmupMillis() * 1_000_000L;
        do {
            call(algorithm, request, where, own);
        } while (System.nanoTime() < warmupEnd);
        int perRound = Math.max(1, suite.maxTimedCalls() / ROUNDS);
        int minPerRound = Math.max(1, suite.minTimedCalls() / ROUNDS);
        long roundNanos = suite.timingMillis() * 1_000_000L / ROUNDS;
        double best = Double.POSITIVE_INFINITY;
        int calls = 0;
        for (int round = 0; round < ROUNDS; round++) {
            double[] millis = new double[perRound];
            int n = 0;
            long deadline = System.nanoTime() + roundNanos;
            while (n < minPerRound || (n < millis.length && System.nanoTime() < deadline)) {
                long t0 = System.nanoTime();
                call(algorithm, request, where, own);
                millis[n++] = (System.nanoTime() - t0) / 1e6;
            }
            best = Math.min(best, median(Arrays.copyOf(millis, n)));
            calls += n;
        }
        return new double[] {best, calls};
    }

    private static double median(double[] values) {
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

    private static void writeMetrics(Path file, Map<String, Object> metrics) throws IOException {
        StringWriter text = new StringWriter();
        JsonWriter json = new JsonWriter(text).beginObject();
        for (Map.Entry<String, Object> e : metrics.entrySet()) {
            json.name(e.getKey());
            if (e.getValue() instanceof Double d) {
                json.value(d.doubleValue());
            } else {
                json.value(String.valueOf(e.getValue()));
            }
        }
        json.endObject().finish();
        AtomicFiles.writeString(file, text.toString());
    }
}
