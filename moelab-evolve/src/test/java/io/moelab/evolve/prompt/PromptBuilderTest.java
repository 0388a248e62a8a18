package io.moelab.evolve.prompt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.database.Attempt;
import io.moelab.evolve.database.Attempt.Outcome;
import io.moelab.evolve.database.Program;
import io.moelab.evolve.database.Sample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptBuilderTest {
    private static final ToDoubleFunction<Program> SCORE = p -> p.metric("score");

    @TempDir
    Path tmp;

    private static Program program(String id, String code, Map<String, Double> metrics) {
        return new Program(id, code, null, 0, 0, 0, metrics, null, "", null);
    }

    private static Sample sample(Program parent) {
        return new Sample(0, parent, List.of(), List.of(), List.of());
    }

    private static PromptSettings settings(int attempts, boolean artifacts, int maxChars) {
        return new PromptSettings(null, null, attempts, artifacts, maxChars);
    }

    @Test
    void placeholdersAreFilledOnceSoCodeIsNeverRescanned() {
        String code = "String s = \"{metrics} {program} {language} {inspirations}\";\nMap m = {a_b};";
        Program parent = program("7", code, Map.of("score", 0.5));
        Prompt p = new PromptBuilder(PromptSettings.defaults()).build(sample(parent), "java", "score", null, true,
                SCORE);
        assertThat(p.user()).contains("Metrics: score=0.5\n");
        assertThat(p.user()).contains("```java\n" + code + "\n```");
        // Exactly the placeholders of the template were replaced: none remains, none was expanded in the code.
        assertThat(p.user()).doesNotContain("{previous_attempts}", "{top_programs}", "{fitness_metric}",
                "{evolve_note}", "{evaluator_feedback}");
        assertThat(count(p.user(), "{metrics}")).isEqualTo(1);
        assertThat(count(p.user(), "score=0.5")).isEqualTo(1);
        assertThat(p.user()).contains("fitness (score) rises");
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void fillLeavesUnknownBracesAlone() {
        Map<String, String> values = Map.of("a", "$1 \\{b}", "b", "B");
        assertThat(PromptBuilder.fill("x {a} {b} {c} {A} {} {a", values)).isEqualTo("x $1 \\{b} B {c} {A} {} {a");
        assertThat(PromptBuilder.fill("", values)).isEmpty();
    }

    @Test
    void diffAndFullRewriteUseTheirTemplates() {
        Program parent = program("0", "int x;", Map.of("score", 1.0));
        PromptBuilder b = new PromptBuilder(PromptSettings.defaults());
        Prompt diff = b.build(sample(parent), "java", "score", null, true, SCORE);
        Prompt full = b.build(sample(parent), "python", "score", null, false, SCORE);
        assertThat(diff.user()).contains("<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE")
                .doesNotContain("Rewrite the program");
        assertThat(full.user()).contains("Rewrite the program", "single ```python code block", "```python\nint x;")
                .doesNotContain("<<<<<<< SEARCH");
        assertThat(diff.system()).isEqualTo(full.system()).startsWith("You are an expert software engineer");
    }

    @Test
    void systemMessageComesFromSettingsThenTaskThenTemplate() {
        Program parent = program("0", "x", Map.of());
        Sample s = sample(parent);
        assertThat(new PromptBuilder(PromptSettings.defaults()).build(s, "c", "f", "Task says {fitness_metric}.",
                true, SCORE).system()).isEqualTo("Task says f.");
        assertThat(new PromptBuilder(PromptSettings.defaults()).build(s, "c", "f", "  ", true, SCORE).system())
                .startsWith("You are an expert");
        assertThat(new PromptBuilder(new PromptSettings("Mine", null, 5, true, 100)).build(s, "c", "f", "Task",
                true, SCORE).system()).isEqualTo("Mine");
    }

    @Test
    void previousAttemptsNewestFirstWithOutcomes() {
        Program parent = program("3", "x", Map.of("score", 0.5));
        List<Attempt> attempts = List.of( // newest first, as the database gives them
                new Attempt(9, "3", "9", Outcome.IMPROVED, 0.5, 0.75, ""),
                new Attempt(8, "2", "8", Outcome.REGRESSED, 0.5, 0.25, null),
                new Attempt(7, "2", "7", Outcome.UNCHANGED, 0.5, 0.5, ""),
                new Attempt(6, "1", "6", Outcome.FAILED, 0.5, Double.NaN, "Main.java:3: error\n  x = ;"),
                new Attempt(5, "1", null, Outcome.NO_EDIT, 0.5, Double.NaN, "block 1: SEARCH not found"),
                new Attempt(4, "1", null, Outcome.LLM_ERROR, 0.5, Double.NaN, "timeout"),
                new Attempt(3, "1", null, Outcome.LLM_ERROR, 0.5, Double.NaN, "not shown"));
        Sample s = new Sample(0, parent, List.of(), List.of(), attempts);
        String user = new PromptBuilder(settings(6, true, 100)).build(s, "java", "score", null, true, SCORE).user();
        String expected = """
                - iteration 9 (edited program 3): improved, fitness 0.5 -> 0.75
                - iteration 8 (edited program 2): regressed, fitness 0.5 -> 0.25
                - iteration 7 (edited program 2): unchanged, fitness 0.5 -> 0.5
                - iteration 6 (edited program 1): failed
                  Main.java:3: error
                    x = ;
                - iteration 5 (edited program 1): no edit applied
                  block 1: SEARCH not found
                - iteration 4 (edited program 1): the model could not be called
                  timeout

                # Best programs""";
        assertThat(user).contains("(newest first)\n\n" + expected);
        assertThat(user).doesNotContain("iteration 3 ", "not shown");

        String noArtifacts = new PromptBuilder(settings(2, false, 100)).build(s, "java", "score", null, true, SCORE)
                .user();
        assertThat(noArtifacts).contains("""
                - iteration 9 (edited program 3): improved, fitness 0.5 -> 0.75
                - iteration 8 (edited program 2): regressed, fitness 0.5 -> 0.25

                """).doesNotContain("iteration 7", "Main.java");
        assertThat(new PromptBuilder(settings(0, true, 100)).build(s, "java", "score", null, true, SCORE).user())
                .contains("(newest first)\n\n(none yet)\n");
    }

    /**
     * The template asks the model to explain its idea, but previous attempts said only how each went, never what
     * it tried (OpenEvolve shows a "Changes" line per attempt): each attempt now says what it changed, whether or
     * not artifacts are shown, before the evaluator's words; an attempt from an older checkpoint has none.
     */
    @Test
    void eachPreviousAttemptSaysWhatItChanged() {
        Program parent = program("3", "x", Map.of("score", 0.5));
        List<Attempt> attempts = List.of(
                new Attempt(9, "3", "9", Outcome.FAILED, 0.5, Double.NaN, "Main.java:3: error",
                        "Replicate the hottest experts first."),
                new Attempt(8, "2", "8", Outcome.REGRESSED, 0.5, 0.25, "", null));
        Sample s = new Sample(0, parent, List.of(), List.of(), attempts);
        assertThat(new PromptBuilder(settings(6, true, 100)).build(s, "java", "score", null, true, SCORE).user())
                .contains("""
                        - iteration 9 (edited program 3): failed
                          Changes: Replicate the hottest experts first.
                          Main.java:3: error
                        - iteration 8 (edited program 2): regressed, fitness 0.5 -> 0.25

                        # Best programs""");
        assertThat(new PromptBuilder(settings(6, false, 100)).build(s, "java", "score", null, true, SCORE).user())
                .contains("""
                        - iteration 9 (edited program 3): failed
                          Changes: Replicate the hottest experts first.
                        - iteration 8 (edited program 2): regressed, fitness 0.5 -> 0.25
                        """);
    }

    @Test
    void longErrorsAreCutKeepingTheirEnd() {
        String error = "start of a long trace\n" + "x".repeat(100) + "\nCaused by: the real reason";
        Attempt a = new Attempt(2, "0", "2", Outcome.FAILED, 0.5, Double.NaN, "  " + error + "\n\n");
        Program parent = new Program("0", "x", null, 0, 0, 0, Map.of("score", 0.5), null,
                "feedback head " + "y".repeat(50) + " feedback tail", null);
        Sample s = new Sample(0, parent, List.of(), List.of(), List.of(a));
        String user = new PromptBuilder(settings(5, true, 30)).build(s, "java", "score", null, true, SCORE).user();
        String tail = error.substring(error.length() - 30);
        assertThat(tail).isEqualTo("xxx\nCaused by: the real reason");
        assertThat(user).contains("- iteration 2 (edited program 0): failed\n  [... " + (error.length() - 30)
                + " characters cut ...]\n  xxx\n  Caused by: the real reason\n");
        assertThat(user).doesNotContain("start of a long trace");
        String feedback = parent.feedback();
        assertThat(user).contains("Evaluator feedback:\n[... " + (feedback.length() - 30) + " characters cut ...]\n"
                + feedback.substring(feedback.length() - 30) + "\n");
        // Short texts are shown whole, without a note.
        Attempt shortOne = new Attempt(3, "0", null, Outcome.NO_EDIT, 0.5, Double.NaN,
                "exactly thirty characters!!!!!");
        String u2 = new PromptBuilder(settings(5, true, 30)).build(new Sample(0, parent, List.of(), List.of(),
                List.of(shortOne)), "java", "score", null, true, SCORE).user();
        assertThat(u2).contains("no edit applied\n  exactly thirty characters!!!!!\n")
                .doesNotContain("characters cut ...]\n  exactly");
    }

    /**
     * A cut that falls inside a surrogate pair keeps neither half (the prompt carried the lone low half, which no
     * request body can encode), and one character cut is "1 character".
     */
    @Test
    void cutsKeepWholeCharactersAndCountInTheSingular() {
        Program emoji = new Program("0", "x", null, 0, 0, 0, Map.of("score", 0.5), null,
                "a" + "\ud83d\ude00".repeat(20) + "z", null); // 42 characters: the last 30 start at a low surrogate
        String user = new PromptBuilder(settings(5, true, 30)).build(new Sample(0, emoji, List.of(), List.of(),
                List.of()), "java", "score", null, true, SCORE).user();
        assertThat(user).contains("Evaluator feedback:\n[... 13 characters cut ...]\n" + "\ud83d\ude00".repeat(14)
                + "z\n");
        Program one = new Program("0", "x", null, 0, 0, 0, Map.of("score", 0.5), null, "y".repeat(31), null);
        String u2 = new PromptBuilder(settings(5, true, 30)).build(new Sample(0, one, List.of(), List.of(),
                List.of()), "java", "score", null, true, SCORE).user();
        assertThat(u2).contains("Evaluator feedback:\n[... 1 character cut ...]\n" + "y".repeat(30) + "\n");
    }

    /**
     * {@code max_artifact_bytes: 0}, which the settings accept, cuts every text to its note: building the prompt
     * threw StringIndexOutOfBoundsException (the cut looked at the character after the text's end), and every
     * iteration of such a run failed as internal_error.
     */
    @Test
    void aZeroArtifactLimitShowsOnlyTheNoteOfWhatWasCut() {
        Program parent = new Program("0", "x", null, 0, 0, 0, Map.of("score", 0.5), null, "warning: slow", null);
        Attempt a = new Attempt(2, "0", "2", Outcome.FAILED, 0.5, Double.NaN, "exception: boom");
        String user = new PromptBuilder(settings(5, true, 0)).build(new Sample(0, parent, List.of(), List.of(),
                List.of(a)), "java", "score", null, true, SCORE).user();
        assertThat(user).contains("Evaluator feedback:\n[... 13 characters cut ...]\n\n\n```java\nx\n```")
                .contains("- iteration 2 (edited program 0): failed\n  [... 15 characters cut ...]\n")
                .doesNotContain("slow", "boom");
        assertThat(TextTail.of("", 0)).isEmpty();
        assertThat(TextTail.of("\ud83d\ude00", 0)).isEqualTo("[... 2 characters cut ...]\n");
    }

    @Test
    void feedbackIsOmittedWhenBlankOrArtifactsAreOff() {
        Program parent = new Program("0", "x", null, 0, 0, 0, Map.of(), null, "warning: slow", null);
        Sample s = sample(parent);
        assertThat(new PromptBuilder(settings(5, true, 100)).build(s, "c", "f", null, true, SCORE).user())
                .contains("Metrics: no metrics\nEvaluator feedback:\nwarning: slow\n\n```c\nx\n```");
        assertThat(new PromptBuilder(settings(5, false, 100)).build(s, "c", "f", null, true, SCORE).user())
                .contains("Metrics: no metrics\n\n```c\nx\n```").doesNotContain("warning");
    }

    private static final String MARKED = """
            import a;
            // EVOLVE-BLOCK-START
            int f() { return 1; }
            // EVOLVE-BLOCK-END
            class Fixed {}
            // EVOLVE-BLOCK-START
            int g() { return 2; }
            int h() { return 3; }
            // EVOLVE-BLOCK-END
            """;

    @Test
    void otherProgramsShowOnlyTheirEvolveBlocksWhenTheParentHasMarkers() {
        Program parent = program("0", MARKED, Map.of("score", 0.5));
        Program top = program("4", MARKED.replace("return 1", "return 10"), Map.of("score", 0.8, "time", 1500.25));
        Program unmarked = program("5", "whole program\nline 2", Map.of("score", 0.1));
        Sample s = new Sample(0, parent, List.of(top), List.of(unmarked), List.of());
        String user = new PromptBuilder(PromptSettings.defaults()).build(s, "java", "score", null, true, SCORE).user();
        assertThat(user).contains("""
                # Best programs on this island

                ## Program 4 (score=0.8, time=1500.3)
                ```java
                int f() { return 10; }
                // ... (unchanged code outside the evolve blocks) ...
                int g() { return 2; }
                int h() { return 3; }
                ```

                # Inspirations

                ## Inspiration 5 (score=0.1)
                ```java
                whole program
                line 2
                ```
                """);
        assertThat(user).contains("```java\n" + MARKED + "\n```"); // the parent itself is shown whole
        assertThat(user).contains("Change only the code between the EVOLVE-BLOCK-START and EVOLVE-BLOCK-END");
        assertThat(count(user, "class Fixed")).isEqualTo(1);
    }

    /**
     * The database's inspirations started with the island's best, which is also the first of its best programs
     * unless it is the parent: a replay of docs/evolve/example-run showed both of iteration 7's best programs again
     * as its two inspirations, a third of a 45 KB prompt. Each program is now shown once (whoever built the sample).
     */
    @Test
    void aProgramAmongTheBestIsNotShownAgainAsAnInspiration() {
        Program parent = program("3", "parent code", Map.of("score", 0.5));
        Program best = program("1", "best code", Map.of("score", 0.9));
        Program second = program("2", "second code", Map.of("score", 0.7));
        Program other = program("4", "other code", Map.of("score", 0.1));
        PromptBuilder b = new PromptBuilder(PromptSettings.defaults());
        String user = b.build(new Sample(0, parent, List.of(best, second), List.of(best, other, parent), List.of()),
                "java", "score", null, true, SCORE).user();
        assertThat(count(user, "best code")).isEqualTo(1);
        assertThat(count(user, "parent code")).isEqualTo(1);
        assertThat(user).contains("""
                # Inspirations

                ## Inspiration 4 (score=0.1)
                ```java
                other code
                ```

                # Your task""").doesNotContain("## Inspiration 1 ", "## Inspiration 3 ");
        String none = b.build(new Sample(0, parent, List.of(best, second), List.of(second, best), List.of()),
                "java", "score", null, true, SCORE).user();
        assertThat(none).contains("# Inspirations\n\n(none besides the programs above)\n\n# Your task");
        assertThat(count(none, "second code")).isEqualTo(1);
    }

    @Test
    void otherProgramsAreShownWholeWhenTheParentHasNoMarkers() {
        Program parent = program("0", "plain", Map.of("score", 0.5));
        Program top = program("4", MARKED, Map.of("score", 0.8));
        Sample s = new Sample(0, parent, List.of(top), List.of(), List.of());
        String user = new PromptBuilder(PromptSettings.defaults()).build(s, "java", "score", null, false, SCORE)
                .user();
        assertThat(user).contains("## Program 4 (score=0.8)\n```java\n" + MARKED
                + "```\n\n# Inspirations\n\n(none besides the programs above)");
        assertThat(user).doesNotContain("Change only the code between");
    }

    @Test
    void malformedMarkersDoNotBreakThePrompt() {
        String broken = "a\n// EVOLVE-BLOCK-START\nb\n";
        Program parent = program("0", broken, Map.of("score", 0.5));
        Program other = program("1", "x\n// EVOLVE-BLOCK-END\n", Map.of());
        Sample s = new Sample(0, parent, List.of(other), List.of(), List.of());
        String user = new PromptBuilder(PromptSettings.defaults()).build(s, "java", "score", null, true, SCORE).user();
        assertThat(user).contains("```java\n" + broken + "\n```").contains("## Program 1 (no metrics)\n```java\nx\n");
        Program marked = program("2", MARKED, Map.of());
        String u2 = new PromptBuilder(PromptSettings.defaults()).build(new Sample(0, marked, List.of(other),
                List.of(), List.of()), "java", "score", null, true, SCORE).user();
        assertThat(u2).contains("## Program 1 (no metrics)\n```java\nx\n// EVOLVE-BLOCK-END\n```");
    }

    @Test
    void templateDirReplacesOnlyTheFilesItHolds() throws Exception {
        Files.writeString(tmp.resolve("diff_user.txt"), "CUSTOM {metrics} | {program} | {unknown}");
        PromptBuilder b = new PromptBuilder(new PromptSettings(null, tmp, 5, true, 100));
        Program parent = program("0", "code {metrics}", Map.of("score", 2.0));
        assertThat(b.build(sample(parent), "java", "score", null, true, SCORE).user())
                .isEqualTo("CUSTOM score=2 | code {metrics} | {unknown}");
        Prompt full = b.build(sample(parent), "java", "score", null, false, SCORE);
        assertThat(full.user()).startsWith("# Current program").contains("Rewrite the program");
        assertThat(full.system()).startsWith("You are an expert");
    }

    /** The user's system.txt was silently ignored for a task with a system message of its own (EPLB's). */
    @Test
    void aSystemTemplateInTheTemplateDirComesBeforeTheTasksMessage() throws Exception {
        Files.writeString(tmp.resolve("system.txt"), "MY SYSTEM for {fitness_metric}");
        Program parent = program("0", "x", Map.of("score", 1.0));
        assertThat(new PromptBuilder(new PromptSettings(null, tmp, 5, true, 100)).build(sample(parent), "java",
                "score", "Task says.", true, SCORE).system()).isEqualTo("MY SYSTEM for score");
        // prompt.system_message still comes first.
        assertThat(new PromptBuilder(new PromptSettings("Mine", tmp, 5, true, 100)).build(sample(parent), "java",
                "score", "Task says.", true, SCORE).system()).isEqualTo("Mine");
        // A directory without system.txt leaves the task's message.
        Path other = Files.createDirectory(tmp.resolve("other"));
        assertThat(new PromptBuilder(new PromptSettings(null, other, 5, true, 100)).build(sample(parent), "java",
                "score", "Task says.", true, SCORE).system()).isEqualTo("Task says.");
    }

    /**
     * OpenEvolve's templates name the program {current_program}: such a template from an OpenEvolve setup was
     * taken, the placeholder left as it was, and every prompt went out without the program. Its system_message.txt
     * was ignored. Both are refused, naming the file and moelab's name.
     */
    @Test
    void openEvolvePlaceholdersAndFileNamesAreRefusedNamingMoelabs() throws Exception {
        Path d = Files.createDirectory(tmp.resolve("oe"));
        Path diff = Files.writeString(d.resolve("diff_user.txt"), "# Current Program\n```{language}\n"
                + "{current_program}\n```\n{evolution_history}\n");
        assertThatThrownBy(() -> new PromptBuilder(new PromptSettings(null, d, 5, true, 100)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage(diff + ": {current_program} is OpenEvolve's placeholder, which moelab does not fill: use "
                        + "{program}");
        Files.writeString(diff, "{metrics}\n{artifacts}\n{program}");
        assertThatThrownBy(() -> new PromptBuilder(new PromptSettings(null, d, 5, true, 100)))
                .hasMessage(diff + ": {artifacts} is OpenEvolve's placeholder, which moelab does not fill: use "
                        + "{evaluator_feedback}");
        Files.delete(diff);
        Path system = Files.writeString(d.resolve("system_message.txt"), "Be brief.");
        assertThatThrownBy(() -> new PromptBuilder(new PromptSettings(null, d, 5, true, 100)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage(system + ": OpenEvolve's name for the system template, which moelab does not read: "
                        + "name it system.txt");
    }

    @Test
    void missingTemplateDirIsAnInputError() throws Exception {
        assertThatThrownBy(() -> new PromptBuilder(new PromptSettings(null, tmp.resolve("nope"), 5, true, 100)))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("nope");
        Path file = Files.writeString(tmp.resolve("file.txt"), "x");
        assertThatThrownBy(() -> new PromptBuilder(new PromptSettings(null, file, 5, true, 100)))
                .isInstanceOf(InvalidInputException.class);
    }

    @Test
    void aTemplateThatIsNotUtf8IsAnInputErrorNamingIt() throws Exception {
        Path bad = Files.write(tmp.resolve("system.txt"), new byte[] {'h', 'i', ' ', (byte) 0xff, (byte) 0xfe});
        assertThatThrownBy(() -> new PromptBuilder(new PromptSettings(null, tmp, 5, true, 100)))
                .isInstanceOf(InvalidInputException.class).hasMessage(bad + ": cannot read: not UTF-8 text");
    }

    @Test
    void numbersAreShortAndReadable() {
        assertThat(PromptBuilder.number(0.5)).isEqualTo("0.5");
        assertThat(PromptBuilder.number(1.0 / 3)).isEqualTo("0.3333");
        assertThat(PromptBuilder.number(2.0 / 3 * 100)).isEqualTo("66.67");
        assertThat(PromptBuilder.number(100)).isEqualTo("100");
        assertThat(PromptBuilder.number(10)).isEqualTo("10");
        assertThat(PromptBuilder.number(0)).isEqualTo("0");
        assertThat(PromptBuilder.number(-0.25)).isEqualTo("-0.25");
        assertThat(PromptBuilder.number(999.99)).isEqualTo("1000");
        assertThat(PromptBuilder.number(1234.5678)).isEqualTo("1234.6");
        assertThat(PromptBuilder.number(-20000)).isEqualTo("-20000");
        // Past 15 digits a double's digits are noise: 1e300 was written out in 301 digits, in every prompt showing
        // that metric.
        assertThat(PromptBuilder.number(123456789012345.0)).isEqualTo("123456789012345");
        assertThat(PromptBuilder.number(1e300)).isEqualTo("1e+300");
        assertThat(PromptBuilder.number(-2.5e20)).isEqualTo("-2.5e+20");
        assertThat(PromptBuilder.number(1.23456e16)).isEqualTo("1.235e+16");
        // Small numbers in scientific form lose their trailing zeros as others do (1.000e-05 before).
        assertThat(PromptBuilder.number(1e-5)).isEqualTo("1e-05");
        assertThat(PromptBuilder.number(-1.5e-7)).isEqualTo("-1.5e-07");
        assertThat(PromptBuilder.number(Double.MIN_VALUE)).isEqualTo("4.9e-324");
        assertThat(PromptBuilder.number(1e9)).isEqualTo("1000000000");
        assertThat(PromptBuilder.number(Double.NaN)).isEqualTo("n/a");
        assertThat(PromptBuilder.number(Double.NEGATIVE_INFINITY)).isEqualTo("n/a");
        assertThat(PromptBuilder.metrics(program("0", "", Map.of("z", 1.5, "a", 2.0, "m", Double.NaN))))
                .isEqualTo("a=2, m=n/a, z=1.5");
        assertThat(PromptBuilder.metrics(program("0", "", Map.of()))).isEqualTo("no metrics");
    }

    /** An attempt's two fitnesses read differently when they differ, however little; equal ones read alike. */
    @Test
    void anAttemptsFitnessesReadDifferentlyWhenTheyDiffer() {
        Program parent = program("0", "x", Map.of("score", 63.5589));
        List<Attempt> attempts = List.of(
                new Attempt(4, "0", "4", Outcome.IMPROVED, 63.5589, 63.5612, ""),
                new Attempt(3, "0", "3", Outcome.REGRESSED, 1234.51, 1234.54, ""),
                new Attempt(2, "0", "2", Outcome.UNCHANGED, 0.25, 0.25, ""),
                new Attempt(1, "0", "1", Outcome.IMPROVED, 0.1, 0.5, ""));
        String user = new PromptBuilder(settings(5, true, 100)).build(new Sample(0, parent, List.of(), List.of(),
                attempts), "java", "score", null, true, SCORE).user();
        assertThat(user).contains("""
                - iteration 4 (edited program 0): improved, fitness 63.559 -> 63.561
                - iteration 3 (edited program 0): regressed, fitness 1234.51 -> 1234.54
                - iteration 2 (edited program 0): unchanged, fitness 0.25 -> 0.25
                - iteration 1 (edited program 0): improved, fitness 0.1 -> 0.5
                """);
        assertThat(PromptBuilder.change(1.0, Math.nextUp(1.0))).isEqualTo("1 -> 1.0000000000000002");
        assertThat(PromptBuilder.change(Double.NaN, 2)).isEqualTo("n/a -> 2");
    }

    @Test
    void evolveRegionsJoinsRegionsWithAnElisionLine() {
        assertThat(PromptBuilder.evolveRegions(MARKED)).isEqualTo("""
                int f() { return 1; }
                // ... (unchanged code outside the evolve blocks) ...
                int g() { return 2; }
                int h() { return 3; }""");
        assertThat(PromptBuilder.evolveRegions("// EVOLVE-BLOCK-START\n// EVOLVE-BLOCK-END\n")).isEmpty();
        // The elision line is a comment of the program's language, as its markers are (it was // in Python too).
        assertThat(PromptBuilder.evolveRegions("""
                import os
                # EVOLVE-BLOCK-START
                def f(): return 1
                # EVOLVE-BLOCK-END
                x = 2
                    # EVOLVE-BLOCK-START
                def g(): return 2
                # EVOLVE-BLOCK-END
                EVOLVE-BLOCK-START
                h = 3
                EVOLVE-BLOCK-END
                """)).isEqualTo("""
                def f(): return 1
                # ... (unchanged code outside the evolve blocks) ...
                def g(): return 2
                ... (unchanged code outside the evolve blocks) ...
                h = 3""");
        assertThat(PromptBuilder.evolveRegions("no markers")).isEmpty();
    }

    @Test
    void settingsRangesAtTheirEdges() {
        assertThat(settings(0, true, 0).numPreviousAttempts()).isZero();
        assertThat(settings(50, true, 0).numPreviousAttempts()).isEqualTo(50);
        assertThatThrownBy(() -> settings(-1, true, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("prompt.num_previous_attempts: must not be negative, got -1");
        assertThatThrownBy(() -> settings(51, true, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("prompt.num_previous_attempts: must be at most 50 (the recent attempts each island "
                        + "keeps), got 51");
        assertThatThrownBy(() -> settings(5, true, -1)).isInstanceOf(InvalidInputException.class)
                .hasMessage("prompt.max_artifact_bytes: must not be negative, got -1");
        assertThat(PromptSettings.defaults()).isEqualTo(new PromptSettings(null, null, 5, true, 2000));
    }

    /** A parent alone on its island: no best programs and no inspirations yet, and the prompt says so. */
    @Test
    void aParentAloneShowsNoneYetForTheOtherPrograms() {
        String user = new PromptBuilder(PromptSettings.defaults()).build(sample(program("0", "x", Map.of("score",
                1.0))), "java", "score", null, true, SCORE).user();
        assertThat(user).contains("# Best programs on this island\n\n(none yet)\n\n# Inspirations\n\n(none yet)\n\n"
                + "# Your task");
    }

    /** Fixed-point up to 15 digits, 10^15 and above as a mantissa and exponent. */
    @Test
    void numbersOf16DigitsAreWrittenWithAnExponent() {
        assertThat(PromptBuilder.number(999_999_999_999_999.0)).isEqualTo("999999999999999");
        assertThat(PromptBuilder.number(1e15)).isEqualTo("1e+15");
        assertThat(PromptBuilder.number(-1e15)).isEqualTo("-1e+15");
        assertThat(PromptBuilder.number(1000)).isEqualTo("1000");
    }

    /** A cut inside a pair moves past its second half, whatever follows. */
    @Test
    void aCutInsideAPairBeforePlainText() {
        assertThat(TextTail.of("a\ud83d\ude00b", 2)).isEqualTo("[... 3 characters cut ...]\nb");
        assertThat(TextTail.of("a\ud83d\ude00", 1)).isEqualTo("[... 3 characters cut ...]\n");
        assertThat(TextTail.of("ab\ude00c", 2)).as("a lone second half is no pair").isEqualTo(
                "[... 2 characters cut ...]\n\ude00c");
    }
}
