package io.moelab.evolve.eval;

import io.moelab.evolve.process.ChildProcess;
import io.moelab.evolve.process.ProcessOutcome;
import io.moelab.evolve.process.ProcessSpec;
import io.moelab.evolve.task.StageScorer;
import io.moelab.evolve.task.Task;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scores candidates by running the task's stages as child processes, each under a hard timeout and an output
 * cap, in the candidate's own working directory, killed with its whole process tree when it overruns. Nothing
 * a candidate does (hang, exit, throw, exhaust its heap, print garbage, fork) stops the caller: every way to
 * fail becomes an {@link Evaluation} with an {@code error} kind.
 *
 * <p>Error kinds: {@code timeout}, {@code output_limit} (also for a metrics file larger than the output cap),
 * {@code out_of_memory} (the JVM reported {@code OutOfMemoryError}), {@code exit} (a non-zero exit code without a
 * result), {@code no_metrics} (exit 0 without a result, or results without any number), {@code invalid_metrics} (a
 * result that is not a flat JSON object of finite metrics),
 * {@code evaluator_error} (the stage command could not be started), and whatever the stage itself reports in
 * its {@code error} field (the EPLB task: {@code compile_error}, {@code exception}, {@code invalid_output},
 * {@code no_algorithm}).
 *
 * <p>A task with a {@link StageScorer} (the EPLB task) is scored from the output file its stages write, by the
 * scorer in this process: its stages' {@code {metrics}} files and stdout are not read, so a candidate that runs
 * inside the stage's process cannot report a score of its own.
 */
public final class CascadeEvaluator {
    /** A {@code {name}} in a stage command: replaced where {@link #substitute} knows the name, else left alone. */
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{[a-z_]+}");
    private final Task task;
    private final EvaluatorSettings settings;
    private final String fitnessMetric;

    /**
     * An evaluator for a task.
     *
     * @param fitnessMetric the metric cascade thresholds apply to when the settings name none
     * @throws IllegalArgumentException if the task's {@link Task#programFileName()} is not a plain file name, or it
     *                                  has no stage or an empty stage command
     */
    public CascadeEvaluator(Task task, EvaluatorSettings settings, String fitnessMetric) {
        requireRunnable(task);
        this.task = task;
        this.settings = settings;
        this.fitnessMetric = fitnessMetric;
    }

    /**
     * Refuses a task whose candidates could not be evaluated in their working directories: a file name that is a
     * path wrote every candidate outside it (GenericTask checks its program_file, a task in code was not checked),
     * and no stages scored every candidate as {@code no_metrics}.
     */
    private static void requireRunnable(Task task) {
        String what = "task " + task.name() + ": ";
        String file = task.programFileName();
        if (file == null || file.isBlank() || file.contains("/") || file.contains("\\") || file.equals(".")
                || file.equals("..")) {
            throw new IllegalArgumentException(what + "programFileName() must be a plain file name, got '" + file
                    + "' (the candidate is written under it in its own working directory)");
        }
        List<List<String>> stages = task.stageCommands();
        if (stages == null || stages.isEmpty()) {
            throw new IllegalArgumentException(what + "stageCommands() must give at least one stage");
        }
        for (int s = 0; s < stages.size(); s++) {
            if (stages.get(s) == null || stages.get(s).isEmpty()) {
                throw new IllegalArgumentException(what + "stage " + (s + 1) + " of stageCommands() is an empty "
                        + "command");
            }
        }
    }

