package io.moelab.evolve.task.eplb;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.evolve.config.Utf8Files;
import io.moelab.evolve.task.StageScorer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an EPLB stage leaves for the evolve process to score: the placements the candidate returned and the raw
 * timing samples, never a score. The harness ({@link Writer}) runs in the candidate's JVM, so anything it writes
 * could be the candidate's; the evolve process ({@link #score}) therefore re-checks every placement and computes
 * balancedness from its own copy of the workloads. The file is text, one item a line:
 *
 * <pre>
 * moelab-eplb-results 1
 * stage S suite NAME
 * plan L                     then L lines of R expert ids (slot order), once per planned case or window
 * timing K                   stage 2: then K lines "n ms_1 ... ms_n", one per timing round
 * end P                      P plans; a file without it was cut short
 * </pre>
 * or, for a candidate that failed in the harness, {@code error KIND} after the second line and the message.
 */
final class EplbResults {
    /** The results file, relative to the stage's working directory. */
    static final String FILE = "eplb-results.txt";
    /** Largest results file read: the default suite's is about 2 MB. */
    static final long MAX_BYTES = 32L << 20;
    private static final String MAGIC = "moelab-eplb-results 1";
    /** What {@code Double.toString} writes for a finite non-negative value. */
    private static final Pattern MILLIS = Pattern.compile("[0-9]{1,12}\\.[0-9]{1,20}(E-?[0-9]{1,3})?");
    private static final Pattern COUNT = Pattern.compile("0|[1-9][0-9]{0,8}");
    /** Workloads by suite, built once per evolve process: scoring re-reads them for every candidate. */
    private static final Map<String, List<EplbWorkloads.Workload>> WORKLOADS = new ConcurrentHashMap<>();

    private EplbResults() {
    }

    /** The scorer of the {@code eplb} task with a suite. */
    static StageScorer scorer(String suite) {
        EplbWorkloads.suite(suite); // refuses an unknown suite now, not at the first candidate
        return new StageScorer() {
            @Override
            public String outputFile() {
                return FILE;
            }

            @Override
            public Verdict score(int stage, Path file) {
                return EplbResults.score(stage, suite, file);
            }
        };
    }

    /** Builds a results file in the harness. */
    static final class Writer {
        private final StringBuilder text = new StringBuilder();
        private int plans;

        Writer(int stage, String suite) {
            text.append(MAGIC).append('\n').append("stage ").append(stage).append(" suite ").append(suite)
                    .append('\n');
        }

        /** Appends a placement the candidate returned (already checked by the harness). */
        void plan(Placement placement) {
            text.append("plan ").append(placement.layers()).append('\n');
            for (int l = 0; l < placement.layers(); l++) {
                for (int p = 0; p < placement.topology().replicas(); p++) {
                    if (p > 0) {
                        text.append(' ');
                    }
                    text.append(placement.expertAt(l, p));
                }
                text.append('\n');
            }
            plans++;
        }

        /** Appends the timing rounds: each round's per-call wall milliseconds. */
        void timing(List<double[]> rounds) {
            text.append("timing ").append(rounds.size()).append('\n');
            for (double[] round : rounds) {
                text.append(round.length);
                for (double ms : round) {
                    text.append(' ').append(ms);
                }
                text.append('\n');
            }
        }

        /** The complete file. */
        String finish() {
            return text + "end " + plans + "\n";
        }

        /** A file that reports the candidate's failure instead. */
        static String failure(int stage, String suite, CandidateFailure f) {
            String message = f.getMessage();
            if (message.length() > EplbHarness.MAX_MESSAGE) {
                message = message.substring(0, EplbHarness.MAX_MESSAGE);
            }
            return MAGIC + "\nstage " + stage + " suite " + suite + "\nerror " + f.kind().key() + "\n" + message
                    + (message.endsWith("\n") ? "" : "\n");
        }
    }

