package io.moelab.evolve.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.moelab.evolve.task.StageScorer;
import io.moelab.evolve.task.Task;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a candidate can fail becomes an error kind, and nothing it does outlives its evaluation. */
class CascadeEvaluatorTest {
    @TempDir
    Path tmp;

    private Evaluation run(ShellTask task, Duration timeout) throws InterruptedException {
        EvaluatorSettings s = EvaluatorSettings.defaults().withTimeout(timeout);
        return new CascadeEvaluator(task, s, "score").evaluate(task.initialProgram(), tmp.resolve("w"));
    }

    private Evaluation run(String script) throws InterruptedException {
        return run(ShellTask.of("x", script), Duration.ofSeconds(20));
    }

    @Test
    void metricsFromTheLastJsonLineOfStdout() throws Exception {
        Evaluation e = run("echo '{\"score\": 1}'; echo 'log line'; "
                + "echo '{\"score\": 2.5, \"ok\": true, \"note\": \"fine\"}'");
        assertThat(e.ok()).isTrue();
        assertThat(e.metrics()).containsEntry("score", 2.5).containsEntry("ok", 1.0);
        assertThat(e.feedback()).contains("note: fine");
    }

    @Test
    void metricsFileWinsOverStdoutAndTheProgramIsPassed() throws Exception {
        Evaluation e = run(ShellTask.of("hello", "n=$(wc -c < \"$1\"); echo \"{\\\"score\\\": $n}\" > \"$2\"; "
                + "echo '{\"score\": -1}'"), Duration.ofSeconds(20));
        assertThat(e.metrics()).containsEntry("score", 5.0);
    }

    /**
     * Placeholders are replaced in the command as the task wrote it, once: a working directory whose name holds one
     * ({@code runs/{stage}}) had it replaced again inside the substituted path, and the stage was given a program
     * that does not exist.
     */
    @Test
    void aPlaceholderInTheWorkingDirectorysNameIsNotReplacedAgain() throws Exception {
        ShellTask t = ShellTask.of("hello", "n=$(wc -c < \"$1\") && echo \"{\\\"score\\\": $n, \\\"stage\\\": $3}\"");
        Path dir = tmp.resolve("w{stage}-{timeout}-{workdir}");
        Evaluation e = new CascadeEvaluator(t, EvaluatorSettings.defaults(), "score").evaluate("hello", dir);
        assertThat(e.ok()).as(e.errorMessage()).isTrue();
        assertThat(e.metrics()).containsEntry("score", 5.0).containsEntry("stage", 1.0);
        assertThat(dir.resolve("stage1/stdout.txt")).exists();
    }

    @Test
    void hangingStageIsKilledWithItsBackgroundChildren() throws Exception {
        long start = System.nanoTime();
        Path pidFile = tmp.resolve("bg.pid");
        Evaluation e = run(ShellTask.of("x", "sleep 300 & echo $! > " + pidFile + "; sleep 300"),
                Duration.ofMillis(700));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(e.error()).isEqualTo("timeout");
        assertThat(e.errorMessage()).contains("killed after 0.7 s (evaluator.timeout)");
        assertThat(seconds).isLessThan(10);
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        Thread.sleep(200);
        assertThat(running(pid)).as("background child").isFalse();
    }

    @Test
    void aTimeoutGivenByAnOptionIsNamedAsTheOption() throws Exception {
        // It named evaluator.timeout, the configuration key, for a timeout that --eval-timeout gave.
        ShellTask task = ShellTask.of("x", "sleep 300");
        EvaluatorSettings s = EvaluatorSettings.defaults().withTimeout(Duration.ofMillis(300), "--eval-timeout");
        Evaluation e = new CascadeEvaluator(task, s, "score").evaluate(task.initialProgram(), tmp.resolve("w"));
        assertThat(e.error()).isEqualTo("timeout");
        assertThat(e.errorMessage()).startsWith("stage 1: killed after 0.3 s (--eval-timeout)");
    }

    @Test
    void backgroundChildOfAStageThatExitsIsKilledToo() throws Exception {
        Path pidFile = tmp.resolve("bg.pid");
        Evaluation e = run("sleep 300 & echo $! > " + pidFile + "; echo '{\"score\": 1}'");
        assertThat(e.ok()).isTrue();
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        Thread.sleep(200);
        assertThat(running(pid)).isFalse();
    }

