package io.moelab.evolve.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.eval.CascadeEvaluator;
import io.moelab.evolve.eval.Evaluation;
import io.moelab.evolve.eval.EvaluatorSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Task directories: what task.yaml may say, the defaults, and errors that name the file and key. */
class GenericTaskTest {
    @TempDir
    Path tmp;

    /** A task directory with task.yaml and files given as name, content, name, content, ... */
    private Path dir(String taskYaml, String... files) throws IOException {
        Path d = Files.createTempDirectory(tmp, "task");
        if (taskYaml != null) {
            Files.writeString(d.resolve("task.yaml"), taskYaml);
        }
        for (int i = 0; i < files.length; i += 2) {
            Files.writeString(d.resolve(files[i]), files[i + 1]);
        }
        return d;
    }

    /** The message of loading a broken task, which must be an InvalidInputException naming {@code where}. */
    private String error(Path dir, String... where) {
        Throwable t = catchThrowable(() -> GenericTask.load(dir));
        assertThat(t).isInstanceOf(InvalidInputException.class);
        assertThat(t.getMessage()).contains(where);
        return t.getMessage();
    }

    /** The name is checked on resume: the same directory must give it however the path to it is written. */
    @Test
    void theNameIsTheDirectorysWhateverThePath() throws IOException {
        Path d = dir("evaluator: [sh, \"{program}\"]\n", "initial_program.sh", "echo 1\n");
        Files.createDirectory(d.resolve("sub"));
        String name = d.getFileName().toString();
        assertThat(GenericTask.load(d).name()).isEqualTo(name);
        assertThat(GenericTask.load(d.resolve("sub").resolve("..")).name()).isEqualTo(name);
        assertThat(GenericTask.load(d.resolve(".")).name()).isEqualTo(name);
        Path relative = Path.of("").toAbsolutePath().relativize(d.resolve("sub"));
        assertThat(GenericTask.load(relative.resolve("..")).name()).isEqualTo(name);
    }

    @Test
    void everyKey() throws IOException {
        Path d = dir("""
                language: python3
                initial_program: src.py
                evaluator:
                  - [python3, "{task_dir}/evaluate.py", "{program}"]
                  - [python3, "{task_dir}/evaluate.py", "--full", "{program}"]
                fitness_metric: speedup
                system_message: |
                  Make it fast.
                  Keep it correct.
                cascade_thresholds: [0.5]
                program_file: candidate.py
                """, "src.py", "print(1)\n");
        GenericTask t = GenericTask.load(d);
        assertThat(t.name()).isEqualTo(d.getFileName().toString());
        assertThat(t.language()).isEqualTo("python3");
        assertThat(t.initialProgram()).isEqualTo("print(1)\n");
        assertThat(t.programFileName()).isEqualTo("candidate.py");
        assertThat(t.fitnessMetric()).isEqualTo("speedup");
        assertThat(t.systemMessage()).isEqualTo("Make it fast.\nKeep it correct.\n");
        assertThat(t.defaultCascadeThresholds()).containsExactly(0.5);
        assertThat(t.stageCommands()).containsExactly(List.of("python3", "{task_dir}/evaluate.py", "{program}"),
                List.of("python3", "{task_dir}/evaluate.py", "--full", "{program}"));
        assertThat(t.directory()).isEqualTo(d);
    }

    @Test
    void defaults() throws IOException {
        GenericTask t = GenericTask.load(dir("evaluator: sh check.sh {program}\n", "initial_program.py", "x = 1\n",
                "check.sh", "echo\n"));
        assertThat(t.language()).isEqualTo("python");
        assertThat(t.programFileName()).isEqualTo("initial_program.py");
        assertThat(t.initialProgram()).isEqualTo("x = 1\n");
        assertThat(t.fitnessMetric()).isEqualTo("combined_score");
        assertThat(t.systemMessage()).isNull();
        assertThat(t.defaultCascadeThresholds()).isEmpty();
        assertThat(t.stageCommands()).containsExactly(List.of("sh", "check.sh", "{program}"));
    }