    /** The file is not a results file the harness could have written. */
    private static final class Malformed extends Exception {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Scores a stage from its results file: {@code no_metrics} when it is missing (a candidate that ended the JVM
     * early), {@code output_limit} past {@link #MAX_BYTES}, {@code invalid_metrics} when it is malformed or cut
     * short, {@code invalid_output} for a placement that fails {@link PlacementCheck}, the harness's own error
     * kind when it reports one, else the stage's metrics. Never throws.
     */
    static StageScorer.Verdict score(int stage, String suite, Path file) {
        String name = FILE + ": ";
        String text;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes((int) MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                return StageScorer.Verdict.failed("output_limit", name + "larger than " + MAX_BYTES + " bytes");
            }
            text = Utf8Files.strict(ByteBuffer.wrap(bytes));
        } catch (NoSuchFileException e) {
            return StageScorer.Verdict.failed("no_metrics", "exited without writing " + FILE + " (the harness "
                    + "writes it last, so the candidate ended the JVM before it)");
        } catch (CharacterCodingException e) {
            return StageScorer.Verdict.failed("invalid_metrics", name + "not UTF-8");
        } catch (IOException e) {
            return StageScorer.Verdict.failed("invalid_metrics", name + "cannot be read: " + e);
        }
        try {
            Lines lines = new Lines(text);
            lines.expect(MAGIC);
            lines.expect("stage " + stage + " suite " + suite);
            String next = lines.peek();
            if (next.startsWith("error ")) {
                return failure(next.substring("error ".length()), lines.rest());
            }
            Map<String, Double> metrics = stage == 1 ? stageOne(lines) : stageTwo(lines, suite);
            lines.expect("end " + lines.plans);
            lines.requireEnd();
            return new StageScorer.Verdict(metrics, null, "");
        } catch (Malformed e) {
            return StageScorer.Verdict.failed("invalid_metrics", name + e.getMessage());
        } catch (CandidateFailure f) {
            return StageScorer.Verdict.failed(f.kind().key(), f.getMessage());
        } catch (RuntimeException e) {
            return StageScorer.Verdict.failed("invalid_metrics", name + "not scorable: " + e);
        }
    }

    private static StageScorer.Verdict failure(String kind, String message) throws Malformed {
        for (CandidateFailure.Kind k : CandidateFailure.Kind.values()) {
            if (k.key().equals(kind)) {
                return StageScorer.Verdict.failed(kind, message.length() > EplbHarness.MAX_MESSAGE
                        ? message.substring(0, EplbHarness.MAX_MESSAGE) : message);
            }
        }
        throw new Malformed("unknown error kind '" + kind + "'");
    }

    /** Stage 1 as the harness plans it ({@link StagePlans#stageOne}): the mean balancedness of its plans. */
    private static Map<String, Double> stageOne(Lines lines) throws Malformed, CandidateFailure {
        List<EplbWorkloads.Case> cases = EplbWorkloads.stageOneCases();
        double[] sum = new double[1];
        StagePlans.stageOne(cases, (group, request, scoredOn, where) -> {
            Placement plan = lines.plan(request, where);
            sum[0] += PlacementEvaluator.score(plan, scoredOn).gpuBalancedness();
            return plan;
        });
        double balancedness = sum[0] / (2 * cases.size());
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("validity", 1.0);
        metrics.put("combined_score", EplbScore.stageOne(balancedness));
        metrics.put("stage1_balancedness", balancedness);
        metrics.put("stage1_cases", (double) cases.size());
        return metrics;
    }