    @Test
    void exitCodeWithoutMetrics() throws Exception {
        long before = System.nanoTime();
        Evaluation e = run("echo boom >&2; exit 3");
        double elapsed = (System.nanoTime() - before) / 1e9;
        assertThat(e.error()).isEqualTo("exit");
        // Only the stream that printed something is shown.
        assertThat(e.errorMessage()).isEqualTo("stage 1: exited with code 3 before reporting metrics\nstderr (end):\n"
                + "boom");
        assertThat(e.seconds()).isPositive().isLessThanOrEqualTo(elapsed);
    }

    @Test
    void cleanExitWithoutMetrics() throws Exception {
        assertThat(run("echo hello").error()).isEqualTo("no_metrics");
    }

    /** A result of text only was a success with no metrics: a valid program whose fitness is no number. */
    @Test
    void aResultWithoutAnyNumberIsNoMetrics() throws Exception {
        Evaluation e = run("echo '{\"score\": \"12\", \"note\": \"fine\"}'");
        assertThat(e.ok()).isFalse();
        assertThat(e.error()).isEqualTo("no_metrics");
        assertThat(e.feedback()).contains("note: fine");
    }

    @Test
    void garbageIsInvalidMetrics() throws Exception {
        assertThat(run("echo '{not json at all}'").error()).isEqualTo("invalid_metrics");
        assertThat(run("echo '{\"score\": \"high\", \"x\": [1]}' > \"$2\"; echo '[1,2]' >> \"$2\"").error())
                .isEqualTo("invalid_metrics");
    }

    @Test
    void floodingOutputIsStopped() throws Exception {
        Evaluation e = run("yes garbage");
        assertThat(e.error()).isEqualTo("output_limit");
    }

    /** A resumed run evaluates an iteration again in the working directory a crash left. */
    @Test
    void aMetricsFileLeftFromAnEarlierEvaluationIsNotTheResult() throws Exception {
        Path stale = tmp.resolve("w/stage1/metrics.json");
        Files.createDirectories(stale.getParent());
        Files.writeString(stale, "{\"score\": 999}");
        Evaluation e = run("exit 0");
        assertThat(e.error()).isEqualTo("no_metrics");
        assertThat(e.metrics()).isEmpty();
        Files.writeString(stale, "{\"score\": 999}");
        assertThat(run("echo '{\"score\": 3}'").metrics()).containsEntry("score", 3.0);
    }

    /** The metrics file was read whole: one larger than the heap ended the run with an OutOfMemoryError. */
    @Test
    void anOversizedMetricsFileIsAnOutputLimit() throws Exception {
        EvaluatorSettings s = EvaluatorSettings.defaults();
        long cap = s.maxOutputBytes();
        // Valid JSON padded with spaces to one byte over the cap: its size alone fails it.
        Evaluation e = run("printf '{\"score\": 1}' > \"$2\"; head -c " + (cap + 1 - 12)
                + " /dev/zero | tr '\\0' ' ' >> \"$2\"; echo '{\"score\": 2}'");
        assertThat(Files.size(tmp.resolve("w/stage1/metrics.json"))).isEqualTo(cap + 1);
        assertThat(e.error()).isEqualTo("output_limit");
        assertThat(e.errorMessage()).contains("metrics file of " + (cap + 1) + " bytes");
        // At the cap it is read as usual.
        Evaluation atCap = run("printf '{\"score\": 1}' > \"$2\"; head -c " + (cap - 12)
                + " /dev/zero | tr '\\0' ' ' >> \"$2\"");
        assertThat(atCap.ok()).as(atCap.errorMessage()).isTrue();
        assertThat(atCap.metrics()).containsEntry("score", 1.0);
    }

    @Test
    void outOfMemoryIsNamed() throws Exception {
        Evaluation e = run("echo 'Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space' >&2; "
                + "exit 1");
        assertThat(e.error()).isEqualTo("out_of_memory");
    }

    /**
     * The JVM prints the error before its stack trace, which deep recursion makes long (up to 1,024 frames): it was
     * looked for only in the 4 KiB of stderr kept for the prompt, and a candidate that ran out of memory 200 frames
     * deep failed as {@code exit}.
     */
    @Test
    void outOfMemoryIsNamedBehindALongStackTrace() throws Exception {
        Evaluation e = run("echo 'Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space' >&2; "
                + "i=0; while [ $i -lt 200 ]; do echo \"\tat Candidate.deeper(Candidate.java:$i)\" >&2; i=$((i+1)); "
                + "done; exit 1");
        assertThat(e.error()).isEqualTo("out_of_memory");
        assertThat(e.errorMessage()).startsWith("stage 1: ran out of memory (heap cap 512 MiB)");
    }