    @Test
    void languageFollowsTheExtension() throws IOException {
        for (String[] c : new String[][] {{"py", "python"}, {"js", "javascript"}, {"rs", "rust"}, {"sh", "bash"},
                {"java", "java"}, {"cpp", "cpp"}}) {
            GenericTask t = GenericTask.load(dir("evaluator: [x]\n", "initial_program." + c[0], ""));
            assertThat(t.language()).as(c[0]).isEqualTo(c[1]);
        }
        assertThat(GenericTask.load(dir("evaluator: [x]\ninitial_program: prog\n", "prog", "")).language())
                .isEqualTo("text");
    }

    @Test
    void evaluatorForms() throws IOException {
        String p = "initial_program.sh";
        assertThat(GenericTask.load(dir("evaluator: \"  sh   a.sh  {program} \"\n", p, "")).stageCommands())
                .as("a string, split at spaces").containsExactly(List.of("sh", "a.sh", "{program}"));
        assertThat(GenericTask.load(dir("evaluator: [sh, 'a b.sh', '{program}']\n", p, "")).stageCommands())
                .as("a list keeps spaces inside arguments").containsExactly(List.of("sh", "a b.sh", "{program}"));
        assertThat(GenericTask.load(dir("""
                evaluator:
                  - [sh, quick.sh, "{program}"]
                  - "sh full.sh {program} {stage}"
                """, p, "")).stageCommands()).as("stages: lists or strings").containsExactly(
                List.of("sh", "quick.sh", "{program}"), List.of("sh", "full.sh", "{program}", "{stage}"));
        assertThat(GenericTask.load(dir("evaluator: [run, 3, true]\n", p, "")).stageCommands())
                .as("scalars become text").containsExactly(List.of("run", "3", "true"));
    }

    // --- errors ----------------------------------------------------------------------------------------------

    @Test
    void noTaskYaml() throws IOException {
        Path d = dir(null, "initial_program.py", "");
        error(d, d.toString(), "task.yaml");
    }

    @Test
    void unknownKey() throws IOException {
        Path d = dir("evaluator: [x]\nfitnes_metric: score\n", "initial_program.py", "");
        assertThat(error(d, d.resolve("task.yaml") + ": fitnes_metric")).contains("unknown key", "fitness_metric");
    }

    @Test
    void missingOrMalformedEvaluator() throws IOException {
        Path d = dir("language: python\n", "initial_program.py", "");
        error(d, d.resolve("task.yaml") + ": evaluator", "missing");
        for (String bad : List.of("evaluator: []\n", "evaluator: \"   \"\n", "evaluator: {cmd: x}\n",
                "evaluator: [[a], []]\n", "evaluator: [[a, {b: 1}]]\n", "evaluator: [[a, null]]\n",
                "evaluator: 5\n")) {
            Path b = dir(bad, "initial_program.py", "");
            error(b, b.resolve("task.yaml") + ": evaluator");
        }
    }

    @Test
    void initialProgramProblems() throws IOException {
        Path two = dir("evaluator: [x]\n", "initial_program.py", "", "initial_program.java", "");
        error(two, two.resolve("task.yaml") + ": initial_program", "several");
        Path none = dir("evaluator: [x]\n", "other.py", "");
        error(none, none.resolve("task.yaml") + ": initial_program", "no initial_program.*");
        Path missing = dir("evaluator: [x]\ninitial_program: gone.py\n", "initial_program.py", "");
        error(missing, missing.resolve("task.yaml") + ": initial_program", "gone.py");
    }

    @Test
    void malformedYaml() throws IOException {
        Path d = dir("evaluator: [x\nlanguage: python\n", "initial_program.py", "");
        error(d, d.resolve("task.yaml").toString(), "cannot read");
        // The parser's problem and where, on one line; its first line alone ("while parsing a flow node") said neither.
        Path open = dir("evaluator: [\n", "initial_program.py", "");
        assertThatThrownBy(() -> GenericTask.load(open)).hasMessage(open.resolve("task.yaml") + ": cannot read: while "
                + "parsing a flow node: expected the node content, but found '<stream end>' (line 2, column 1)");
        // A key given twice was read as the last one: which was meant cannot be known.
        Path twice = dir("evaluator: [x]\nfitness_metric: score\nfitness_metric: combined_score\n",
                "initial_program.py", "");
        assertThatThrownBy(() -> GenericTask.load(twice)).hasMessage(twice.resolve("task.yaml") + ": cannot read: "
                + "Duplicate Object property \"fitness_metric\" (line 3, column 15)");
        Path list = dir("- evaluator\n", "initial_program.py", "");
        error(list, list.resolve("task.yaml").toString(), "mapping");
    }

