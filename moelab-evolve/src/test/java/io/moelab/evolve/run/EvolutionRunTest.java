package io.moelab.evolve.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.config.EvolveConfig;
import io.moelab.evolve.eval.ShellTask;
import io.moelab.evolve.llm.CostLedger;
import io.moelab.evolve.llm.LlmClient;
import io.moelab.evolve.llm.LlmEnsemble;
import io.moelab.evolve.process.Directories;
import io.moelab.evolve.testing.ScriptedChatServer.Reply;
import io.moelab.evolve.testing.ScriptedChatServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The loop against a real HTTP server with scripted answers, on a task whose candidates are shell scripts
 * printing their own score (so that each case is cheap): what is kept, what is recorded, how failures and
 * crashes are survived.
 */
class EvolutionRunTest {
    static final String INITIAL = """
            # EVOLVE-BLOCK-START
            score=1
            extra=0
            # EVOLVE-BLOCK-END
            echo "{\\"score\\": $score}"
            """;

    @TempDir
    Path tmp;
    ScriptedChatServer server;

    @BeforeEach
    void start() {
        server = ScriptedChatServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static String edit(String from, String to) {
        return "Idea.\n<<<<<<< SEARCH\n" + from + "\n=======\n" + to + "\n>>>>>>> REPLACE\n";
    }

    private EvolveSettings settings(int iterations, String extraYaml) throws Exception {
        Path cfg = tmp.resolve("config.yaml");
        Files.writeString(cfg, """
                checkpoint_interval: 2
                database:
                  num_islands: 2
                  migration_interval: 2
                evaluator:
                  timeout: 4
                """);
        // Overlaid from a second file: one file may not give a key twice.
        Path extra = Files.writeString(tmp.resolve("extra.yaml"), extraYaml);
        return EvolveConfig.defaults("score").read(cfg).read(extra).iterations(iterations).model("scripted")
                .apiBase(server.apiBase()).build(null);
    }

    private RunSummary run(EvolveSettings s, Path out, boolean resume) throws Exception {
        return run(s, out, resume, RunListener.NONE);
    }

    private RunSummary run(EvolveSettings s, Path out, boolean resume, RunListener listener) throws Exception {
        return run(INITIAL, s, out, resume, listener);
    }

    private RunSummary run(String initial, EvolveSettings s, Path out, boolean resume, RunListener listener)
            throws Exception {
        CostLedger ledger = new CostLedger();
        LlmClient client = LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null);
        ShellTask task = ShellTask.of(initial, "sh \"$1\"");
        return new EvolutionRun(task, s, client, ledger, out, listener).run(resume);
    }

    static List<JsonNode> trace(Path out) throws Exception {
        try (Stream<String> lines = Files.lines(out.resolve("trace.jsonl"))) {
            return lines.map(l -> RunDirectory.JSON.readTree(l)).toList();
        }
    }

    /**
     * An answer holding an unpaired UTF-16 surrogate (a JSON escape like \\ud800 alone) is an llm_error naming it:
     * the edit applied, and the child then failed as evaluator_error, "Input length = 1", when it was written.
     */
    @Test
    void anAnswerThatIsNotValidUnicodeIsAnLlmError() throws Exception {
        String content = RunDirectory.JSON.writeValueAsString(edit("score=1", "score=5 # MARK"))
                .replace("MARK", "\\ud800");
        server.enqueue(Reply.raw(200, "{\"choices\": [{\"index\": 0, \"finish_reason\": \"stop\", \"message\": "
                + "{\"role\": \"assistant\", \"content\": " + content + "}}], \"usage\": {\"prompt_tokens\": 1, "
                + "\"completion_tokens\": 1, \"total_tokens\": 2}}"));
        Path out = tmp.resolve("surrogate");
        RunSummary summary = run(settings(1, ""), out, false);
        assertThat(summary.completed()).isEqualTo(1);
        JsonNode line = trace(out).get(1);
        assertThat(line.get("error").asString()).isEqualTo("llm_error");
        assertThat(line.get("error_message").asString()).isEqualTo("malformed_response: the answer holds an "
                + "unpaired UTF-16 surrogate at character " + edit("score=1", "score=5 # MARK").indexOf("MARK")
                + ", which is not valid Unicode");
        assertThat(EvolutionRun.unpairedSurrogate("a\ud83d\ude00b")).isEqualTo(-1);
        assertThat(EvolutionRun.unpairedSurrogate("a\ude00\ud83d")).isEqualTo(1);
        assertThat(EvolutionRun.unpairedSurrogate("ab\ud83d")).isEqualTo(2);
    }

    /** Feedback cut to its last 4000 characters kept half of a surrogate pair when the cut fell inside one. */
    @Test
    void cutFeedbackNeverSplitsASurrogatePair() {
        String emoji = "\ud83d\ude00";
        String feedback = "a" + emoji.repeat(2500) + "b"; // 5002 characters; the last 4000 start at a low surrogate
        String cut = EvolutionRun.cut(feedback);
        assertThat(cut).isEqualTo("[... 1003 characters cut ...]\n" + feedback.substring(1003));
        assertThat(EvolutionRun.unpairedSurrogate(cut)).isEqualTo(-1);
        String plain = "x".repeat(4001);
        assertThat(EvolutionRun.cut(plain)).isEqualTo("[... 1 character cut ...]\n" + "x".repeat(4000));
    }