    @Test
    void errorReportedByTheStage() throws Exception {
        Evaluation e = run("echo '{\"error\": \"compile_error\", \"error_message\": \"line 3: missing ;\"}'");
        assertThat(e.error()).isEqualTo("compile_error");
        assertThat(e.errorMessage()).contains("line 3: missing ;");
    }

    @Test
    void missingEvaluatorProgramFailsTheCandidateNotTheRun() throws Exception {
        ShellTask t = ShellTask.of("x", "exec /no/such/evaluator \"$1\"");
        Evaluation e = run(t, Duration.ofSeconds(20));
        assertThat(e.ok()).isFalse();
        assertThat(e.error()).isEqualTo("exit");
        assertThat(e.errorMessage()).contains("/no/such/evaluator");
    }

    @Test
    void cascadeStopsBelowTheThreshold() throws Exception {
        ShellTask t = new ShellTask("x", List.of("echo '{\"score\": 0.2}'", "echo '{\"score\": 9, \"late\": 1}'"),
                List.of(0.5));
        Evaluation e = run(t, Duration.ofSeconds(20));
        assertThat(e.ok()).isTrue();
        assertThat(e.stages()).isEqualTo(1);
        assertThat(e.metrics()).containsEntry("score", 0.2).doesNotContainKey("late");
        assertThat(e.feedback()).contains("cascade stopped after stage 1");

        ShellTask pass = new ShellTask("x", List.of("echo '{\"score\": 0.7}'",
                "echo \"{\\\"score\\\": 9, \\\"late\\\": $3}\""), List.of(0.5));
        Evaluation both = run(pass, Duration.ofSeconds(20));
        assertThat(both.ok()).as(both.errorMessage()).isTrue();
        assertThat(both.stages()).isEqualTo(2);
        assertThat(both.metrics()).containsEntry("score", 9.0).containsEntry("late", 2.0);
    }

    /**
     * A stage passes its threshold when its metric reaches it; stages after the last threshold are not gated; the
     * settings' thresholds and metric replace the task's; a stage without the metric ends the cascade; with the
     * cascade off every stage runs.
     */
    @Test
    void cascadeThresholdsGateTheStagesAfterThem() throws Exception {
        List<String> three = List.of("echo '{\"score\": 0.5, \"speed\": 2}'", "echo '{\"score\": 0.1, \"speed\": 1}'",
                "echo '{\"third\": 3}'");
        // At the threshold: passes. No threshold after stage 2: stage 3 runs whatever stage 2 scored.
        Evaluation at = run(new ShellTask("x", three, List.of(0.5)), Duration.ofSeconds(20));
        assertThat(at.stages()).isEqualTo(3);
        assertThat(at.metrics()).isEqualTo(java.util.Map.of("score", 0.1, "speed", 1.0, "third", 3.0));
        assertThat(at.feedback()).doesNotContain("cascade");
        // The settings' thresholds replace the task's, on their metric.
        EvaluatorSettings d = EvaluatorSettings.defaults();
        EvaluatorSettings bySpeed = new EvaluatorSettings(d.timeout(), d.memoryMb(), true, List.of(1.5, 1.5),
                "speed", 1, d.maxOutputBytes(), d.artifactBytes());
        ShellTask gated = new ShellTask("x", three, List.of(0.9));
        Evaluation second = new CascadeEvaluator(gated, bySpeed, "score").evaluate("x", tmp.resolve("a"));
        assertThat(second.ok()).isTrue();
        assertThat(second.stages()).isEqualTo(2);
        assertThat(second.feedback()).isEqualTo("cascade stopped after stage 2: speed = 1.0 < threshold 1.5");
        // A stage that does not report the metric ends the cascade.
        EvaluatorSettings byMissing = new EvaluatorSettings(d.timeout(), d.memoryMb(), true, List.of(0.0),
                "absent", 1, d.maxOutputBytes(), d.artifactBytes());
        Evaluation missing = new CascadeEvaluator(gated, byMissing, "score").evaluate("x", tmp.resolve("b"));
        assertThat(missing.stages()).isEqualTo(1);
        assertThat(missing.feedback()).isEqualTo("cascade stopped after stage 1: absent missing < threshold 0.0");
        // The fitness metric when the settings name none; off, every stage runs.
        Evaluation task = new CascadeEvaluator(gated, d, "score").evaluate("x", tmp.resolve("c"));
        assertThat(task.stages()).isEqualTo(1);
        assertThat(task.feedback()).isEqualTo("cascade stopped after stage 1: score = 0.5 < threshold 0.9");
        // More thresholds than stages after the first (a run's configuration may give them): the last stage is not
        // gated by one.
        EvaluatorSettings many = new EvaluatorSettings(d.timeout(), d.memoryMb(), true, List.of(0.0, 9.0, 9.0),
                null, 1, d.maxOutputBytes(), d.artifactBytes());
        Evaluation two = new CascadeEvaluator(new ShellTask("x", three.subList(0, 2), List.of()), many, "score")
                .evaluate("x", tmp.resolve("e"));
        assertThat(two.stages()).isEqualTo(2);
        assertThat(two.feedback()).isEmpty();
        EvaluatorSettings off = new EvaluatorSettings(d.timeout(), d.memoryMb(), false, List.of(), null, 1,
                d.maxOutputBytes(), d.artifactBytes());
        assertThat(new CascadeEvaluator(gated, off, "score").evaluate("x", tmp.resolve("d")).stages()).isEqualTo(3);
    }