    @Test
    void wrongTypes() throws IOException {
        Path t = dir("evaluator: [x]\ncascade_thresholds: [0.5, high]\n", "initial_program.py", "");
        error(t, t.resolve("task.yaml") + ": cascade_thresholds");
        Path t2 = dir("evaluator: [x]\ncascade_thresholds: 0.5\n", "initial_program.py", "");
        error(t2, t2.resolve("task.yaml") + ": cascade_thresholds");
        // An integer beyond a double's range: Jackson's conversion threw a JsonNodeException (exit 1).
        Path huge = dir("evaluator: [[x], [y]]\ncascade_thresholds: [1" + "0".repeat(400) + "]\n", "initial_program.py",
                "");
        error(huge, huge.resolve("task.yaml") + ": cascade_thresholds: expected finite numbers, got Infinity");
        // A threshold gates the stage after it: one past the last stage was silently ignored.
        Path extra = dir("evaluator: [[x], [y]]\ncascade_thresholds: [0.5, 0.8]\n", "initial_program.py", "");
        assertThatThrownBy(() -> GenericTask.load(extra)).isInstanceOf(InvalidInputException.class)
                .hasMessage(extra.resolve("task.yaml") + ": cascade_thresholds: 2 thresholds, but the evaluator has 2 "
                        + "stages (a threshold after each stage but the last): at most 1");
        Path one = dir("evaluator: [x]\ncascade_thresholds: [0.5]\n", "initial_program.py", "");
        assertThatThrownBy(() -> GenericTask.load(one)).isInstanceOf(InvalidInputException.class)
                .hasMessageEndingWith(": cascade_thresholds: 1 threshold, but the evaluator has 1 stage (a threshold "
                        + "after each stage but the last): at most 0");
        Path m = dir("evaluator: [x]\nsystem_message: [a, b]\n", "initial_program.py", "");
        error(m, m.resolve("task.yaml") + ": system_message");
    }

    @Test
    void cascadeThresholdsMustBeFinite() throws IOException {
        // Taken as they were: .inf stopped every candidate after stage 1, .nan and -.inf gated nothing, silently
        // (the configuration's evaluator.cascade_thresholds refused them).
        for (String bad : List.of(".inf", "-.inf", ".nan")) {
            Path t = dir("evaluator: [[x], [y]]\ncascade_thresholds: [" + bad + "]\n", "initial_program.py", "");
            assertThatThrownBy(() -> GenericTask.load(t)).isInstanceOf(InvalidInputException.class)
                    .hasMessage(t.resolve("task.yaml") + ": cascade_thresholds: expected finite numbers, got "
                            + (bad.equals(".nan") ? "NaN" : bad.startsWith("-") ? "-Infinity" : "Infinity"));
        }
        Path ok = dir("evaluator: [[x], [y]]\ncascade_thresholds: [-2.5]\n", "initial_program.py", "");
        assertThat(GenericTask.load(ok).defaultCascadeThresholds()).containsExactly(-2.5);
    }