    @Test
    void improvingEditBecomesBestAndEveryFailureIsRecorded() throws Exception {
        server.enqueue(
                Reply.content(edit("score=1", "score=5")),                       // 1: improves
                Reply.content("I would rather not edit anything."),              // 2: no edit
                Reply.status(429).withHeader("Retry-After", "0"),                // 3: retried...
                Reply.content(edit("extra=0", "sleep 30; extra=9")),             //    ...then hangs
                Reply.raw(200, "{\"choices\": [oops"),                           // 4: malformed, retried...
                Reply.content(edit("extra=0", "exit 3")),                        //    ...then exits
                Reply.status(500), Reply.status(500), Reply.status(500), Reply.status(500), // 5: llm error
                Reply.content(edit("score=404", "score=2")),                     // 6: does not apply
                Reply.content(edit("echo", "echo")));                            // 7: outside the block
        Path out = tmp.resolve("run");
        RunSummary summary = run(settings(7, ""), out, false);

        assertThat(summary.completed()).isEqualTo(7);
        assertThat(summary.bestId()).isEqualTo("1");
        assertThat(summary.bestFitness()).isEqualTo(5.0);
        assertThat(summary.initialFitness()).isEqualTo(1.0);
        List<JsonNode> t = trace(out);
        assertThat(t).hasSize(8);
        assertThat(t.stream().map(n -> n.get("iteration").asLong())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
        assertThat(t.get(1).get("outcome").asString()).isEqualTo("improved");
        assertThat(t.get(1).get("metrics").get("score").asDouble()).isEqualTo(5.0);
        assertThat(t.get(1).get("island").asInt()).isEqualTo(1);
        assertThat(t.get(1).get("tokens").asLong()).isEqualTo(150);
        assertThat(t.get(2).get("error").asString()).isEqualTo("no_edit");
        assertThat(t.get(3).get("error").asString()).isEqualTo("timeout");
        assertThat(t.get(4).get("error").asString()).isEqualTo("exit");
        assertThat(t.get(4).get("error_message").asString()).contains("code 3");
        assertThat(t.get(5).get("error").asString()).isEqualTo("llm_error");
        assertThat(t.get(5).get("error_message").asString()).contains("server_error");
        assertThat(t.get(6).get("error").asString()).isEqualTo("no_edit");
        assertThat(t.get(6).get("error_message").asString()).contains("not found");
        assertThat(t.get(7).get("error").asString()).isEqualTo("no_edit");
        // By kind in alphabetical order, as the closing summary prints them: the same run prints the same line.
        assertThat(summary.errors()).containsExactly(entry("exit", 1), entry("llm_error", 1), entry("no_edit", 3),
                entry("timeout", 1));

        assertThat(Files.readString(out.resolve("best/program.sh"))).contains("score=5");
        JsonNode info = RunDirectory.readJson(out.resolve("best/best_program_info.json"));
        assertThat(info.get("id").asString()).isEqualTo("1");
        assertThat(info.get("metrics").get("score").asDouble()).isEqualTo(5.0);
        assertThat(Files.readString(out.resolve("programs/3.sh"))).contains("sleep 30");
        assertThat(out.resolve("checkpoints/checkpoint_6")).isDirectory();
        assertThat(out.resolve("checkpoints/checkpoint_7")).isDirectory();
        assertThat(out.resolve("work/3")).doesNotExist();
        assertThat(Files.readString(out.resolve("prompts/2.md"))).startsWith("# System").contains("# User")
                .contains("score=1");
    }

    /**
     * "Some edits did not apply" describes the edit that made a child, yet it was stored as the child's evaluator
     * feedback: the prompt editing that child showed it as "Evaluator feedback", about an edit to its parent. The
     * note is now the attempt's (trace field edit_note), and a trace line without it reads as having none.
     */
    @Test
    void anEditsNoteBelongsToItsAttemptNotToTheChildsEvaluatorFeedback() throws Exception {
        server.enqueue(Reply.content(edit("score=1", "score=5") + edit("score=404", "score=2")));
        server.fallback(req -> Reply.content("no edit"));
        // One island whose archive holds its best only: iteration 2 edits program 1.
        String yaml = "database:\n  num_islands: 1\n  archive_size: 1\n  exploration_ratio: 0\n"
                + "  exploitation_ratio: 1\n";
        Path out = tmp.resolve("run");
        run(settings(2, yaml), out, false);
        List<JsonNode> t = trace(out);
        assertThat(t.get(1).get("edits_failed").asInt()).isEqualTo(1);
        assertThat(t.get(1).get("feedback").asString()).isEmpty();
        assertThat(t.get(1).get("edit_note").asString()).startsWith("Some edits did not apply:").contains("score=404");
        assertThat(t.get(2).get("parent_id").asString()).isEqualTo("1");
        String prompt2 = server.requests().get(1).get("messages").get(1).get("content").asString();
        int attempts = prompt2.indexOf("# Previous attempts");
        assertThat(prompt2.substring(0, attempts)).doesNotContain("did not apply").doesNotContain("Evaluator feedback");
        assertThat(prompt2.substring(attempts, prompt2.indexOf("# Best programs")))
                .contains("iteration 1 (edited program 0): improved").contains("Some edits did not apply");

        tools.jackson.databind.node.ObjectNode line = ((tools.jackson.databind.node.ObjectNode) t.get(1)).deepCopy();
        line.remove("edit_note");
        TraceRecord old = TraceRecord.fromJson(line);
        assertThat(old.editNote()).isEmpty();
        assertThat(old.attempt().summary()).isEmpty();
    }

    /** What an answer says it changes: its words before the first edit block (or code block), on one line. */
    @Test
    void anAttemptsChangesAreTheAnswersWordsBeforeItsEdits() {
        assertThat(EvolutionRun.changes("Replicate the hottest\n  experts first.\n\n<<<<<<< SEARCH\na\n=======\nb\n"
                + ">>>>>>> REPLACE\n", true)).isEqualTo("Replicate the hottest experts first.");
        assertThat(EvolutionRun.changes("Rewrite it.\n```java\nclass A {}\n```\n", false)).isEqualTo("Rewrite it.");
        // No words, or no edit to describe.
        assertThat(EvolutionRun.changes("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", true)).isEmpty();
        assertThat(EvolutionRun.changes("I would rather not edit anything.", true)).isEmpty();
        assertThat(EvolutionRun.changes("I would rather not.", false)).isEmpty();
        // A long explanation is cut to 300 characters, never inside a surrogate pair.
        String cut = EvolutionRun.changes("\uD83D\uDE00".repeat(400) + "\n```sh\nx\n```", false);
        assertThat(cut).endsWith("...").hasSizeBetween(299, 300);
        assertThat(EvolutionRun.unpairedSurrogate(cut)).isEqualTo(-1);
    }

    /** The next prompt of the island says what an attempt changed, also after a resume from its trace. */
    @Test
    void previousAttemptsSayWhatEachChanged() throws Exception {
        server.enqueue(Reply.content("Raise the score\nto five.\n<<<<<<< SEARCH\nscore=1\n=======\nscore=5\n"
                + ">>>>>>> REPLACE\n"));
        server.fallback(req -> Reply.content("no edit"));
        String yaml = "checkpoint_interval: 10\ndatabase:\n  num_islands: 1\n";
        Path out = tmp.resolve("run");
        run(settings(2, yaml), out, false);
        assertThat(trace(out).get(1).get("changes").asString()).isEqualTo("Raise the score to five.");
        String attempt = "- iteration 1 (edited program 0): improved, fitness 1 -> 5\n"
                + "  Changes: Raise the score to five.";
        assertThat(server.requests().get(1).get("messages").get(1).get("content").asString()).contains(attempt);
        run(settings(3, yaml), out, true);
        assertThat(server.requests().get(2).get("messages").get(1).get("content").asString()).contains(attempt);
    }

    /**
     * Once a write of the run's journal failed (the run is then fatal), iterations still in flight went on writing
     * their programs and trace lines: after an append that failed half-way, a whole line after the torn one made the
     * trace unreadable to a resume. Nothing is written after a failure. Here the first child evaluated blocks its
     * own program file (a directory in its place) while the other one is still running.
     */
    @Test
    void nothingIsWrittenAfterAJournalWriteFailed() throws Exception {
        Path out = tmp.resolve("run");
        String block = "score=2\nif mkdir \"" + tmp.resolve("lock") + "\" 2>/dev/null; then mkdir -p \""
                + out.resolve("programs") + "/$(basename \"$(dirname \"$0\")\").sh/x\"; else sleep 2; fi\n";
        server.fallback(req -> Reply.content("```bash\n" + INITIAL.replace("score=1\n", block) + "```\n"));
        String yaml = "diff_based_evolution: false\nevaluator:\n  parallel_evaluations: 2\n";
        assertThatThrownBy(() -> run(settings(2, yaml), out, false)).isInstanceOf(java.io.IOException.class);
        assertThat(server.requestCount()).isEqualTo(2);
        assertThat(trace(out)).hasSize(1);
        try (Stream<Path> programs = Files.list(out.resolve("programs"))) {
            assertThat(programs.map(p -> p.getFileName().toString()))
                    .allSatisfy(name -> assertThat(name).isIn("0.sh", "1.sh", "2.sh"))
                    .noneMatch(name -> Files.isRegularFile(out.resolve("programs").resolve(name))
                            && !name.equals("0.sh"));
        }
    }

    @Test
    void nextPromptsTellTheModelWhatWentWrong() throws Exception {
        server.enqueue(Reply.content(edit("score=404", "score=2")), Reply.content("no edit"),
                Reply.content(edit("score=1", "exit 7")));
        server.fallback(req -> Reply.content("no edit"));
        run(settings(5, ""), tmp.resolve("run"), false);
        // Iterations 1 and 3 work on island 1; the third prompt of island 1 is iteration 5.
        List<JsonNode> requests = server.requests();
        String prompt5 = requests.get(4).get("messages").get(1).get("content").asString();
        assertThat(prompt5).contains("iteration 3").contains("exit").contains("code 7");
        assertThat(prompt5).contains("iteration 1").contains("not found");
        assertThat(requests.get(0).get("model").asString()).isEqualTo("scripted");
    }

    @Test
    void islandsStayApartUntilMigration() throws Exception {
        server.enqueue(Reply.content(edit("score=1", "score=5")));
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(3, "database:\n  num_islands: 2\n  migration_interval: 100\n"), out, false);
        // Program 1 lives on island 1; iteration 2 (island 0) must not see it.
        String prompt2 = server.requests().get(1).get("messages").get(1).get("content").asString();
        assertThat(prompt2).doesNotContain("score=5");
        String prompt3 = server.requests().get(2).get("messages").get(1).get("content").asString();
        assertThat(prompt3).contains("score=5");
    }

    /**
     * An iteration whose answer gives no child counts toward the migration interval as a child does: with two
     * islands and an interval of 1, a child on island 1 and an unusable answer on island 0 are a migration (only
     * children counted, so a model that often answered unusably kept the islands apart far longer).
     */
    @Test
    void unusableAnswersCountTowardMigration() throws Exception {
        server.enqueue(Reply.content(edit("score=1", "score=5")));
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("migrate");
        run(settings(3, "database:\n  num_islands: 2\n  migration_interval: 1\n"), out, false);
        assertThat(trace(out).stream().map(l -> l.get("outcome").asString()).toList())
                .containsExactly("unchanged", "improved", "no_edit", "no_edit");
        JsonNode database = RunDirectory.readJson(out.resolve("checkpoints/checkpoint_3/database.json"));
        assertThat(database.get("migrations").asInt()).isEqualTo(1);
        // Program 1 (island 1) was copied to island 0 after iteration 2; iteration 2's prompt (island 0, before
        // the migration) did not show it.
        assertThat(database.get("programs").toString()).contains("\"1>0\"");
        String prompt2 = server.requests().get(1).get("messages").get(1).get("content").asString();
        assertThat(prompt2).doesNotContain("score=5");
    }

    @Test
    void resumeAfterACrashLosesNoCompletedIteration() throws Exception {
        server.fallback(req -> {
            int n = server.requestCount();
            return Reply.content(edit("score=1", "score=" + (n + 1)));
        });
        Path out = tmp.resolve("run");
        run(settings(5, "database:\n  num_islands: 1\n"), out, false);
        List<JsonNode> before = trace(out);
        assertThat(before).hasSize(6);
        // Simulate a crash after iteration 5's line: the newest checkpoint (5) never got written, and a torn
        // line from an iteration in flight ends the trace.
        Directories.deleteTree(out.resolve("checkpoints/checkpoint_5"));
        Files.writeString(out.resolve("trace.jsonl"), "{\"iteration\": 6, \"isl",
                java.nio.file.StandardOpenOption.APPEND);

        RunSummary resumed = run(settings(8, "database:\n  num_islands: 1\n"), out, true);
        assertThat(resumed.completed()).isEqualTo(8);
        List<JsonNode> after = trace(out);
        assertThat(after).hasSize(9);
        for (int i = 0; i < before.size(); i++) {
            assertThat(after.get(i)).isEqualTo(before.get(i));
        }
        assertThat(after.stream().map(n -> n.get("iteration").asLong())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L,
                6L, 7L, 8L);
        // Only iterations 6..8 called the model again.
        assertThat(server.requestCount()).isEqualTo(8);
    }

    /**
     * A parallel run's crash can lose an iteration while a later one completes (1-3 and 5 traced, 4 lost). The total
     * counts completed iterations: a resume to 4 ran iteration 4 all the same and reported "completed 5 of 4"; it
     * now has nothing to run, and a resume to 6 runs the two lowest missing numbers, 4 and 6.
     */
    @Test
    void aResumeOverATraceWithAGapCompletesTheTotalAndNoMore() throws Exception {
        server.fallback(req -> Reply.content(edit("score=1", "score=" + (server.requestCount() + 1))));
        Path out = tmp.resolve("run");
        run(settings(5, "database:\n  num_islands: 1\n"), out, false);
        assertThat(server.requestCount()).isEqualTo(5);
        Path trace = out.resolve("trace.jsonl");
        List<String> lines = Files.readAllLines(trace);
        assertThat(lines.get(4)).contains("\"iteration\":4,");
        Files.write(trace, List.of(lines.get(0), lines.get(1), lines.get(2), lines.get(3), lines.get(5)));
        // The checkpoints after the lost iteration were never written; checkpoint_2 stays.
        Directories.deleteTree(out.resolve("checkpoints/checkpoint_4"));
        Directories.deleteTree(out.resolve("checkpoints/checkpoint_5"));

        RunSummary same = run(settings(4, "database:\n  num_islands: 1\n"), out, true);
        assertThat(same.completed()).isEqualTo(4);
        assertThat(server.requestCount()).isEqualTo(5);
        assertThat(trace(out).stream().map(n -> n.get("iteration").asLong())).containsExactly(0L, 1L, 2L, 3L, 5L);

        RunSummary more = run(settings(6, "database:\n  num_islands: 1\n"), out, true);
        assertThat(more.completed()).isEqualTo(6);
        assertThat(server.requestCount()).isEqualTo(7);
        assertThat(trace(out).stream().map(n -> n.get("iteration").asLong()))
                .containsExactlyInAnyOrder(0L, 1L, 2L, 3L, 5L, 4L, 6L);
    }