    /**
     * Evaluates a candidate in {@code workDir}, which is created and should be empty.
     *
     * @throws InterruptedException if this thread is interrupted (the running stage is killed first)
     */
    public Evaluation evaluate(String code, Path workDir) throws InterruptedException {
        long start = System.nanoTime();
        Path program;
        try {
            Files.createDirectories(workDir);
            program = workDir.resolve(task.programFileName());
            Files.writeString(program, code, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Evaluation.failed("evaluator_error", "cannot write the candidate to " + workDir + ": "
                    + e.getMessage());
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        StringBuilder feedback = new StringBuilder();
        List<List<String>> stages = task.stageCommands();
        List<Double> thresholds = settings.cascadeThresholds().isEmpty() ? task.defaultCascadeThresholds()
                : settings.cascadeThresholds();
        String cascadeMetric = settings.cascadeMetric() != null ? settings.cascadeMetric() : fitnessMetric;
        StageScorer scorer = task.stageScorer();
        int ran = 0;
        for (int s = 0; s < stages.size(); s++) {
            int stage = s + 1;
            Path stageDir = workDir.resolve("stage" + stage);
            Path metricsFile = stageDir.resolve("metrics.json");
            Path outputFile = scorer == null ? null : stageDir.resolve(scorer.outputFile());
            List<String> argv = substitute(stages.get(s), program, workDir, metricsFile, stage);
            ProcessOutcome outcome;
            try {
                // Left by an evaluation of this iteration that a crash cut short: read as this stage's result, it
                // gave a candidate that reported nothing the metrics of another.
                Files.deleteIfExists(metricsFile);
                if (outputFile != null) {
                    Files.deleteIfExists(outputFile);
                }
                outcome = ChildProcess.run(new ProcessSpec(argv, stageDir, settings.timeout(),
                        Map.of("MOELAB_STAGE", String.valueOf(stage)), settings.maxOutputBytes()));
            } catch (IOException e) {
                return finish(metrics, "evaluator_error", "stage " + stage + ": cannot run " + argv.getFirst() + ": "
                        + e.getMessage(), feedback, ran, start);
            }
            ran++;
            String stderr = ChildProcess.tail(outcome.stderr(), settings.artifactBytes());
            String stdout = ChildProcess.tail(outcome.stdout(), settings.artifactBytes());
            String where = "stage " + stage + ": ";
            switch (outcome.ending()) {
                case TIMED_OUT -> {
                    return finish(metrics, "timeout", where + "killed after " + seconds(settings.timeout().toMillis())
                            + " s (" + settings.timeoutSetting() + ")" + tails(stdout, stderr), feedback, ran, start);
                }
                case OUTPUT_LIMIT -> {
                    return finish(metrics, "output_limit", where + "killed after printing more than "
                            + settings.maxOutputBytes() + " bytes" + tails(stdout, stderr), feedback, ran, start);
                }
                case EXITED -> {
                    // handled below
                }
            }
            StageResult result;
            if (scorer != null && outcome.exitCode() == 0) {
                // Neither the metrics file nor stdout: the candidate shares the stage's process and could write
                // either. The scorer computes the result from the outputs it checks.
                if (Files.exists(outputFile, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(outputFile)) {
                    // A named pipe made by the candidate: the scorer's read would block, with no timeout, forever.
                    return finish(metrics, "invalid_metrics", where + scorer.outputFile() + " is not a regular file"
                            + tails(stdout, stderr), feedback, ran, start);
                }
                StageScorer.Verdict verdict;
                try {
                    verdict = scorer.score(stage, outputFile);
                } catch (RuntimeException e) {
                    return finish(metrics, "evaluator_error", where + "scoring failed: " + e, feedback, ran, start);
                }
                if (verdict.error() != null && List.of("no_metrics", "invalid_metrics", "output_limit")
                        .contains(verdict.error())) {
                    return finish(metrics, verdict.error(), where + verdict.errorMessage() + tails(stdout, stderr),
                            feedback, ran, start);
                }
                result = new StageResult(verdict.metrics(), verdict.error(), verdict.errorMessage(), "");
            } else {
                long metricsBytes = scorer != null ? 0 : size(metricsFile);
                if (metricsBytes > settings.maxOutputBytes()) {
                    // Read whole, a file the stage filled without end took the run's heap (the cap covered only the
                    // stage's stdout and stderr).
                    return finish(metrics, "output_limit", where + "wrote a metrics file of " + metricsBytes
                            + " bytes, more than " + settings.maxOutputBytes() + tails(stdout, stderr), feedback, ran,
                            start);
                }
                String resultText = scorer != null ? null : readResult(metricsFile, outcome);
                if (resultText == null) {
                    // Looked for beyond the artifact's tail: the JVM prints the error before the stack trace,
                    // which deep recursion makes longer than that tail.
                    if (ChildProcess.tail(outcome.stderr(), 1 << 20).contains("java.lang.OutOfMemoryError")) {
                        return finish(metrics, "out_of_memory", where + "ran out of memory (heap cap "
                                + settings.memoryMb() + " MiB)" + tails(stdout, stderr), feedback, ran, start);
                    }
                    String kind = outcome.exitCode() == 0 ? "no_metrics" : "exit";
                    String what = outcome.exitCode() == 0 ? "exited without printing metrics"
                            : "exited with code " + outcome.exitCode() + " before reporting metrics";
                    return finish(metrics, kind, where + what + tails(stdout, stderr), feedback, ran, start);
                }
                try {
                    result = StageResult.parse(resultText);
                } catch (IllegalArgumentException e) {
                    return finish(metrics, "invalid_metrics", where + e.getMessage() + tails(stdout, stderr), feedback,
                            ran, start);
                }
            }
            metrics.putAll(result.metrics());
            feedback.append(result.feedback());
            if (!stderr.isBlank()) {
                feedback.append("stage ").append(stage).append(" stderr:\n").append(stderr.strip()).append('\n');
            }
            if (result.error() != null) {
                return finish(metrics, result.error(), where + result.errorMessage(), feedback, ran, start);
            }
            if (settings.cascade() && s < stages.size() - 1 && s < thresholds.size()) {
                Double value = result.metrics().get(cascadeMetric);
                double threshold = thresholds.get(s);
                if (value == null || value < threshold) {
                    feedback.append("cascade stopped after stage ").append(stage).append(": ").append(cascadeMetric)
                            .append(value == null ? " missing" : " = " + value).append(" < threshold ")
                            .append(threshold).append('\n');
                    break;
                }
            }
        }
        if (metrics.isEmpty()) {
            // A result of text only: scored as a valid program whose fitness is no number at all.
            return finish(metrics, "no_metrics", "stage " + ran + ": reported no numeric metric", feedback, ran,
                    start);
        }
        return finish(metrics, null, "", feedback, ran, start);
    }

    private static Evaluation finish(Map<String, Double> metrics, String error, String message,
                                     StringBuilder feedback, int stages, long start) {
        return new Evaluation(metrics, error, message, feedback.toString().strip(), stages,
                (System.nanoTime() - start) / 1e9);
    }

    /** The size of the metrics file, 0 when the stage wrote none (or it cannot be read). */
    private static long size(Path metricsFile) {
        try {
            return Files.isRegularFile(metricsFile) ? Files.size(metricsFile) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The metrics file when the stage wrote one, else the last JSON line of its stdout. */
    private String readResult(Path metricsFile, ProcessOutcome outcome) {
        try {
            if (Files.isRegularFile(metricsFile)) {
                return Files.readString(metricsFile, StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            return null;
        }
        return StageResult.lastJsonLine(ChildProcess.tail(outcome.stdout(), 1 << 20));
    }

    private List<String> substitute(List<String> template, Path program, Path workDir, Path metricsFile, int stage) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("{program}", program.toAbsolutePath().toString());
        values.put("{workdir}", workDir.toAbsolutePath().toString());
        values.put("{metrics}", metricsFile.toAbsolutePath().toString());
        values.put("{stage}", String.valueOf(stage));
        values.put("{java}", javaExecutable());
        values.put("{task_dir}", task.directory() == null ? "" : task.directory().toAbsolutePath().toString());
        values.put("{memory_mb}", String.valueOf(settings.memoryMb()));
        values.put("{timeout}", seconds(settings.timeout().toMillis()));
        // In one pass: replaced one after another, a placeholder in a substituted path (a working directory named
        // runs/{stage}) was replaced too, and the stage got a path that does not exist.
        List<String> out = new ArrayList<>();
        for (String arg : template) {
            out.add(PLACEHOLDER.matcher(arg).replaceAll(m -> Matcher.quoteReplacement(values.getOrDefault(m.group(),
                    m.group()))));
        }
        return out;
    }

    /** The {@code java} launcher of the running JVM, so that candidates run on the same JDK. */
    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String tails(String stdout, String stderr) {
        StringBuilder sb = new StringBuilder();
        if (!stdout.isBlank()) {
            sb.append("\nstdout (end):\n").append(stdout.strip());
        }
        if (!stderr.isBlank()) {
            sb.append("\nstderr (end):\n").append(stderr.strip());
        }
        return sb.toString();
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.3f", millis / 1e3).replaceAll("\\.?0+$", "");
    }
}
