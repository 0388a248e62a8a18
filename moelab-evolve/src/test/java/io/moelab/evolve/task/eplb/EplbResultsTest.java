package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.DeepSeekBalancer;
import io.moelab.evolve.task.StageScorer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evolve process's reading of a results file, at the edges of what it accepts: the size limit, the timing
 * rounds' bounds and samples, a candidate's failure message, and the line numbers its refusals give.
 */
class EplbResultsTest {
    private static final String HEADER_1 = "moelab-eplb-results 1\nstage 1 suite quick\n";

    @TempDir
    Path dir;

    private StageScorer.Verdict score(int stage, byte[] bytes) throws IOException {
        Path file = dir.resolve("results.txt");
        Files.write(file, bytes);
        return EplbResults.score(stage, "quick", file);
    }

    private String score(int stage, String text) throws IOException {
        StageScorer.Verdict v = score(stage, text.getBytes(StandardCharsets.UTF_8));
        return v.error() + ": " + v.errorMessage();
    }

    @Test
    void aFileOfMoreThan32MibIsAnOutputLimitAndOneOfExactly32MibIsRead() throws IOException {
        byte[] at = new byte[32 << 20];
        java.util.Arrays.fill(at, (byte) 'x');
        StageScorer.Verdict read = score(1, at);
        assertThat(read.error()).isEqualTo("invalid_metrics");
        assertThat(read.errorMessage()).isEqualTo("eplb-results.txt: cut short (no final newline)");
        StageScorer.Verdict over = score(1, java.util.Arrays.copyOf(at, at.length + 1));
        assertThat(over.error()).isEqualTo("output_limit");
        assertThat(over.errorMessage()).isEqualTo("eplb-results.txt: larger than 33554432 bytes");
    }

    @Test
    void bytesThatAreNotUtf8OrAFileThatCannotBeReadAreInvalidMetrics() throws IOException {
        StageScorer.Verdict v = score(1, new byte[] {'m', (byte) 0xff, '\n'});
        assertThat(v.error() + ": " + v.errorMessage()).isEqualTo("invalid_metrics: eplb-results.txt: not UTF-8");
        Path folder = Files.createDirectory(dir.resolve("folder"));
        StageScorer.Verdict d = EplbResults.score(1, "quick", folder);
        assertThat(d.error()).isEqualTo("invalid_metrics");
        assertThat(d.errorMessage()).startsWith("eplb-results.txt: cannot be read: ");
    }

    /** A candidate's failure as the harness reports it: the message is kept whole up to 4000 characters. */
    @Test
    void aFailuresMessageIsCutTo4000Characters() throws IOException {
        assertThat(score(1, HEADER_1 + "error compile_error\nA.java:1: error\n    x\n"))
                .isEqualTo("compile_error: A.java:1: error\n    x");
        assertThat(score(1, HEADER_1 + "error exception\n" + "y".repeat(5000) + "\n"))
                .isEqualTo("exception: " + "y".repeat(4000));
        assertThat(score(1, HEADER_1 + "error invalid_output\n" + "z".repeat(4000) + "\n"))
                .isEqualTo("invalid_output: " + "z".repeat(4000));

        CandidateFailure f = new CandidateFailure(CandidateFailure.Kind.EXCEPTION, "w".repeat(4001));
        assertThat(EplbResults.Writer.failure(2, "quick", f)).isEqualTo("moelab-eplb-results 1\nstage 2 suite quick\n"
                + "error exception\n" + "w".repeat(4000) + "\n");
        CandidateFailure ends = new CandidateFailure(CandidateFailure.Kind.NO_ALGORITHM, "none\n");
        assertThat(EplbResults.Writer.failure(1, "default", ends)).isEqualTo("moelab-eplb-results 1\n"
                + "stage 1 suite default\nerror no_algorithm\nnone\n");
    }