    /**
     * A crash after iteration 3's trace line and before best/ was replaced: the resume replays the line (its
     * checkpoint was never written) and best/ must then hold program 3, which the trace says is the best.
     */
    @Test
    void resumeBringsBestUpToTheTrace() throws Exception {
        server.enqueue(Reply.content("no edit"), Reply.content("no edit"), Reply.content(edit("score=1", "score=7")));
        Path out = tmp.resolve("run");
        run(settings(3, "database:\n  num_islands: 1\n"), out, false);
        assertThat(RunDirectory.readJson(out.resolve("best/best_program_info.json")).get("id").asString())
                .isEqualTo("3");
        Directories.deleteTree(out.resolve("checkpoints/checkpoint_3"));
        Files.writeString(out.resolve("best/program.sh"), INITIAL);
        Files.writeString(out.resolve("best/best_program_info.json"), "{\"id\": \"0\"}\n");

        run(settings(3, "database:\n  num_islands: 1\n"), out, true);
        JsonNode info = RunDirectory.readJson(out.resolve("best/best_program_info.json"));
        assertThat(info.get("id").asString()).isEqualTo("3");
        assertThat(info.get("metrics").get("score").asDouble()).isEqualTo(7.0);
        assertThat(Files.readString(out.resolve("best/program.sh"))).contains("score=7")
                .isEqualTo(Files.readString(out.resolve("programs/3.sh")));
    }