    /**
     * A task.yaml or initial program saved in another encoding (Latin-1, or UTF-16 by PowerShell's {@code >}) was
     * refused as "cannot read: Input length = 1", the decoder's words, which name neither the encoding nor where.
     */
    @Test
    void filesThatAreNotUtf8AreRefusedSayingSo() throws IOException {
        Path program = dir("evaluator: [x]\n");
        Files.write(program.resolve("initial_program.py"), "# caf\u00e9\nx = 1\n".getBytes(
                java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> GenericTask.load(program)).isInstanceOf(InvalidInputException.class)
                .hasMessage(program.resolve("initial_program.py") + ": cannot read: not UTF-8 text (at byte offset "
                        + "5)");
        Path yaml = dir(null, "initial_program.py", "x = 1\n");
        Files.write(yaml.resolve("task.yaml"), "evaluator: [x]\n".getBytes(java.nio.charset.StandardCharsets.UTF_16));
        assertThatThrownBy(() -> GenericTask.load(yaml)).isInstanceOf(InvalidInputException.class)
                .hasMessage(yaml.resolve("task.yaml") + ": cannot read: not UTF-8 text (at byte offset 0)");
    }

    /**
     * A blank fitness_metric was taken, and the run then refused it as the configuration's
     * ("database.fitness_metric: must name a metric, got ''"), naming neither task.yaml nor the key there.
     */
    @Test
    void aBlankFitnessMetricIsRefusedNamingTaskYaml() throws IOException {
        for (String bad : List.of("\"\"", "\"  \"")) {
            Path d = dir("evaluator: [x]\nfitness_metric: " + bad + "\n", "initial_program.py", "");
            assertThatThrownBy(() -> GenericTask.load(d)).isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith(d.resolve("task.yaml") + ": fitness_metric: must name a metric");
        }
    }

    @Test
    void programFileMustBeAPlainName() throws IOException {
        for (String bad : List.of("../escape.py", "/tmp/abs.py", "sub/dir.py", "..", "' '")) {
            Path d = dir("evaluator: [x]\nprogram_file: " + bad + "\n", "initial_program.py", "");
            error(d, d.resolve("task.yaml") + ": program_file");
        }
    }

    @Test
    void tasksResolvesADirectoryAndRefusesOtherNames() throws IOException {
        Path d = dir("evaluator: [x]\n", "initial_program.py", "");
        assertThat(Tasks.resolve(d.toString())).isInstanceOf(GenericTask.class);
        Throwable t = catchThrowable(() -> Tasks.resolve(tmp.resolve("nope").toString()));
        assertThat(t).isInstanceOf(InvalidInputException.class).hasMessageContaining("--task");
    }

    // --- end to end ------------------------------------------------------------------------------------------

    @Test
    void placeholdersAreSubstitutedWhenEvaluated() throws Exception {
        // The evaluator lives in the task directory and is found through {task_dir}; it reads the candidate
        // from {program} and reports where both were.
        Path d = dir("""
                evaluator:
                  - [sh, "{task_dir}/score.sh", "{program}", "{task_dir}", "{stage}"]
                  - "sh {task_dir}/score.sh {program} {task_dir} {stage}"
                fitness_metric: score
                cascade_thresholds: [10]
                """, "initial_program.txt", "21\n", "score.sh", """
                n=$(cat "$1")
                printf '{"score": %s, "stage": %s, "program": "%s", "task_dir": "%s"}\\n' "$n" "$3" "$1" "$2"
                """);
        GenericTask task = GenericTask.load(d);
        Path work = tmp.resolve("work");
        Evaluation e = new CascadeEvaluator(task, EvaluatorSettings.defaults().withTimeout(Duration.ofSeconds(20)),
                task.fitnessMetric()).evaluate("42", work);
        assertThat(e.ok()).as(e.errorMessage()).isTrue();
        assertThat(e.stages()).as("score 42 passes the task's threshold of 10").isEqualTo(2);
        assertThat(e.metrics()).containsEntry("score", 42.0).containsEntry("stage", 2.0);
        assertThat(e.feedback()).contains("task_dir: " + d.toAbsolutePath())
                .contains("program: " + work.resolve("initial_program.txt").toAbsolutePath());

        Evaluation low = new CascadeEvaluator(task, EvaluatorSettings.defaults(), task.fitnessMetric())
                .evaluate("3", tmp.resolve("work2"));
        assertThat(low.ok()).isTrue();
        assertThat(low.stages()).as("below the task's threshold").isEqualTo(1);
        assertThat(low.metrics()).containsEntry("score", 3.0).containsEntry("stage", 1.0);
    }
}