    @Test
    void aFailingFirstStageSkipsTheRest() throws Exception {
        ShellTask t = new ShellTask("x", List.of("exit 1", "echo '{\"score\": 9}'"), List.of());
        Evaluation e = run(t, Duration.ofSeconds(20));
        assertThat(e.error()).isEqualTo("exit");
        assertThat(e.stages()).isEqualTo(1);
    }

    /**
     * A stage that leaves a named pipe where the evaluator reads: the next stage's output files, its own stdout, or
     * the scorer's output file. Opening a pipe blocks until its other end is opened, which nothing does: the
     * evaluation hung once the stage had ended, where no timeout applies, and with it a run of one at a time.
     */
    @Test
    void namedPipesLeftByAStageHoldNothingUp() throws Exception {
        ShellTask next = new ShellTask("x", List.of("mkdir -p ../stage2; mkfifo ../stage2/stdout.txt "
                + "../stage2/stderr.txt; echo '{\"score\": 1}'", "echo '{\"score\": 2}'"), List.of());
        Evaluation e = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run(next, Duration.ofSeconds(20)));
        assertThat(e.ok()).as(e.errorMessage()).isTrue();
        assertThat(e.stages()).isEqualTo(2);
        assertThat(e.metrics()).containsEntry("score", 2.0);
        // Its own stdout: the metrics file still counts; a result printed there is gone with the file.
        Evaluation file = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run("echo '{\"score\": 3}' "
                + "> \"$2\"; rm stdout.txt; mkfifo stdout.txt"));
        assertThat(file.metrics()).containsEntry("score", 3.0);
        Evaluation printed = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run("echo '{\"score\": 3}'; "
                + "rm stdout.txt; mkfifo stdout.txt"));
        assertThat(printed.error()).isEqualTo("no_metrics");
        // The scorer's file: refused before the scorer opens it.
        Task scored = scored(ShellTask.of("x", "mkfifo result.txt"));
        Evaluation pipe = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> new CascadeEvaluator(scored,
                EvaluatorSettings.defaults(), "score").evaluate("x", tmp.resolve("w")));
        assertThat(pipe.error()).isEqualTo("invalid_metrics");
        assertThat(pipe.errorMessage()).startsWith("stage 1: result.txt is not a regular file");
    }

    /**
     * With a scorer, the result is what it makes of its output file alone: the metrics file and stdout, which the
     * candidate could write, are not read; a stage that fails without exiting 0 is not scored.
     */
    @Test
    void aScorerReadsItsOutputFileAndNothingElse() throws Exception {
        Task twoStages = scored(new ShellTask("x", List.of("echo 5 > result.txt; echo '{\"score\": 99}' > \"$2\"; "
                + "echo '{\"score\": 98}'", "echo 7 > result.txt; echo '{\"late\": 1}'"), List.of()));
        Evaluation e = new CascadeEvaluator(twoStages, EvaluatorSettings.defaults(), "score").evaluate("x",
                tmp.resolve("w"));
        assertThat(e.ok()).as(e.errorMessage()).isTrue();
        assertThat(e.stages()).isEqualTo(2);
        assertThat(e.metrics()).isEqualTo(java.util.Map.of("score", 7.0, "stage1", 1.0, "stage2", 1.0));
        Evaluation exit = new CascadeEvaluator(scored(ShellTask.of("x", "echo 5 > result.txt; exit 4")),
                EvaluatorSettings.defaults(), "score").evaluate("x", tmp.resolve("w"));
        assertThat(exit.error()).isEqualTo("exit");
        assertThat(exit.errorMessage()).startsWith("stage 1: exited with code 4 before reporting metrics");
        // The scorer's error kinds that say the result was unusable end the evaluation under that kind.
        Evaluation missing = new CascadeEvaluator(scored(ShellTask.of("x", "exit 0")), EvaluatorSettings.defaults(),
                "score").evaluate("x", tmp.resolve("w"));
        assertThat(missing.error()).isEqualTo("no_metrics");
        assertThat(missing.errorMessage()).isEqualTo("stage 1: no result.txt");
        Evaluation talked = new CascadeEvaluator(scored(ShellTask.of("x", "echo hello")), EvaluatorSettings.defaults(),
                "score").evaluate("x", tmp.resolve("w"));
        assertThat(talked.errorMessage()).isEqualTo("stage 1: no result.txt\nstdout (end):\nhello");
    }

    /**
     * {@code shell} with a scorer reading a number from {@code result.txt} as {@code score}, and the stage as
     * {@code stageN}; no_metrics when the file is missing.
     */
    private static Task scored(ShellTask shell) {
        StageScorer scorer = new StageScorer() {
            @Override
            public String outputFile() {
                return "result.txt";
            }

            @Override
            public Verdict score(int stage, Path file) {
                try {
                    return new Verdict(java.util.Map.of("score", Double.parseDouble(Files.readString(file).strip()),
                            "stage" + stage, 1.0), null, "");
                } catch (java.nio.file.NoSuchFileException e) {
                    return Verdict.failed("no_metrics", "no result.txt");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        return task(shell, shell.programFileName(), shell.stageCommands(), scorer);
    }

    /** ShellTask's stages under another candidate file name, or with other stage commands. */
    private static Task task(String programFile, List<List<String>> stages) {
        ShellTask shell = ShellTask.of("echo '{\"score\": 1}'", "sh \"$1\"");
        return task(shell, programFile, stages == null ? shell.stageCommands() : stages, null);
    }

    /** {@code shell}'s name, language and program under {@code programFile}, with {@code stages} and {@code scorer}. */
    private static Task task(ShellTask shell, String programFile, List<List<String>> stages, StageScorer scorer) {
        return new Task() {
            @Override
            public String name() {
                return shell.name();
            }

            @Override
            public String language() {
                return shell.language();
            }

            @Override
            public String programFileName() {
                return programFile;
            }

            @Override
            public String initialProgram() {
                return shell.initialProgram();
            }

            @Override
            public String systemMessage() {
                return null;
            }

            @Override
            public String fitnessMetric() {
                return "score";
            }

            @Override
            public List<List<String>> stageCommands() {
                return stages;
            }

            @Override
            public Path directory() {
                return null;
            }

            @Override
            public StageScorer stageScorer() {
                return scorer;
            }
        };
    }

    /**
     * A task of a library user's own whose file name is a path wrote every candidate there, outside its working
     * directory (GenericTask refuses such names, the Task interface did not), and one without stages scored every
     * candidate as no_metrics ("stage 0: reported no numeric metric"), which a run reported as "0 thresholds, but
     * the task has 0 stages ...: at most -1". Both are refused when the evaluator is made, naming the task.
     */
    @Test
    void aTaskWhoseFileNameIsAPathOrThatHasNoStagesIsRefused() throws Exception {
        EvaluatorSettings s = EvaluatorSettings.defaults();
        for (String bad : List.of("../escape.sh", "sub/program.sh", "/tmp/abs.sh", "..", ".", "", " ",
                "a\\b.sh")) {
            assertThatThrownBy(() -> new CascadeEvaluator(task(bad, null), s, "score").evaluate("echo", tmp
                    .resolve("w")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("task shell: programFileName() must be a plain file name, got '" + bad
                            + "'");
        }
        assertThat(tmp.resolve("escape.sh")).doesNotExist();
        assertThatThrownBy(() -> new CascadeEvaluator(task("p.sh", List.of()), s, "score"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("task shell: stageCommands() must give at least one stage");
        assertThatThrownBy(() -> new CascadeEvaluator(task("p.sh", List.of(List.of("sh"), List.of())), s, "score"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("task shell: stage 2 of stageCommands() is an empty command");
        Evaluation fine = new CascadeEvaluator(task("p.sh", null), s, "score").evaluate("echo '{\"score\": 1}'",
                tmp.resolve("w"));
        assertThat(fine.ok()).as(fine.errorMessage()).isTrue();
    }

    /**
     * Whether a process is still running. A killed process whose parent died stays a zombie until init reaps
     * it, and some sandboxes' init never does: a zombie is dead for this purpose.
     */
    static boolean running(long pid) throws java.io.IOException {
        Path stat = Path.of("/proc/" + pid + "/stat");
        if (!Files.exists(stat)) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        String text = Files.readString(stat);
        char state = text.charAt(text.lastIndexOf(')') + 2);
        return state != 'Z' && state != 'X';
    }
}