    /**
     * A forged row of 16 million expert ids fits in the 32 MiB a results file may take. Split into a string per id
     * it took about a gigabyte of heap to refuse (an {@code OutOfMemoryError} at {@code -Xmx1g}); read in place it
     * allocates little more than the file's text and one int per id.
     */
    @Test
    void aForgedRowOfMillionsOfIdsIsRefusedInLittleMemory() throws IOException {
        int ids = 16_000_000;
        byte[] row = new byte[2 * ids];
        for (int i = 0; i < ids; i++) {
            row[2 * i] = '7';
            row[2 * i + 1] = ' ';
        }
        row[row.length - 1] = '\n';
        byte[] head = (HEADER_1 + "plan 1\n").getBytes(StandardCharsets.UTF_8);
        byte[] file = java.util.Arrays.copyOf(head, head.length + row.length);
        System.arraycopy(row, 0, file, head.length, row.length);
        Path path = dir.resolve("results.txt");
        Files.write(path, file);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        StageScorer.Verdict v = EplbResults.score(1, "quick", path);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(v.error()).isEqualTo("invalid_output");
        assertThat(v.errorMessage()).startsWith("case 1 (1 layer, 8 experts, R=8 on 2 GPUs): ");
        // The text decoded and copied a few times (32 MB each) and 64 MB of ids: well under 400 MB. A string per id
        // is 16 million objects of 40 bytes and more.
        assertThat(allocated).isLessThan(400L << 20);
        // A timing round of 16 million samples, the same way: its count is checked before the line is split.
        String plans = withTiming("timing 5\n");
        String forged = plans.substring(0, plans.lastIndexOf("end ")) + "1" + " 1.0".repeat(ids / 2) + "\n";
        Files.writeString(path, forged);
        before = threads.getCurrentThreadAllocatedBytes();
        StageScorer.Verdict t = EplbResults.score(2, "quick", path);
        allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(t.error()).isEqualTo("invalid_metrics");
        assertThat(t.errorMessage()).endsWith(": timing round 1 gives 1 calls and 8000000 samples, expected 1..40");
        assertThat(allocated).isLessThan(400L << 20);
    }

    /** Placement.of takes any number of layers: the check against the case's shape is what refuses them. */
    @Test
    void aPlanWithALayerTooManyIsInvalidOutput() throws IOException {
        assertThat(score(1, HEADER_1 + "plan 2\n0 1 2 3 4 5 6 7\n0 1 2 3 4 5 6 7\n"))
                .isEqualTo("invalid_output: case 1 (1 layer, 8 experts, R=8 on 2 GPUs): placement has 2 layers, "
                        + "expected 1");
    }

    @Test
    void quotedLinesAreShortenedPast80Characters() throws IOException {
        assertThat(score(1, "x".repeat(80) + "\n")).isEqualTo("invalid_metrics: eplb-results.txt: line 1: expected "
                + "'moelab-eplb-results 1', got '" + "x".repeat(80) + "'");
        assertThat(score(1, "x".repeat(81) + "\n")).isEqualTo("invalid_metrics: eplb-results.txt: line 1: expected "
                + "'moelab-eplb-results 1', got '" + "x".repeat(80) + "...'");
    }

    /** Stage 2's plans for the quick suite, as DeepSeek's EPLB makes them, without the timing and end lines. */
    private static EplbResults.Writer stageTwoPlans() {
        BalancerAlgorithm reference = new DeepSeekBalancer();
        EplbResults.Writer w = new EplbResults.Writer(2, "quick");
        for (var supplier : EplbWorkloads.suite("quick").workloads()) {
            EplbWorkloads.Workload workload = supplier.get();
            List<LoadMatrix> windows = workload.windows();
            Placement previous = null;
            for (int i = 0; i + 1 < windows.size(); i++) {
                previous = reference.rebalance(new BalancingRequest(windows.get(i),
                        windows.subList(Math.max(0, i - StagePlans.HISTORY_WINDOWS), i), workload.topology(),
                        previous));
                w.plan(previous);
            }
        }
        return w;
    }

    /** The plans' text followed by {@code timing} lines as given (the count line included) and the end line. */
    private static String withTiming(String timing) {
        String whole = stageTwoPlans().finish();
        int end = whole.lastIndexOf("end ");
        return whole.substring(0, end) + timing + whole.substring(end);
    }