    /** Stage 2 as the harness plans it ({@link StagePlans#stageTwo}): each workload's mean, their mean, timing. */
    private static Map<String, Double> stageTwo(Lines lines, String suiteName) throws Malformed, CandidateFailure {
        EplbWorkloads.Suite suite = EplbWorkloads.suite(suiteName);
        List<EplbWorkloads.Workload> workloads = WORKLOADS.computeIfAbsent(suiteName,
                k -> suite.workloads().stream().map(w -> w.get()).toList());
        double[] sums = new double[workloads.size()];
        StagePlans.stageTwo(workloads, (group, request, scoredOn, where) -> {
            Placement plan = lines.plan(request, where);
            sums[group] += PlacementEvaluator.score(plan, scoredOn).gpuBalancedness();
            return plan;
        });
        Map<String, Double> perWorkload = new LinkedHashMap<>();
        double total = 0;
        for (int w = 0; w < workloads.size(); w++) {
            double balancedness = sums[w] / (workloads.get(w).windows().size() - 1);
            perWorkload.put("balancedness_" + workloads.get(w).key(), balancedness);
            total += balancedness;
        }
        double balancedness = total / workloads.size();
        double[] timing = lines.timing(suite);
        double median = timing[0];
        Map<String, Double> metrics = new LinkedHashMap<>();
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

    /** A strict reader of the file's lines. */
    private static final class Lines {
        private final String[] lines;
        private int at;
        private int plans;

        Lines(String text) throws Malformed {
            if (!text.endsWith("\n")) {
                throw new Malformed("cut short (no final newline)");
            }
            lines = text.substring(0, text.length() - 1).split("\n", -1);
        }

        String peek() throws Malformed {
            if (at >= lines.length) {
                throw new Malformed("cut short after line " + at);
            }
            return lines[at];
        }

        String next() throws Malformed {
            String line = peek();
            at++;
            return line;
        }

        void expect(String line) throws Malformed {
            String got = next();
            if (!got.equals(line)) {
                throw new Malformed("line " + at + ": expected '" + line + "', got '" + shorten(got) + "'");
            }
        }

        void requireEnd() throws Malformed {
            if (at != lines.length) {
                throw new Malformed("line " + (at + 1) + ": text after the end");
            }
        }

        /** The rest of the file, as written after an {@code error} line. */
        String rest() {
            return String.join("\n", Arrays.copyOfRange(lines, at + 1, lines.length));
        }

        /** The next plan, as a placement for {@code request}, checked as the harness checks the candidate's. */
        Placement plan(BalancingRequest request, String where) throws Malformed, CandidateFailure {
            int layers = count(next(), "plan", where);
            int experts = request.weight().experts();
            int[][] phy2log = new int[Math.min(layers, lines.length - at)][];
            for (int l = 0; l < layers; l++) {
                String row = next();
                // Read in place, not split: a forged row of 16 million ids fits the file's 32 MiB, and a string
                // per id took a gigabyte of heap to refuse.
                int[] slots = new int[row.isEmpty() ? 0 : fields(row)];
                Matcher id = COUNT.matcher(row);
                int start = 0;
                for (int p = 0; p < slots.length; p++) {
                    int end = row.indexOf(' ', start);
                    end = end < 0 ? row.length() : end;
                    if (!id.region(start, end).matches()) {
                        throw new Malformed("line " + at + " (" + where + ", layer " + l + "): '"
                                + shorten(row.substring(start, end)) + "' is not an expert id");
                    }
                    slots[p] = Integer.parseInt(row, start, end, 10);
                    start = end + 1;
                }
                phy2log[l] = slots;
            }
            Placement placement;
            try {
                placement = Placement.of(request.topology(), experts, phy2log);
            } catch (InvalidInputException e) {
                throw new CandidateFailure(CandidateFailure.Kind.INVALID_OUTPUT, where + ": " + e.getMessage());
            }
            PlacementCheck.validate(placement, request, where);
            plans++;
            return placement;
        }

        /** The timing rounds: {lowest round median in ms, calls timed}, checked against the suite's bounds. */
        double[] timing(EplbWorkloads.Suite suite) throws Malformed {
            int rounds = count(next(), "timing", "timing");
            if (rounds != EplbHarness.ROUNDS) {
                throw new Malformed("line " + at + ": " + rounds + " timing rounds, expected " + EplbHarness.ROUNDS);
            }
            int perRound = EplbHarness.perRound(suite.maxTimedCalls());
            int minPerRound = EplbHarness.perRound(suite.minTimedCalls());
            double best = Double.POSITIVE_INFINITY;
            int calls = 0;
            for (int r = 0; r < rounds; r++) {
                String line = next();
                int space = line.indexOf(' ');
                String first = space < 0 ? line : line.substring(0, space);
                if (!COUNT.matcher(first).matches()) {
                    throw new Malformed("line " + at + ": '" + shorten(first) + "' is not a count");
                }
                int n = Integer.parseInt(first);
                // Counted before the line is split, for the reason plan rows are read in place.
                int samples = fields(line) - 1;
                if (n < minPerRound || n > perRound || samples != n) {
                    throw new Malformed("line " + at + ": timing round " + (r + 1) + " gives " + n + " calls and "
                            + samples + " samples, expected " + minPerRound + ".." + perRound);
                }
                String[] fields = line.split(" ", -1);
                double[] millis = new double[n];
                for (int i = 0; i < n; i++) {
                    if (!MILLIS.matcher(fields[i + 1]).matches()) {
                        throw new Malformed("line " + at + ": '" + shorten(fields[i + 1]) + "' is not a time in ms");
                    }
                    millis[i] = Double.parseDouble(fields[i + 1]);
                }
                best = Math.min(best, EplbHarness.median(millis));
                calls += n;
            }
            return new double[] {best, calls};
        }

        /** The number of space-separated fields of {@code line}. */
        private static int fields(String line) {
            int n = 1;
            for (int i = line.indexOf(' '); i >= 0; i = line.indexOf(' ', i + 1)) {
                n++;
            }
            return n;
        }

        private int count(String line, String word, String where) throws Malformed {
            String prefix = word + " ";
            if (!line.startsWith(prefix) || !COUNT.matcher(line.substring(prefix.length())).matches()) {
                throw new Malformed("line " + at + ": expected '" + word + " N' for " + where + ", got '"
                        + shorten(line) + "'");
            }
            return Integer.parseInt(line.substring(prefix.length()));
        }

        private static String shorten(String s) {
            return s.length() > 80 ? s.substring(0, 80) + "..." : s;
        }
    }
}