    /**
     * best/'s program and info are replaced together: when the info cannot be written (here a directory stands in
     * its place), the program is not replaced either; two separate writes left a best program without its info.
     */
    @Test
    void bestProgramIsNotWrittenWithoutItsInfo() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        Files.createDirectories(out.resolve("best/best_program_info.json"));
        assertThatThrownBy(() -> run(settings(1, ""), out, false)).hasMessageContaining("best_program_info.json");
        assertThat(out.resolve("best/program.sh")).doesNotExist();
        try (Stream<Path> files = Files.list(out.resolve("best"))) {
            assertThat(files).containsExactly(out.resolve("best/best_program_info.json")); // no temporary file left
        }
    }

    /**
     * A failure after an iteration's trace line was written (here the listener told of it throws) was caught as the
     * iteration's internal_error and written as a second line for the same iteration, a trace no resume accepts.
     * Now the run ends with the failure, its trace whole, and a resume continues it.
     */
    @Test
    void aFailureAfterTheTraceLineDoesNotTraceTheIterationTwice() throws Exception {
        server.fallback(req -> Reply.content(edit("score=1", "score=2")));
        Path out = tmp.resolve("run");
        RunListener throwing = new RunListener() {
            @Override
            public void iteration(IterationReport r) {
                if (r.record().iteration() == 1) {
                    throw new IllegalStateException("listener failed");
                }
            }
        };
        // The worker's exception itself, not wrapped.
        assertThatThrownBy(() -> run(settings(3, "database:\n  num_islands: 1\n"), out, false, throwing))
                .isInstanceOf(IllegalStateException.class).hasMessage("listener failed");
        assertThat(trace(out)).extracting(n -> n.get("iteration").asLong()).containsExactly(0L, 1L);
        assertThat(trace(out).get(1).get("outcome").asString()).isEqualTo("improved");
        RunSummary resumed = run(settings(3, "database:\n  num_islands: 1\n"), out, true);
        assertThat(resumed.completed()).isEqualTo(3);
        assertThat(trace(out)).extracting(n -> n.get("iteration").asLong()).containsExactly(0L, 1L, 2L, 3L);
    }

    /** Resumes a one-island run in {@code out} to {@code iterations}, collecting its messages. */
    private RunSummary resumeOneIsland(Path out, int iterations, List<String> messages) throws Exception {
        return run(settings(iterations, "database:\n  num_islands: 1\n"), out, true, new RunListener() {
            @Override
            public void message(String text) {
                messages.add(text);
            }
        });
    }

    /**
     * A power cut can leave the newest checkpoint's files empty (renamed before they reached the disk): the
     * resume refused the run; it now warns, drops that checkpoint and resumes from the one before, replaying the
     * trace after it, so no completed iteration is lost or run twice.
     */
    @Test
    void anUnreadableNewestCheckpointFallsBackToTheOneBefore() throws Exception {
        server.fallback(req -> Reply.content(edit("score=1", "score=" + (server.requestCount() + 1))));
        Path out = tmp.resolve("run");
        run(settings(4, "database:\n  num_islands: 1\n"), out, false);
        List<JsonNode> before = trace(out);
        Path newest = out.resolve("checkpoints/checkpoint_4");
        Files.writeString(newest.resolve("database.json"), "");

        List<String> messages = new java.util.ArrayList<>();
        RunSummary resumed = resumeOneIsland(out, 5, messages);
        assertThat(messages).containsExactly("warning: skipping unreadable checkpoint " + newest + " (removed); "
                + "resuming from checkpoint_2 and the trace after it");
        assertThat(resumed.completed()).isEqualTo(5);
        assertThat(resumed.bestFitness()).isEqualTo(6.0); // iteration 5's score=6, after scores 2..5
        List<JsonNode> after = trace(out);
        assertThat(after.subList(0, before.size())).isEqualTo(before);
        assertThat(after.stream().map(n -> n.get("iteration").asLong())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(server.requestCount()).isEqualTo(5);
        assertThat(out.resolve("checkpoints/checkpoint_5")).isDirectory();
        assertThat(newest).doesNotExist();
    }

    /**
     * Temporary checkpoint directories left by a crashed run (its process gone, or its pid now this process's) are
     * removed when a run resumes; one of a process still running is kept.
     */
    @Test
    void staleTemporaryCheckpointsAreRemovedOnResume() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(2, ""), out, false);
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        Process alive = new ProcessBuilder("sleep", "60").start();
        try {
            Path dead = out.resolve("checkpoints/.tmp_3_" + ended.pid());
            Path own = out.resolve("checkpoints/.tmp_3_" + ProcessHandle.current().pid());
            Path live = out.resolve("checkpoints/.tmp_3_" + alive.pid());
            // A pid past a long's range: no process this program ran.
            Path odd = out.resolve("checkpoints/.tmp_3_99999999999999999999");
            // Not the run's: left alone, and no checkpoint.
            Path notes = Files.writeString(out.resolve("checkpoints/notes.txt"), "mine");
            for (Path p : List.of(dead, own, live, odd)) {
                Files.writeString(Files.createDirectories(p).resolve("database.json"), "{\"programs\": [");
            }
            run(settings(3, ""), out, true);
            assertThat(odd).doesNotExist();
            assertThat(notes).hasContent("mine");
            assertThat(dead).doesNotExist();
            assertThat(own).doesNotExist();
            assertThat(live).isDirectory();
        } finally {
            alive.destroy();
        }
    }

    /** Resumed before its first checkpoint with fewer islands: the trace names an island the run does not have. */
    @Test
    void aTraceOnMoreIslandsThanTheResumeHasIsRefused() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(4, "checkpoint_interval: 100\ndatabase:\n  num_islands: 3\n"), out, false);
        Directories.deleteTree(out.resolve("checkpoints"));
        assertThatThrownBy(() -> run(settings(6, "checkpoint_interval: 100\ndatabase:\n  num_islands: 2\n"), out,
                true)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.num_islands: 2 islands, but iteration 2 of the run's trace ran on island 2 "
                        + "(resume with the run's --config)");
        assertThat(trace(out)).hasSize(5);
    }

    /**
     * Resumed with another fitness metric, other Pareto objectives or other grid dimensions of the same count: the
     * resume went on silently, ranking the checkpoint's programs another way and mixing cells of two meanings in
     * one grid. Each is refused naming the setting and both values, and nothing is run.
     */
    @Test
    void aResumeWithOtherRankingOrGridSettingsIsRefused() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(2, ""), out, false);
        assertThatThrownBy(() -> run(settings(3, "database:\n  fitness_metric: size\n"), out, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("database.fitness_metric: size, but the run's checkpoint has score (resume with the "
                        + "run's --config)");
        assertThatThrownBy(() -> run(settings(3, "database:\n  pareto_metrics: [score, -size]\n"), out, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("database.pareto_metrics: [score, -size], but the run's checkpoint has [] (resume with "
                        + "the run's --config)");
        assertThatThrownBy(() -> run(settings(3, "database:\n  feature_dimensions: [complexity, score]\n"), out,
                true)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.feature_dimensions: [complexity, score], but the run's checkpoint has "
                        + "[complexity, diversity] (resume with the run's --config)");
        assertThatThrownBy(() -> run(settings(3, "database:\n  feature_bins: 7\n"), out, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("database.feature_bins: 7, but the run's checkpoint has 10 (resume with the run's "
                        + "--config)");
        assertThat(trace(out)).hasSize(3);
        assertThat(server.requestCount()).isEqualTo(2);
        // The run's own settings still resume.
        assertThat(run(settings(3, ""), out, true).completed()).isEqualTo(3);
    }

    /** A checkpoint file without its parts (cut short, or edited) failed the resume with a NullPointerException. */
    @Test
    void aCheckpointWithoutItsPartsIsRefusedNamingIt() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(2, ""), out, false);
        Path checkpoint = out.resolve("checkpoints/checkpoint_2");
        String database = Files.readString(checkpoint.resolve("database.json"));
        Files.writeString(checkpoint.resolve("database.json"), "{}");
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(checkpoint + ": unreadable checkpoint: database.json: no programs");
        Files.writeString(checkpoint.resolve("database.json"), database);
        Path state = checkpoint.resolve("state.json");
        Files.writeString(state, Files.readString(state).replaceFirst("\"task\"\\s*:\\s*\"shell\",", ""));
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(checkpoint + ": unreadable checkpoint: state.json: no task");
    }

    /**
     * A database.json edited to hold no islands was refused as "database.num_islands: 2 islands, but the run's
     * checkpoint has 0", blaming the configuration: it is a corrupt checkpoint, named with its file. So is one whose
     * islands have no members.
     */
    @Test
    void aCheckpointWithoutIslandsIsRefusedAsCorrupt() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(2, ""), out, false);
        Path checkpoint = out.resolve("checkpoints/checkpoint_2");
        Files.writeString(checkpoint.resolve("database.json"),
                "{\"programs\":[],\"islands\":[],\"archive\":[],\"featureRanges\":[[1,2],[3,4]]}");
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(checkpoint + ": unreadable checkpoint: database.json: no islands: a database has at least "
                        + "one");
        // Islands without members: the resume failed at the first iteration on one with an IllegalStateException.
        String empty = "{\"members\":[],\"grid\":{},\"cellOf\":{},\"attempts\":[]}";
        Files.writeString(checkpoint.resolve("database.json"), "{\"programs\":[],\"islands\":[" + empty + ","
                + empty + "],\"archive\":[],\"featureRanges\":[[1,2],[3,4]]}");
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(checkpoint.resolve("database.json") + ": corrupt checkpoint: islands[0] has no members "
                        + "(each island of a run holds at least a copy of the initial program)");
        assertThat(trace(out)).hasSize(3);
    }

    /**
     * A checkpoint file holding JSON's null was read as no state at all, and the resume failed with a
     * NullPointerException; a trace.jsonl that is a directory failed it with "Is a directory", naming nothing.
     */
    @Test
    void aNullCheckpointFileOrATraceThatIsADirectoryIsRefusedNamingIt() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(2, ""), out, false);
        Path checkpoint = out.resolve("checkpoints/checkpoint_2");
        for (String file : List.of("state.json", "database.json")) {
            Path f = checkpoint.resolve(file);
            String saved = Files.readString(f);
            Files.writeString(f, "null");
            assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                    .hasMessage(checkpoint + ": unreadable checkpoint: " + file + " holds null, not an object");
            Files.writeString(f, saved);
        }
        Path trace = out.resolve("trace.jsonl");
        Files.move(trace, tmp.resolve("trace.jsonl"));
        Files.createDirectories(trace);
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(trace + ": is a directory, expected the run's trace (a file)");
    }

    /**
     * A key given twice in a checkpoint's file or a trace line: which value was meant cannot be known, and Jackson
     * took the last without a word. Such a checkpoint is unreadable (a resume falls back to the one before, or names
     * the file and the key), and such a trace line is refused naming it and the key, also as the last line (a crash
     * cuts a line short, it does not repeat a key).
     */
    @Test
    void aKeyGivenTwiceInACheckpointOrTheTraceIsRefused() throws Exception {
        server.fallback(req -> Reply.content(edit("score=1", "score=" + (server.requestCount() + 1))));
        Path out = tmp.resolve("run");
        run(settings(4, "database:\n  num_islands: 1\n"), out, false);
        Path newest = out.resolve("checkpoints/checkpoint_4");
        Path state = newest.resolve("state.json");
        String saved = Files.readString(state);
        String twice = saved.replaceFirst("\"seed\" : (\\d+)", "\"seed\" : $1, \"seed\" : $1");
        assertThat(twice).isNotEqualTo(saved);
        Files.writeString(state, twice);
        List<String> messages = new java.util.ArrayList<>();
        RunSummary resumed = resumeOneIsland(out, 5, messages);
        assertThat(messages).containsExactly("warning: skipping unreadable checkpoint " + newest + " (removed); "
                + "resuming from checkpoint_2 and the trace after it");
        assertThat(resumed.completed()).isEqualTo(5);

        Path trace = out.resolve("trace.jsonl");
        List<String> lines = Files.readAllLines(trace);
        assertThat(lines).hasSize(6);
        for (int i : new int[] {2, 5}) {
            List<String> edited = new java.util.ArrayList<>(lines);
            edited.set(i, lines.get(i).replaceFirst("\"iteration\":(\\d+)", "\"iteration\":$1,\"iteration\":$1"));
            assertThat(edited.get(i)).isNotEqualTo(lines.get(i));
            Files.write(trace, edited);
            assertThatThrownBy(() -> run(settings(6, "database:\n  num_islands: 1\n"), out, true))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage(trace + ":" + (i + 1) + ": not a trace line: Duplicate Object property \"iteration\"");
            assertThat(Files.readAllLines(trace)).isEqualTo(edited);
        }
        Files.write(trace, lines);

        // The only checkpoint repeating a key: named with its file and the key.
        Path single = tmp.resolve("single");
        run(settings(2, ""), single, false);
        Path checkpoint = single.resolve("checkpoints/checkpoint_2");
        Path database = checkpoint.resolve("database.json");
        Files.writeString(database, Files.readString(database)
                .replaceFirst("\"bestId\" : (\"[^\"]*\")", "\"bestId\" : $1, \"bestId\" : $1"));
        assertThatThrownBy(() -> run(settings(3, ""), single, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(checkpoint + ": unreadable checkpoint: database.json: Duplicate Object property "
                        + "\"bestId\"");
    }

    /** A max_code_length below the initial program's length: every child failed as too_long, the run went on. */
    @Test
    void aMaxCodeLengthBelowTheInitialProgramIsRefused() throws Exception {
        Path out = tmp.resolve("short");
        assertThatThrownBy(() -> run(settings(3, "max_code_length: " + (INITIAL.length() - 1) + "\n"), out, false))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("max_code_length: " + (INITIAL.length() - 1) + " characters, but the initial program has "
                        + INITIAL.length() + ": its children would fail as too_long unless they cut it");
        assertThat(server.requestCount()).isZero();
        assertThat(out).doesNotExist();
        server.fallback(req -> Reply.content("no edit"));
        assertThat(run(settings(1, "max_code_length: " + INITIAL.length() + "\n"), tmp.resolve("equal"), false)
                .completed()).isEqualTo(1);
    }

    /** A checkpoint's state.json edited to another count: resuming counted on from it. */
    @Test
    void aCheckpointWhoseCountDisagreesWithItsNameIsRefused() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(2, "checkpoint_interval: 1\n"), out, false);
        Path state = out.resolve("checkpoints/checkpoint_2/state.json");
        Files.writeString(state, Files.readString(state).replaceFirst("\"completed\"\\s*:\\s*2",
                "\"completed\" : 400"));
        assertThatThrownBy(() -> run(settings(3, "checkpoint_interval: 1\n"), out, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(state + ": completed 400 and trace lines ")
                .hasMessageEndingWith(" disagree with the checkpoint's name checkpoint_2");
    }

    /**
     * A checkpoint's trace lines are its completed iterations and the initial program's line: edited to another
     * count, a resume replayed lines the checkpoint already held (2 of 3 lines: the second iteration counted twice,
     * its tokens too, and the third never run; 0: "program 0 is already in the database", an internal error).
     */
    @Test
    void aCheckpointWhoseTraceLinesDisagreeWithItsNameIsRefused() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        for (int lines : new int[] {0, 1, 2, 4}) {
            Path out = tmp.resolve("run" + lines);
            run(settings(2, "checkpoint_interval: 1\n"), out, false);
            Path state = out.resolve("checkpoints/checkpoint_2/state.json");
            String text = Files.readString(state);
            assertThat(text).containsPattern("\"traceLines\"\\s*:\\s*3,");
            Files.writeString(state, text.replaceFirst("\"traceLines\"\\s*:\\s*3", "\"traceLines\" : " + lines));
            int requests = server.requestCount();
            assertThatThrownBy(() -> run(settings(3, "checkpoint_interval: 1\n"), out, true))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage(state + ": completed 2 and trace lines " + lines + " disagree with the checkpoint's "
                            + "name checkpoint_2");
            assertThat(server.requestCount()).isEqualTo(requests);
        }
    }

    /**
     * A file where the run keeps a directory is refused before any work and left as it was. It failed at the first
     * checkpoint (checkpoints), at the first prompt with the trace begun (prompts: the exception's bare path), or
     * failed the initial program's evaluation and was then deleted as an empty working folder (work).
     */
    @Test
    void aFileWhereTheRunKeepsADirectoryIsRefusedFirst() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        for (String name : List.of("checkpoints", "programs", "best", "prompts", "work")) {
            Path out = Files.createDirectories(tmp.resolve("run-" + name));
            Files.writeString(out.resolve(name), "x");
            assertThatThrownBy(() -> run(settings(2, ""), out, false)).isInstanceOf(InvalidInputException.class)
                    .hasMessage(out.resolve(name) + ": is a file where the run keeps a directory");
            assertThat(out.resolve("trace.jsonl")).doesNotExist();
            assertThat(out.resolve(name)).hasContent("x");
            assertThat(server.requestCount()).isZero();
        }
    }

    /**
     * A misspelt Pareto objective was every program's worst value, so it silently dropped out of the dominance
     * test; a misspelt grid dimension put every program in its bin 0. Both are refused once the initial program
     * has shown its metrics, before any model call; names the initial program reports, the built-in dimensions and
     * metrics of stages a cascade did not run are accepted.
     */
    @Test
    void paretoObjectivesAndGridDimensionsMustBeMetrics() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        assertThatThrownBy(() -> run(settings(2, "database:\n  pareto_metrics: [score, -sizee]\n"),
                tmp.resolve("pareto"), false)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.pareto_metrics: 'sizee' is not a metric of the initial program, which reports "
                        + "score");
        assertThatThrownBy(() -> run(settings(2, "database:\n  feature_dimensions: [complexity, scor]\n"),
                tmp.resolve("grid"), false)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.feature_dimensions: 'scor' is not a metric of the initial program, which "
                        + "reports score (or use complexity, diversity, score)");
        assertThat(server.requestCount()).isZero();
        // Refused before the run wrote anything: no --out folder (it held an empty work/) is left behind.
        assertThat(tmp.resolve("pareto")).doesNotExist();
        assertThat(tmp.resolve("grid")).doesNotExist();

        RunSummary ok = run(settings(1, "database:\n  pareto_metrics: [-score]\n  feature_dimensions: [score, "
                + "diversity]\n"), tmp.resolve("ok"), false);
        assertThat(ok.completed()).isEqualTo(1);
        assertThat(tmp.resolve("ok").resolve("work")).doesNotExist();
        // Two stages, the second reporting "size"; the cascade stops the initial program after the first (score 1 <
        // 2), so that "size" cannot be checked, and is not refused.
        ShellTask cascade = new ShellTask(INITIAL, List.of("sh \"$1\"", "echo '{\"size\": 3}'"), List.of(2.0));
        EvolveSettings s = settings(1, "database:\n  pareto_metrics: [score, -size]\n"
                + "evaluator:\n  cascade_evaluation: true\n");
        CostLedger ledger = new CostLedger();
        RunSummary stopped = new EvolutionRun(cascade, s, LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null),
                ledger, tmp.resolve("cascade"), RunListener.NONE).run(false);
        assertThat(stopped.completed()).isEqualTo(1);
    }

    /**
     * "score" is OpenEvolve's built-in grid dimension, the fitness: it was refused as a metric the initial program
     * does not report. A metric the task also names score would go unread, so it is refused unless it is the
     * fitness itself.
     */
    @Test
    void scoreDimensionIsTheFitnessAndAMetricOfThatNameMustBeIt() throws Exception {
        server.fallback(req -> Reply.content(edit("score=1", "score=3")));
        ShellTask sized = ShellTask.of(INITIAL, "sh \"$1\" > /dev/null; echo '{\"size\": 4, \"other\": 1}'; "
                + "grep -q score=3 \"$1\" && echo '{\"size\": 6, \"other\": 1}'; true");
        EvolveSettings s = settings(1, "database:\n  fitness_metric: size\n  feature_dimensions: [score, "
                + "complexity]\n  num_islands: 1\n  feature_bins: 2\n");
        CostLedger ledger = new CostLedger();
        RunSummary ran = new EvolutionRun(sized, s, LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null), ledger,
                tmp.resolve("sized"), RunListener.NONE).run(false);
        assertThat(ran.completed()).isEqualTo(1);
        // Fitness 4 then 6: bins 0 and (6 - 4) / 2 * 2 = 2, clamped to 1; the edit keeps the length, so bin 0.
        JsonNode database = RunDirectory.readJson(tmp.resolve("sized/checkpoints/checkpoint_1/database.json"));
        assertThat(database.get("islands").get(0).get("cellOf"))
                .isEqualTo(RunDirectory.JSON.readTree("{\"0\": \"0,0\", \"1\": \"1,0\"}"));

        ShellTask named = ShellTask.of(INITIAL, "sh \"$1\" > /dev/null; echo '{\"size\": 4, \"score\": 1}'");
        assertThatThrownBy(() -> new EvolutionRun(named, s, LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null),
                ledger, tmp.resolve("named"), RunListener.NONE).run(false)).isInstanceOf(InvalidInputException.class)
                .hasMessage("database.feature_dimensions: 'score' is the built-in dimension that bins the fitness "
                        + "(size), but the initial program also reports a metric named score, which it would not "
                        + "read: rename that metric, or make it the fitness (database.fitness_metric: score)");
        assertThat(tmp.resolve("named")).doesNotExist();
        // Where the metric is the fitness, the dimension reads it: no ambiguity.
        assertThat(run(settings(1, "database:\n  feature_dimensions: [score, complexity]\n"), tmp.resolve("own"),
                false).completed()).isEqualTo(1);
    }

    /**
     * A metric the task names complexity or diversity went unread on the grid without a word: those dimensions are
     * computed from the code (OpenEvolve reads the metric instead). Refused like a metric named score.
     */
    @Test
    void aMetricNamedLikeABuiltInDimensionIsRefused() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        CostLedger ledger = new CostLedger();
        for (String builtIn : List.of("complexity", "diversity")) {
            ShellTask named = ShellTask.of(INITIAL, "sh \"$1\" > /dev/null; echo '{\"size\": 4, \"" + builtIn
                    + "\": 1}'");
            EvolveSettings s = settings(1, "database:\n  fitness_metric: size\n  feature_dimensions: [" + builtIn
                    + "]\n");
            Path out = tmp.resolve("named-" + builtIn);
            assertThatThrownBy(() -> new EvolutionRun(named, s, LlmEnsemble.create(s.llm(), ledger, d -> { },
                    k -> null), ledger, out, RunListener.NONE).run(false)).isInstanceOf(InvalidInputException.class)
                    .hasMessage("database.feature_dimensions: '" + builtIn + "' is the built-in dimension that bins "
                            + (builtIn.equals("complexity") ? "the code's length" : "the code's distance to the "
                            + "island's elites") + ", but the initial program also reports a metric named " + builtIn
                            + ", which it would not read: rename that metric");
            assertThat(out).doesNotExist();
        }
        assertThat(server.requestCount()).isZero();
    }

    /**
     * A threshold gates the stage after it, so one past the task's last stage gates nothing. Refusing it refused
     * OpenEvolve's own default configuration (three thresholds) for every one-stage evaluator, which OpenEvolve runs
     * with them unused; it is now said in a warning, and the run goes on.
     */
    @Test
    void moreCascadeThresholdsThanGatedStagesAreWarnedAbout() throws Exception {
        Path out = tmp.resolve("thresholds");
        List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
        RunListener listener = new RunListener() {
            @Override
            public void message(String text) {
                messages.add(text);
            }
        };
        RunSummary summary = run(settings(1, "evaluator:\n  cascade_thresholds: [0.5, 0.75, 0.9]\n"), out, false,
                listener);
        assertThat(summary.completed()).isEqualTo(1);
        assertThat(messages).contains("warning: evaluator.cascade_thresholds: 3 thresholds, but the task has 1 "
                + "stage; they gate nothing (a threshold gates the stage after the one it follows), as in OpenEvolve");

        // One threshold for one stage gates nothing either; with two stages, one threshold gates the second.
        messages.clear();
        run(settings(1, "evaluator:\n  cascade_thresholds: [0.5]\n"), tmp.resolve("one"), false, listener);
        assertThat(messages).contains("warning: evaluator.cascade_thresholds: 1 threshold, but the task has 1 "
                + "stage; they gate nothing (a threshold gates the stage after the one it follows), as in OpenEvolve");
        String script = "sh \"$1\"";
        for (int thresholds = 1; thresholds <= 3; thresholds++) {
            messages.clear();
            CostLedger ledger = new CostLedger();
            EvolveSettings s = settings(1, "evaluator:\n  cascade_thresholds: " + List.of(0.5, 0.6, 0.7)
                    .subList(0, thresholds) + "\n");
            new EvolutionRun(new ShellTask(INITIAL, List.of(script, script), List.of()), s,
                    LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null), ledger, tmp.resolve("two" + thresholds),
                    listener).run(false);
            if (thresholds == 1) {
                assertThat(messages).noneMatch(m -> m.startsWith("warning: evaluator.cascade_thresholds"));
            } else {
                assertThat(messages).contains("warning: evaluator.cascade_thresholds: " + thresholds + " thresholds, "
                        + "but the task has 2 stages; the last " + (thresholds - 1) + " gate nothing (a threshold "
                        + "gates the stage after the one it follows), as in OpenEvolve");
            }
        }
    }

    /**
     * A cascade metric the gating stage does not report stopped every candidate after that stage, silently (only
     * the feedback said "missing"): the later stages never ran. Refused from the initial program's evaluation.
     */
    @Test
    void aCascadeMetricTheStageDoesNotReportIsRefused() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        ShellTask cascade = new ShellTask(INITIAL, List.of("sh \"$1\"", "echo '{\"score\": 5}'"), List.of(0.5));
        EvolveSettings misspelt = settings(1, "evaluator:\n  cascade_evaluation: true\n  cascade_metric: scor\n");
        assertThatThrownBy(() -> new EvolutionRun(cascade, misspelt, LlmEnsemble.create(misspelt.llm(),
                new CostLedger(), d -> { }, k -> null), new CostLedger(), tmp.resolve("misspelt"), RunListener.NONE)
                .run(false)).isInstanceOf(InvalidInputException.class)
                .hasMessage("evaluator.cascade_metric: 'scor' is not reported by stage 1 of the initial program, which "
                        + "reports score: the cascade would stop every candidate after that stage");
        assertThat(server.requestCount()).isZero();
        // Named right, the initial program (score 1 >= 0.5) passes to stage 2, whose score wins.
        EvolveSettings named = settings(1, "evaluator:\n  cascade_evaluation: true\n  cascade_metric: score\n");
        CostLedger ledger = new CostLedger();
        RunSummary ok = new EvolutionRun(cascade, named, LlmEnsemble.create(named.llm(), ledger, d -> { }, k -> null),
                ledger, tmp.resolve("named"), RunListener.NONE).run(false);
        assertThat(ok.initialFitness()).isEqualTo(5);
    }

    /** A trace with an iteration twice (a line copied by hand) was replayed as if it were the run. */
    @Test
    void aRepeatedOrNegativeIterationInTheTraceIsRefused() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(2, ""), out, false);
        Path trace = out.resolve("trace.jsonl");
        List<String> lines = Files.readAllLines(trace);
        Files.write(trace, List.of(lines.get(0), lines.get(1), lines.get(1), lines.get(2)));
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(trace + ":3: iteration 1 appears twice");
        Files.write(trace, List.of(lines.get(0), lines.get(1).replace("\"iteration\":1", "\"iteration\":-1"),
                lines.get(2)));
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(trace + ":2: iteration -1 is negative");
        // An outcome the loop never writes failed the replay as an internal error.
        Files.write(trace, List.of(lines.get(0), lines.get(1).replaceFirst("\"outcome\":\"[a-z_]+\"",
                "\"outcome\":\"weird\""), lines.get(2)));
        assertThatThrownBy(() -> run(settings(3, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(trace + ":2: not a trace line: unknown outcome 'weird'");
    }

    /**
     * A resume reads programs/ID.sh for each trace line after the checkpoint: a program_id edited to ../../x made it
     * read a file outside the run's folder (and take it for the run's program). An id the loop does not make is
     * refused naming the file and field, in the trace and in a checkpoint's database.json alike, and nothing is run.
     */
    @Test
    void aProgramIdTheLoopDoesNotMakeIsRefusedNamingItsFileAndField() throws Exception {
        server.fallback(req -> Reply.content(edit("score=1", "score=" + (server.requestCount() + 1))));
        Path out = tmp.resolve("run");
        run(settings(2, "checkpoint_interval: 100\n"), out, false);
        Files.writeString(tmp.resolve("x.sh"), INITIAL.replace("score=1", "score=99"));
        Path trace = out.resolve("trace.jsonl");
        List<String> lines = Files.readAllLines(trace);
        assertThat(lines.get(1)).contains("\"program_id\":\"1\"");
        for (String id : List.of("../../x", "2", "/tmp/x", "1>0")) {
            Files.write(trace, List.of(lines.get(0), lines.get(1).replace("\"program_id\":\"1\"",
                    "\"program_id\":\"" + id + "\""), lines.get(2)));
            assertThatThrownBy(() -> run(settings(3, "checkpoint_interval: 100\n"), out, true))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage(trace + ":2: program_id '" + id + "' is not the id the loop gives iteration 1's "
                            + "program ('1'): a corrupt trace");
        }
        Files.write(trace, List.of(lines.get(0), lines.get(1).replaceFirst("\"parent_id\":\"[^\"]+\"",
                "\"parent_id\":\"../0\""), lines.get(2)));
        assertThatThrownBy(() -> run(settings(3, "checkpoint_interval: 100\n"), out, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage(trace + ":2: parent_id '../0' is not a program id (an iteration number, or ID>ISLAND for"
                        + " a migrated copy): a corrupt trace");
        Files.write(trace, lines);
        assertThat(server.requestCount()).isEqualTo(2);

        Path checked = tmp.resolve("checked");
        run(settings(2, ""), checked, false);
        Path database = checked.resolve("checkpoints/checkpoint_2/database.json");
        String saved = Files.readString(database);
        int attempts = saved.indexOf("\"attempts\"");
        for (String field : List.of("parentId", "migratedFrom", "programId", "attempts[0].parentId")) {
            // The first of a field's values, in the programs (or, for the attempts' fields, in an island's attempts).
            int from = field.startsWith("attempts") ? attempts : 0;
            String key = field.substring(field.lastIndexOf('.') + 1);
            String edited = saved.substring(0, from) + saved.substring(from).replaceFirst("\"" + key
                    + "\" : (\"[^\"]*\"|null)", "\"" + key + "\" : \"../../x\"");
            assertThat(edited).as(field).isNotEqualTo(saved);
            Files.writeString(database, edited);
            assertThatThrownBy(() -> run(settings(3, ""), checked, true)).isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith(database + ": corrupt checkpoint: ")
                    .hasMessageContaining("." + field + " '../../x' is not a program id");
        }
        Files.writeString(database, saved);
        assertThat(run(settings(3, ""), checked, true).completed()).isEqualTo(3);
    }

    /**
     * An initial program without markers, in diff mode: an edit adding a lone marker was applied, and every child of
     * that program then failed as internal_error on its markers. The edit is refused as no_edit naming the marker,
     * and so is one whose parent already holds a lone marker (the initial program here), instead of internal_error.
     */
    @Test
    void anEditLeavingALoneMarkerIsNoEdit() throws Exception {
        String plain = "score=1\necho \"{\\\"score\\\": $score}\"\n";
        server.enqueue(Reply.content(edit("score=1", "# EVOLVE-BLOCK-START\nscore=2")));
        RunSummary s = run(plain, settings(1, ""), tmp.resolve("plain"), false, RunListener.NONE);
        List<JsonNode> t = trace(tmp.resolve("plain"));
        assertThat(t.get(1).get("error").asString()).isEqualTo("no_edit");
        assertThat(t.get(1).get("error_message").asString())
                .contains("EVOLVE-BLOCK-START at line 1 has no EVOLVE-BLOCK-END after it");
        assertThat(s.errors()).containsExactly(entry("no_edit", 1));

        server.enqueue(Reply.content(edit("score=1", "score=2")));
        Path lone = tmp.resolve("lone");
        run("# EVOLVE-BLOCK-START\n" + plain, settings(1, ""), lone, false, RunListener.NONE);
        t = trace(lone);
        assertThat(t.get(1).get("error").asString()).isEqualTo("no_edit");
        assertThat(t.get(1).get("error_message").asString())
                .contains("EVOLVE-BLOCK-START at line 1 has no EVOLVE-BLOCK-END after it");
    }

    @Test
    void fullRewriteChangesOnlyTheEvolveBlock() throws Exception {
        String rewrite = "New version:\n```bash\n# EVOLVE-BLOCK-START\nscore=7\nextra=1\n# EVOLVE-BLOCK-END\n"
                + "echo '{\"score\": 1000}'\n```\n";
        server.enqueue(Reply.content(rewrite), Reply.content("```bash\necho no markers\n```"),
                Reply.content("no code at all"));
        Path out = tmp.resolve("run");
        RunSummary s = run(settings(3, "diff_based_evolution: false\n"), out, false);
        List<JsonNode> t = trace(out);
        assertThat(t.get(1).get("metrics").get("score").asDouble()).isEqualTo(7.0);
        assertThat(Files.readString(out.resolve("programs/1.sh"))).contains("score=7").doesNotContain("1000")
                .contains("echo \"{\\\"score\\\": $score}\"");
        assertThat(t.get(2).get("error").asString()).isEqualTo("no_edit");
        assertThat(t.get(2).get("error_message").asString()).containsIgnoringCase("marker");
        assertThat(t.get(3).get("error").asString()).isEqualTo("no_edit");
        assertThat(s.bestFitness()).isEqualTo(7.0);
        String prompt = server.requests().getFirst().get("messages").get(1).get("content").asString();
        assertThat(prompt).contains("complete new program");
    }

    @Test
    void aRunDirectoryIsNotOverwrittenWithoutResume() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(1, ""), out, false);
        assertThatThrownBy(() -> run(settings(1, ""), out, false)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("--resume");
    }

    /**
     * A run whose trace was removed left its checkpoints: a new run there went on beside them, and its resume then
     * loaded the old run's newest checkpoint ("the checkpoint covers 5" lines of a 2-line trace).
     */
    @Test
    void aNewRunRefusesAnEarlierRunsCheckpoints() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(4, ""), out, false);
        assertThat(out.resolve("checkpoints/checkpoint_4")).isDirectory();
        Files.delete(out.resolve("trace.jsonl"));
        assertThatThrownBy(() -> run(settings(1, ""), out, false)).isInstanceOf(InvalidInputException.class)
                .hasMessage(out + ": holds an earlier run's checkpoints (checkpoint_4, but no trace.jsonl); choose "
                        + "another --out, or remove " + out.resolve("checkpoints") + " to start a run there");
        assertThat(out.resolve("trace.jsonl")).doesNotExist();
        // Removed as the message says, a run starts there.
        try (Stream<Path> files = Files.walk(out.resolve("checkpoints"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        assertThat(run(settings(1, ""), out, false).completed()).isEqualTo(1);
    }

    @Test
    void earlyStoppingAfterPatience() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        RunSummary s = run(settings(20, "early_stopping_patience: 3\n"), tmp.resolve("run"), false);
        assertThat(s.stopReason()).isEqualTo("early_stopping");
        assertThat(s.completed()).isEqualTo(3);
    }

    /**
     * A run whose patience ran out with its last iteration completed its total: it reported "completed 3 of 3
     * iterations (stopped: early_stopping)" and printed "stopping early" though nothing was left to stop. Resumed to a
     * larger total it stops at once, as a run to that total would have stopped there.
     */
    @Test
    void patienceRunningOutWithTheLastIterationIsNoEarlyStop() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        List<String> messages = new java.util.ArrayList<>();
        RunListener listener = new RunListener() {
            @Override
            public void message(String text) {
                messages.add(text);
            }
        };
        Path out = tmp.resolve("run");
        RunSummary s = run(settings(3, "early_stopping_patience: 3\n"), out, false, listener);
        assertThat(s.completed()).isEqualTo(3);
        assertThat(s.stopReason()).isNull();
        assertThat(messages).noneMatch(m -> m.contains("stopping early"));
        RunSummary more = run(settings(6, "early_stopping_patience: 3\n"), out, true, listener);
        assertThat(more.completed()).isEqualTo(3);
        assertThat(more.stopReason()).isEqualTo("early_stopping");
        assertThat(server.requestCount()).isEqualTo(3);
    }

    /**
     * Steps below the threshold add up: the best rises by 3 an iteration against a threshold of 5, so it passes the
     * best at the last reset by more than 5 every second iteration and a patience of 2 never runs out (it ran out
     * at iteration 3, each step measured from the step before). Also across a resume from iteration 4, between
     * two resets.
     */
    @Test
    void smallImprovementsAddUpAgainstTheConvergenceThreshold() throws Exception {
        server.fallback(req -> {
            int n = server.requestCount();
            return Reply.content("```bash\n" + INITIAL.replace("score=1", "score=" + (10 + 3 * n)) + "```\n");
        });
        String yaml = "diff_based_evolution: false\nearly_stopping_patience: 2\nconvergence_threshold: 5\n"
                + "database:\n  num_islands: 1\n";
        Path out = tmp.resolve("run");
        RunSummary first = run(settings(4, yaml), out, false);
        assertThat(first.stopReason()).isNull();
        assertThat(first.completed()).isEqualTo(4);
        RunSummary resumed = run(settings(6, yaml), out, true);
        assertThat(resumed.stopReason()).isNull();
        assertThat(resumed.completed()).isEqualTo(6);
        assertThat(resumed.bestFitness()).isEqualTo(28.0);
    }

    @Test
    void budgetStopsTheRun() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        EvolveSettings base = settings(10, "");
        var priced = new io.moelab.evolve.llm.LlmModel("scripted", 1, server.apiBase(), null, 1000, 1000);
        EvolveSettings s = new EvolveSettings(base.maxIterations(), base.checkpointInterval(), base.keepCheckpoints(),
                base.randomSeed(), base.diffBased(), base.maxCodeLength(), base.earlyStoppingPatience(),
                base.convergenceThreshold(), base.llm().withModels(List.of(priced)).withBudgetUsd(0.5),
                base.prompt(), base.database(), base.evaluator());
        RunSummary summary = run(s, tmp.resolve("run"), false);
        // Each call costs 100 * 1000 / 1e6 + 50 * 1000 / 1e6 = 0.15 USD: after four (0.6) the fifth is refused.
        assertThat(summary.stopReason()).isEqualTo("budget");
        assertThat(summary.completed()).isEqualTo(4);
        assertThat(summary.costUsd()).isCloseTo(0.6, org.assertj.core.data.Offset.offset(1e-9));
        // prompts/ holds the prompts sent: the refused call's was left there as if it had been.
        try (Stream<Path> prompts = Files.list(tmp.resolve("run/prompts"))) {
            assertThat(prompts.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("1.md", "2.md", "3.md",
                    "4.md");
        }
    }

    /**
     * With two evaluations at once, a checkpoint is taken while another iteration is in flight, its model call already
     * counted; its trace line comes after the checkpoint and is replayed on resume. The resumed ledger must count
     * each traced call once (it counted that one twice).
     */
    @Test
    void resumedCostsCountEachTracedCallOnce() throws Exception {
        server.fallback(req -> Reply.content("```bash\n" + INITIAL.replace("extra=0", "sleep 0.5; extra=0") + "```\n"));
        String yaml = "checkpoint_interval: 1\ndiff_based_evolution: false\nevaluator:\n  parallel_evaluations: 2\n";
        Path out = tmp.resolve("run");
        RunSummary first = run(settings(6, yaml), out, false);
        long traced = trace(out).stream().mapToLong(n -> n.get("tokens").asLong()).sum();
        assertThat(traced).isEqualTo(6 * 150);
        assertThat(first.tokens()).isEqualTo(traced);
        // A crash before the last checkpoint: the resume starts from checkpoint_5 and replays the sixth line.
        Directories.deleteTree(out.resolve("checkpoints/checkpoint_6"));
        RunSummary resumed = run(settings(6, yaml), out, true);
        assertThat(server.requestCount()).isEqualTo(6);
        assertThat(resumed.tokens()).isEqualTo(traced);
    }

    /**
     * A run stopped after 5 iterations and resumed to 12 must equal one that ran 12 straight: the same prompts, trace
     * lines (but their times) and final database, whether the resume starts from the last checkpoint, replays trace
     * lines after an older one, or replays the whole trace. Each answer depends on the whole prompt (parent, attempts,
     * top programs, inspirations), so any state the resume lost or reordered shows up in the programs that follow.
     */
    @Test
    void aResumedRunEqualsAnUninterruptedOne() throws Exception {
        server.fallback(req -> {
            String user = req.get("messages").get(1).get("content").asString();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("score=(\\d+)\n").matcher(user);
            int h = Math.floorMod(user.hashCode(), 7);
            if (!m.find() || h == 0) {
                return Reply.content("no change to propose");
            }
            int score = Integer.parseInt(m.group(1));
            return Reply.content(edit("score=" + score, "score=" + Math.floorMod(score * 5 + h, 23)));
        });
        String yaml = """
                database:
                  num_islands: 3
                  migration_interval: 1
                  population_size: 6
                  archive_size: 2
                  feature_dimensions: [complexity, score]
                  feature_bins: 3
                  exploration_ratio: 0.3
                  exploitation_ratio: 0.3
                """;
        Path straight = tmp.resolve("straight");
        run(settings(12, yaml), straight, false);
        List<String> ways = List.of("last checkpoint", "older checkpoint", "no checkpoint");
        for (String way : ways) {
            Path out = tmp.resolve(way.replace(' ', '-'));
            run(settings(5, yaml), out, false);
            if (!way.equals("last checkpoint")) {
                Directories.deleteTree(out.resolve("checkpoints/checkpoint_5"));
                Directories.deleteTree(out.resolve("checkpoints/checkpoint_4"));
            }
            if (way.equals("no checkpoint")) {
                Directories.deleteTree(out.resolve("checkpoints"));
            }
            run(settings(12, yaml), out, true);
            List<JsonNode> expected = trace(straight);
            List<JsonNode> actual = trace(out);
            assertThat(actual).as(way).hasSize(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                ((tools.jackson.databind.node.ObjectNode) expected.get(i)).remove("seconds");
                ((tools.jackson.databind.node.ObjectNode) actual.get(i)).remove("seconds");
                assertThat(actual.get(i)).as(way + ", trace line " + i).isEqualTo(expected.get(i));
            }
            for (int i = 1; i <= 12; i++) {
                assertThat(Files.readString(out.resolve("prompts/" + i + ".md"))).as(way + ", prompt " + i)
                        .isEqualTo(Files.readString(straight.resolve("prompts/" + i + ".md")));
            }
            assertThat(RunDirectory.readJson(out.resolve("checkpoints/checkpoint_12/database.json"))).as(way)
                    .isEqualTo(RunDirectory.readJson(straight.resolve("checkpoints/checkpoint_12/database.json")));
            assertThat(Files.readString(out.resolve("best/best_program_info.json"))).as(way)
                    .isEqualTo(Files.readString(straight.resolve("best/best_program_info.json")));
        }
        JsonNode database = RunDirectory.readJson(straight.resolve("checkpoints/checkpoint_12/database.json"));
        // The case exercises what a resume must carry: migrations (copies to the previous island as well as the
        // next), and programs dropped by the population cap.
        assertThat(database.get("migrations").asInt()).isGreaterThan(1);
        Map<String, Integer> islandOf = new HashMap<>();
        database.get("programs").forEach(p -> islandOf.put(p.get("id").asString(), p.get("island").asInt()));
        // (The initial program's copies, on every island from the start, left out.)
        assertThat(database.get("programs").valueStream()
                .filter(p -> !p.get("migratedFrom").isNull() && p.get("iteration").asLong() > 0)
                .map(p -> Math.floorMod(p.get("island").asInt() - islandOf.get(p.get("migratedFrom").asString()), 3))
                .distinct()).as("steps round the ring of the copies").contains(1, 2);
        assertThat(database.get("programs").size()).as("programs, some dropped by the population cap")
                .isGreaterThan(database.get("islands").findValues("members").stream().mapToInt(JsonNode::size).sum());
        assertThat(trace(straight).stream().map(n -> n.get("outcome").asString()).distinct())
                .contains("improved", "regressed");
    }

    @Test
    void parallelEvaluationsCompleteEveryIteration() throws Exception {
        server.fallback(req -> Reply.content(edit("score=1", "sleep 0.3; score=2")));
        Path out = tmp.resolve("run");
        long start = System.nanoTime();
        RunSummary s = run(settings(6, "evaluator:\n  parallel_evaluations: 3\n  timeout: 5\n"), out, false);
        assertThat(s.completed()).isEqualTo(6);
        assertThat(trace(out)).hasSize(7);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
    }
    /** What a listener hears and the summary says, on a run and on its resume (which restores the checkpoint's). */
    @Test
    void theListenerAndTheSummaryOnARunAndItsResume() throws Exception {
        server.enqueue(Reply.content(edit("score=1", "score=3")), Reply.content("no edit"),
                Reply.content("no edit"));
        String yaml = "checkpoint_interval: 1\ndatabase:\n  num_islands: 1\n";
        List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        RunListener listener = new RunListener() {
            @Override
            public void started(int total, long completed, double best) {
                heard.add("started " + total + " " + completed + " " + best);
            }
        };
        Path out = tmp.resolve("run");
        RunSummary first = run(settings(2, yaml), out, false, listener);
        assertThat(heard).containsExactly("started 2 0 1.0");
        assertThat(first.bestId()).isEqualTo("1");
        assertThat(first.bestFitness()).isEqualTo(3.0);
        assertThat(first.bestMetrics()).containsExactly(entry("score", 3.0));
        assertThat(first.errors()).containsExactly(entry("no_edit", 1));

        heard.clear();
        RunSummary resumed = run(settings(3, yaml), out, true, listener);
        // The best fitness and the counts come from checkpoint_2: no trace line after it is replayed.
        assertThat(heard).containsExactly("started 3 2 3.0");
        assertThat(resumed.completed()).isEqualTo(3);
        assertThat(resumed.initialFitness()).isEqualTo(1.0);
        assertThat(resumed.bestFitness()).isEqualTo(3.0);
        assertThat(resumed.errors()).containsExactly(entry("no_edit", 2));
        JsonNode state = RunDirectory.readJson(out.resolve("checkpoints/checkpoint_3/state.json"));
        assertThat(state.get("costs").get("scripted").get("calls").asLong()).as("the calls before the resume too")
                .isEqualTo(3);
        assertThat(state.get("bestFitness").asDouble()).isEqualTo(3.0);
        assertThat(state.get("traceLines").asLong()).isEqualTo(4);

        assertThat(EvolutionRun.checkpointSeed(out)).isEqualTo(java.util.OptionalLong.of(settings(3, yaml)
                .randomSeed()));
        assertThat(EvolutionRun.checkpointSeed(tmp.resolve("none"))).isEmpty();
        CostLedger ledger = new CostLedger();
        assertThat(new EvolutionRun(ShellTask.of(INITIAL, "sh \"$1\""), settings(1, ""), (m, i) -> null, ledger,
                out, RunListener.NONE).out()).isEqualTo(out);
    }

    /**
     * An improvement of exactly the convergence threshold does not reset the patience ("an improvement smaller than
     * this does not", and one of it is no larger), and the early stop is told to the listener.
     */
    @Test
    void anImprovementOfExactlyTheThresholdDoesNotResetThePatience() throws Exception {
        server.enqueue(Reply.content(edit("score=1", "score=3")));
        server.fallback(req -> Reply.content("no edit"));
        List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
        RunSummary summary = run(settings(4, "early_stopping_patience: 2\nconvergence_threshold: 2\n"
                + "database:\n  num_islands: 1\n"), tmp.resolve("run"), false, new RunListener() {
                    @Override
                    public void message(String text) {
                        messages.add(text);
                    }
                });
        assertThat(summary.stopReason()).isEqualTo("early_stopping");
        assertThat(summary.completed()).isEqualTo(2);
        assertThat(summary.bestFitness()).isEqualTo(3.0);
        assertThat(messages).containsExactly("stopping early: no improvement above 2.0 in 2 iterations");
    }

    /** One iteration from the initial program with {@code answer}, under {@code yaml}: its trace line. */
    private JsonNode oneIteration(String name, String yaml, Reply answer) throws Exception {
        server.enqueue(answer);
        Path out = tmp.resolve(name);
        long start = System.nanoTime();
        run(settings(1, yaml), out, false);
        double elapsed = (System.nanoTime() - start) / 1e9;
        List<JsonNode> t = trace(out);
        assertThat(t).hasSize(2);
        for (JsonNode line : t) {
            // A line's seconds are a part of the run's, rounded to the millisecond.
            assertThat(line.get("seconds").asDouble()).as(name).isBetween(0.0, elapsed + 0.0005);
        }
        return t.get(1);
    }

    /** Outcomes, edit counts and the reasons an answer makes no child, each on its first iteration. */
    @Test
    void outcomesEditCountsAndTheReasonsForNoChild() throws Exception {
        // One block applies, two find nothing to replace, and one is never closed.
        JsonNode same = oneIteration("same", "", Reply.content(edit("extra=0", "extra=1")
                + edit("score=404", "score=2") + edit("score=405", "score=3") + "<<<<<<< SEARCH\nscore=1\n"));
        assertThat(same.get("outcome").asString()).as("the parent's fitness, equal").isEqualTo("unchanged");
        assertThat(same.get("edits_applied").asInt()).isEqualTo(1);
        assertThat(same.get("edits_failed").asInt()).isEqualTo(3);
        assertThat(oneIteration("lower", "", Reply.content(edit("score=1", "score=0"))).get("outcome").asString())
                .isEqualTo("regressed");

        JsonNode none = oneIteration("none", "", Reply.content("I would rather not."));
        assertThat(none.get("error").asString() + ": " + none.get("error_message").asString())
                .startsWith("no_edit: - the answer has no SEARCH/REPLACE block; write each change as '<<<<<<< SEARCH'");

        String content = RunDirectory.JSON.writeValueAsString("X" + edit("score=1", "score=5")).replaceFirst("X",
                "\\\\udc00");
        JsonNode lone = oneIteration("lone", "", Reply.raw(200, "{\"choices\": [{\"index\": 0, \"finish_reason\": "
                + "\"stop\", \"message\": {\"role\": \"assistant\", \"content\": " + content + "}}], \"usage\": "
                + "{\"prompt_tokens\": 1, \"completion_tokens\": 1, \"total_tokens\": 2}}"));
        assertThat(lone.get("error_message").asString()).startsWith("malformed_response: the answer holds an "
                + "unpaired UTF-16 surrogate at character 0,");

        // Children as long as max_code_length are evaluated; one character more is too long.
        String limit = "max_code_length: " + (INITIAL.length() + 2) + "\n";
        JsonNode fits = oneIteration("fits", limit, Reply.content(edit("extra=0", "extra=000")));
        assertThat(fits.get("outcome").asString()).isEqualTo("unchanged");
        assertThat(fits.get("program_id").asString()).isEqualTo("1");
        JsonNode longer = oneIteration("longer", limit, Reply.content(edit("extra=0", "extra=0000")));
        assertThat(longer.get("error").asString() + ": " + longer.get("error_message").asString())
                .isEqualTo("too_long: " + (INITIAL.length() + 3) + " characters, more than max_code_length "
                        + (INITIAL.length() + 2));
        assertThat(longer.get("program_id").isNull()).isTrue();

        JsonNode identical = oneIteration("identical", "diff_based_evolution: false\n",
                Reply.content("The same.\n```bash\n" + INITIAL + "```\n"));
        assertThat(identical.get("error").asString() + ": " + identical.get("error_message").asString())
                .isEqualTo("no_edit: the rewrite is identical to the current program");
    }

    /** A bug or an unexpected input in an iteration, before its trace line, fails that iteration only. */
    @Test
    void anUnexpectedExceptionFailsTheIterationAsInternalError() throws Exception {
        EvolveSettings s = settings(2, "");
        Path out = tmp.resolve("run");
        RunSummary summary = new EvolutionRun(ShellTask.of(INITIAL, "sh \"$1\""), s, (messages, i) -> {
            throw new IllegalStateException("boom " + i);
        }, new CostLedger(), out, RunListener.NONE).run(false);
        assertThat(summary.completed()).isEqualTo(2);
        assertThat(summary.errors()).containsExactly(entry("internal_error", 2));
        JsonNode line = trace(out).get(2);
        assertThat(line.get("outcome").asString()).isEqualTo("failed");
        assertThat(line.get("error_message").asString()).isEqualTo("java.lang.IllegalStateException: boom 2");
    }

    /**
     * A resume where there is no run is refused, and leaves no folder behind: it left the empty folder it had
     * made (the command line refuses a missing --out before; a library caller got the folder).
     */
    @Test
    void aResumeWithNothingToResumeIsRefused() throws Exception {
        Path out = tmp.resolve("never");
        assertThatThrownBy(() -> run(settings(1, ""), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(out + ": holds no run to resume (no trace.jsonl, no checkpoint); leave out --resume to "
                        + "start one");
        assertThat(out).doesNotExist();
        assertThat(server.requestCount()).isZero();
    }

    /**
     * The fitness metric must be one the initial program reports, whether the configuration names it or a
     * task.yaml does (only combined_score, the default, falls back to the mean); a cascade metric only where a
     * later stage would be gated by it.
     */
    @Test
    void aFitnessMetricTheInitialProgramDoesNotReportIsRefused() throws Exception {
        assertThatThrownBy(() -> run(settings(1, "database:\n  fitness_metric: speed\n"), tmp.resolve("config"),
                false)).isInstanceOf(InvalidInputException.class).hasMessage("database.fitness_metric: 'speed' is "
                + "not a metric of the initial program, which reports score");
        Path dir = Files.createDirectories(tmp.resolve("task"));
        Files.writeString(dir.resolve("task.yaml"), "evaluator: [sh, \"{program}\"]\nfitness_metric: speed\n");
        Files.writeString(dir.resolve("initial_program.sh"), INITIAL);
        io.moelab.evolve.task.GenericTask task = io.moelab.evolve.task.GenericTask.load(dir);
        EvolveSettings s = EvolveConfig.defaults("speed").iterations(1).model("scripted").apiBase(server.apiBase())
                .build(null);
        CostLedger ledger = new CostLedger();
        assertThatThrownBy(() -> new EvolutionRun(task, s, LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null),
                ledger, tmp.resolve("yaml"), RunListener.NONE).run(false)).isInstanceOf(InvalidInputException.class)
                .hasMessage(dir.resolve("task.yaml") + ": fitness_metric: 'speed' is not a metric of the initial "
                        + "program, which reports score");
        server.fallback(req -> Reply.content("no edit"));
        assertThat(run(settings(1, "evaluator:\n  cascade_metric: nowhere\n"), tmp.resolve("last"), false)
                .completed()).as("one stage: nothing to gate").isEqualTo(1);
        assertThat(server.requestCount()).isEqualTo(1);
    }

    /** An initial program that fails: its error kind and the first lines of its message, on one line. */
    @Test
    void aFailingInitialProgramIsRefusedWithTheFirstLinesOfItsError() throws Exception {
        StringBuilder program = new StringBuilder();
        for (int i = 1; i <= 14; i++) {
            program.append("echo line").append(i).append(" >&2\n");
        }
        program.append("exit 3\n");
        CostLedger ledger = new CostLedger();
        EvolveSettings s = settings(1, "");
        Path out = tmp.resolve("failing");
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> new EvolutionRun(ShellTask.of(
                program.toString(), "sh \"$1\""), s, LlmEnsemble.create(s.llm(), ledger, d -> { }, k -> null), ledger,
                out, RunListener.NONE).run(false));
        assertThat(t).isInstanceOf(InvalidInputException.class);
        assertThat(t.getMessage()).startsWith("initial program: failed evaluation: exit: ").doesNotContain("\n")
                .contains(" | ");
        assertThat(t.getMessage().split(" \\| ", -1)).hasSizeLessThanOrEqualTo(12);
        assertThat(out).doesNotExist();
    }

    /** The newest keep_checkpoints checkpoints stay, the older go. */
    @Test
    void onlyTheNewestCheckpointsAreKept() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        Path out = tmp.resolve("run");
        run(settings(4, "checkpoint_interval: 1\nkeep_checkpoints: 2\n"), out, false);
        try (Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("checkpoint_3",
                    "checkpoint_4");
        }
    }

    /**
     * A trace with a blank line inside and a last line cut short but ended (a line the crash ended with a newline):
     * the cut line is dropped from the file at its first byte, so that appends go on from a clean end; an iteration
     * given twice is refused, also iteration 0.
     */
    @Test
    void aTornLastLineIsCutAtItsFirstBytePastABlankLine() throws Exception {
        server.fallback(req -> Reply.content("no edit"));
        String yaml = "checkpoint_interval: 100\n";
        Path out = tmp.resolve("run");
        run(settings(2, yaml), out, false);
        Path trace = out.resolve("trace.jsonl");
        List<String> lines = Files.readAllLines(trace);
        String kept = lines.get(0) + "\n\n" + lines.get(1) + "\n" + lines.get(2) + "\n";
        Files.writeString(trace, kept + "{\"iteration\": 3, \"isl\n");
        assertThat(run(settings(3, yaml), out, true).completed()).isEqualTo(3);
        String after = Files.readString(trace);
        assertThat(after).startsWith(kept);
        assertThat(after.substring(kept.length())).startsWith("{\"iteration\":3,").endsWith("}\n")
                .containsOnlyOnce("\n");

        Files.writeString(trace, lines.get(0) + "\n" + lines.get(0) + "\n");
        assertThatThrownBy(() -> run(settings(3, yaml), out, true)).isInstanceOf(InvalidInputException.class)
                .hasMessage(trace + ":2: iteration 0 appears twice");
    }

    @Test
    void programFilesKeepTheTasksExtension() {
        assertThat(new RunDirectory(tmp, "Main.java").program("7")).isEqualTo(tmp.resolve("programs/7.java"));
        assertThat(new RunDirectory(tmp, "Makefile").program("7")).isEqualTo(tmp.resolve("programs/7"));
        assertThat(new RunDirectory(tmp, ".profile").program("7")).isEqualTo(tmp.resolve("programs/7.profile"));
        assertThat(new RunDirectory(tmp, "a.tar.gz").program("0")).isEqualTo(tmp.resolve("programs/0.gz"));
    }

    /** What an answer says it changes is kept whole up to 300 characters, and cut before half a surrogate pair. */
    @Test
    void changesAreCutAt300Characters() {
        String fence = "\n```sh\nx\n```";
        String exactly = "w".repeat(300);
        assertThat(EvolutionRun.changes(exactly + fence, false)).isEqualTo(exactly);
        assertThat(EvolutionRun.changes(exactly + "v" + fence, false)).isEqualTo("w".repeat(297) + "...");
        // A pair at characters 296 and 297: the cut at 297 would keep its first half.
        String pair = "w".repeat(296) + "\uD83D\uDE00" + "w".repeat(10);
        assertThat(EvolutionRun.changes(pair + fence, false)).isEqualTo("w".repeat(296) + "...");
        String after = "w".repeat(297) + "\uD83D\uDE00" + "w".repeat(10);
        assertThat(EvolutionRun.changes(after + fence, false)).isEqualTo("w".repeat(297) + "...");
    }
}