    /** The lowest of the rounds' medians is the time; the calls are every round's. */
    @Test
    void theTimeIsTheLowestRoundMedian() throws IOException {
        EplbResults.Writer w = stageTwoPlans();
        w.timing(List.of(new double[] {3.0, 1.0, 2.0}, new double[] {4.0}, new double[] {0.5, 9.0},
                new double[] {1.5, 1.5}, new double[] {8.0}));
        StageScorer.Verdict v = score(2, w.finish().getBytes(StandardCharsets.UTF_8));
        assertThat(v.error()).as(v.errorMessage()).isNull();
        // Medians 2, 4, 4.75, 1.5 and 8.
        assertThat(v.metrics().get("rebalance_ms")).isEqualTo(1.5);
        assertThat(v.metrics().get("timed_calls")).isEqualTo(9.0);
        assertThat(v.metrics().get("speed_score")).isCloseTo(10 / 1.5, within(1e-12));
        assertThat(v.metrics().get("time_penalty")).isZero();
        double b = v.metrics().get("balancedness");
        assertThat(b).isEqualTo((v.metrics().get("balancedness_tiny_hierarchical")
                + v.metrics().get("balancedness_tiny_global")) / 2);
        assertThat(v.metrics().get("combined_score")).isCloseTo(90 * b + 10 / 1.5, within(1e-9));
        assertThat(v.metrics()).containsOnlyKeys("validity", "combined_score", "balancedness", "rebalance_ms",
                "speed_score", "time_penalty", "balancedness_tiny_hierarchical", "balancedness_tiny_global",
                "timed_calls");
    }

    /**
     * The quick suite times 5 to 200 calls in five rounds: each round 1 to 40 calls, each with its sample, each
     * sample as Double.toString writes a finite non-negative value.
     */
    @Test
    void timingRoundsOutsideTheSuitesBoundsAreRefused() throws IOException {
        String fortyOnes = " 1.0".repeat(40);
        String rounds = ("40" + fortyOnes + "\n").repeat(5);
        int line = (int) withTiming("timing 5\n").lines().count() - 1; // the timing line's number
        assertThat(score(2, withTiming("timing 5\n" + rounds))).isEqualTo("null: ");
        assertThat(score(2, withTiming("timing 5\n" + "1 1.0E-5\n".repeat(5)))).isEqualTo("null: ");

        String expected = "invalid_metrics: eplb-results.txt: line " + (line + 1) + ": timing round 1 gives ";
        assertThat(score(2, withTiming("timing 5\n41" + fortyOnes + " 1.0\n" + rounds)))
                .isEqualTo(expected + "41 calls and 41 samples, expected 1..40");
        assertThat(score(2, withTiming("timing 5\n0\n" + rounds))).isEqualTo(expected + "0 calls and 0 samples, "
                + "expected 1..40");
        assertThat(score(2, withTiming("timing 5\n2 1.0\n" + rounds))).isEqualTo(expected + "2 calls and 1 samples, "
                + "expected 1..40");
        assertThat(score(2, withTiming("timing 5\n1 1.0 1.0\n" + rounds))).isEqualTo(expected + "1 calls and 2 "
                + "samples, expected 1..40");
        assertThat(score(2, withTiming("timing 4\n" + rounds))).isEqualTo("invalid_metrics: eplb-results.txt: line "
                + line + ": 4 timing rounds, expected 5");
        assertThat(score(2, withTiming("timing 5\nx 1.0\n" + rounds))).isEqualTo("invalid_metrics: eplb-results.txt: "
                + "line " + (line + 1) + ": 'x' is not a count");
        for (String bad : List.of("1", "-1.0", "NaN", "Infinity", "1.0E", ".5", "1.0 ")) {
            assertThat(score(2, withTiming("timing 5\n1 " + bad + "\n" + rounds))).as(bad)
                    .startsWith("invalid_metrics: eplb-results.txt: line " + (line + 1) + ": ");
        }
        assertThat(score(2, withTiming("timing 5\n1 1.0.0\n" + rounds))).endsWith(": '1.0.0' is not a time in ms");
    }

    @Test
    void textAfterTheEndNamesItsLine() throws IOException {
        String text = withTiming("timing 5\n" + "1 2.0\n".repeat(5));
        assertThat(score(2, text)).isEqualTo("null: ");
        long lines = text.lines().count();
        assertThat(score(2, text + "end 1\n")).isEqualTo("invalid_metrics: eplb-results.txt: line " + (lines + 1)
                + ": text after the end");
    }
}
