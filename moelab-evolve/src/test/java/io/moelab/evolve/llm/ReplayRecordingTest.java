package io.moelab.evolve.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.llm.LlmException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Recording completions to JSON lines and replaying them. */
class ReplayRecordingTest {
    private static final List<ChatMessage> PROMPT = List.of(ChatMessage.user("improve"));

    @TempDir
    Path dir;

    private Path write(String text) throws IOException {
        Path p = dir.resolve("llm.jsonl");
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void replaysByIterationLastDuplicateWins() throws Exception {
        Path p = write("""
                {"iteration": 0, "model": "a", "content": "zero", "prompt_tokens": 10, "completion_tokens": 5, \
                "cost_usd": 0.5, "extra": [1]}

                {"iteration": 2, "model": "b", "content": "two-old", "prompt_tokens": 1, "completion_tokens": 1, \
                "cost_usd": 0.1}
                {"iteration": 2, "model": "b", "content": "two-new", "prompt_tokens": 3, "completion_tokens": 4, \
                "cost_usd": 0.25}
                """);
        CostLedger ledger = new CostLedger();
        ReplayClient r = new ReplayClient(p, ledger);
        assertThat(r.iterations()).containsExactly(0, 2);
        assertThat(r.complete(PROMPT, 0)).isEqualTo(new Completion("a", "zero", 10, 5, 0.5, 1));
        assertThat(r.complete(PROMPT, 2)).isEqualTo(new Completion("b", "two-new", 3, 4, 0.25, 1));
        assertThat(ledger.totalUsd()).isEqualTo(0.75);
        LlmException e = catchThrowableOfType(LlmException.class, () -> r.complete(PROMPT, 1));
        assertThat(e.kind()).isEqualTo(Kind.NO_RECORDING);
        assertThat(e.getMessage()).contains("iteration 1");
    }

    /** --budget was ignored by a replay: every recorded call was replayed, past the budget the run stopped at. */
    @Test
    void noCompletionIsReplayedOnceTheBudgetIsReached() throws Exception {
        Path p = write("""
                {"iteration": 1, "model": "m", "content": "one", "cost_usd": 0.3}
                {"iteration": 2, "model": "m", "content": "two", "cost_usd": 0.3}
                {"iteration": 3, "model": "m", "content": "three", "cost_usd": 0.3}
                """);
        CostLedger ledger = new CostLedger();
        ReplayClient r = new ReplayClient(p, ledger, 0.5);
        assertThat(r.complete(PROMPT, 1).content()).isEqualTo("one"); // $0 spent before it
        assertThat(r.complete(PROMPT, 2).content()).isEqualTo("two"); // $0.30, still below $0.50
        LlmException e = catchThrowableOfType(LlmException.class, () -> r.complete(PROMPT, 3));
        assertThat(e.kind()).isEqualTo(Kind.BUDGET_EXHAUSTED);
        assertThat(e.getMessage()).isEqualTo("model m: budget of $0.5000 reached ($0.6000 spent)");
        assertThat(ledger.totalUsd()).isEqualTo(0.6);
        assertThat(ledger.totalCalls()).isEqualTo(2);
        // Before a missing recording: a run stopped by its budget recorded nothing after the stop.
        assertThat(catchThrowableOfType(LlmException.class, () -> r.complete(PROMPT, 4)).kind())
                .isEqualTo(Kind.BUDGET_EXHAUSTED);
        // A budget of 0 replays nothing; without one, everything.
        assertThat(catchThrowableOfType(LlmException.class, () -> new ReplayClient(p, new CostLedger(), 0)
                .complete(PROMPT, 1)).kind()).isEqualTo(Kind.BUDGET_EXHAUSTED);
        ReplayClient unlimited = new ReplayClient(p, new CostLedger());
        for (int i = 1; i <= 3; i++) {
            assertThat(unlimited.complete(PROMPT, i).costUsd()).isEqualTo(0.3);
        }
    }

    @Test
    void tornLastLineIsIgnored() throws Exception {
        Path p = write("""
                {"iteration": 0, "content": "zero"}
                {"iteration": 1, "content": "o""");
        ReplayClient r = new ReplayClient(p);
        assertThat(r.size()).isEqualTo(1);
        assertThat(r.complete(PROMPT, 0)).isEqualTo(new Completion("replay", "zero", 0, 0, 0, 1));
        // Blank lines after it (the file edited, or copied with a newline added) leave it the last line.
        Path trailing = write("{\"iteration\": 0, \"content\": \"zero\"}\n{\"iteration\": 1, \"content\": \"o\n\n \n");
        assertThat(new ReplayClient(trailing).iterations()).containsExactly(0);
    }

    /**
     * A recording with nothing to replay was accepted as empty, and a run on it "completed" every iteration as
     * llm_error with exit code 0; a lone unparseable line was taken for a torn last line.
     */
    @Test
    void aRecordingWithoutACompletionIsAnError() throws IOException {
        Path empty = write("");
        assertThatThrownBy(() -> new ReplayClient(empty)).isInstanceOf(InvalidInputException.class)
                .hasMessage(empty + ": holds no recorded completion (JSON lines with \"iteration\" and \"content\", "
                        + "as a run's llm_responses.jsonl)");
        Path blank = write("\n  \n\n");
        assertThatThrownBy(() -> new ReplayClient(blank)).hasMessageStartingWith(blank + ": holds no recorded");
        Path garbage = write("not json\n");
        assertThatThrownBy(() -> new ReplayClient(garbage)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(garbage + ":1: not valid JSON: ");
    }

    /**
     * A line repeating a key was replayed with the last value, "one" here or iteration 2's answer as iteration 1's. A
     * crash cuts a line short and does not repeat a key, so as the last line it is refused too, not ignored as torn.
     */
    @Test
    void aLineRepeatingAKeyIsAnErrorNamingTheLineAndKey() throws IOException {
        Path middle = write("""
                {"iteration": 0, "content": "zero", "content": "one"}
                {"iteration": 1, "content": "two"}
                """);
        assertThatThrownBy(() -> new ReplayClient(middle)).isInstanceOf(InvalidInputException.class)
                .hasMessage(middle + ":1: Duplicate Object property \"content\"");
        Path last = write("""
                {"iteration": 0, "content": "zero"}
                {"iteration": 1, "content": "two", "iteration": 2}
                """);
        assertThatThrownBy(() -> new ReplayClient(last)).isInstanceOf(InvalidInputException.class)
                .hasMessage(last + ":2: Duplicate Object property \"iteration\"");
    }

    /**
     * Each field of a line that is JSON but not a completion is named with the line, also on the last line (a crash
     * leaves a line cut short, not one of the wrong types); absent or null optional fields take their defaults.
     */
    @Test
    void aFieldOfTheWrongTypeIsNamedWithItsLine() throws Exception {
        String good = "{\"iteration\": 0, \"content\": \"zero\"}\n";
        Map<String, String> errors = new java.util.LinkedHashMap<>();
        errors.put("[1]", "not a JSON object");
        errors.put("{\"content\": \"a\"}", "iteration: must be an integer");
        errors.put("{\"iteration\": 1.5, \"content\": \"a\"}", "iteration: must be an integer");
        errors.put("{\"iteration\": 3000000000, \"content\": \"a\"}", "iteration: must be an integer");
        errors.put("{\"iteration\": 1}", "content: must be a string");
        errors.put("{\"iteration\": 1, \"content\": 5}", "content: must be a string");
        errors.put("{\"iteration\": 1, \"content\": \"a\", \"model\": 5}", "model: must be a string");
        errors.put("{\"iteration\": 1, \"content\": \"a\", \"prompt_tokens\": -1}",
                "prompt_tokens: must be a non-negative integer");
        errors.put("{\"iteration\": 1, \"content\": \"a\", \"completion_tokens\": 2.5}",
                "completion_tokens: must be a non-negative integer");
        errors.put("{\"iteration\": 1, \"content\": \"a\", \"completion_tokens\": 1e30}",
                "completion_tokens: must be a non-negative integer");
        errors.put("{\"iteration\": 1, \"content\": \"a\", \"cost_usd\": -0.5}",
                "cost_usd: must be a non-negative number");
        errors.put("{\"iteration\": 1, \"content\": \"a\", \"cost_usd\": \"1\"}",
                "cost_usd: must be a non-negative number");
        errors.put("{\"iteration\": 1, \"content\": \"a\", \"cost_usd\": 1e400}",
                "cost_usd: must be a non-negative number");
        for (Map.Entry<String, String> e : errors.entrySet()) {
            Path middle = write(good + e.getKey() + "\n" + good);
            assertThatThrownBy(() -> new ReplayClient(middle)).as(e.getKey()).isInstanceOf(InvalidInputException.class)
                    .hasMessage(middle + ":2: " + e.getValue());
            Path last = write(good + e.getKey() + "\n");
            assertThatThrownBy(() -> new ReplayClient(last)).as(e.getKey()).hasMessage(last + ":2: " + e.getValue());
        }
        Path defaults = write("{\"iteration\": -4, \"content\": \"a\", \"model\": null, \"prompt_tokens\": null, "
                + "\"completion_tokens\": 0, \"cost_usd\": null, \"extra\": [1]}\n");
        assertThat(new ReplayClient(defaults).complete(PROMPT, -4)).isEqualTo(new Completion("replay", "a", 0, 0, 0,
                1));
    }

    @Test
    void badMiddleLineIsAnErrorNamingTheLine() throws IOException {
        Path p = write("""
                {"iteration": 0, "content": "zero"}
                {"iteration": 1, "content
                {"iteration": 2, "content": "two"}
                """);
        assertThatThrownBy(() -> new ReplayClient(p))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(p + ":2:");
        Path q = write("""
                {"iteration": 0, "content": 5}
                """);
        assertThatThrownBy(() -> new ReplayClient(q)).hasMessageStartingWith(q + ":1: content");
        assertThatThrownBy(() -> new ReplayClient(dir.resolve("absent.jsonl")))
                .isInstanceOf(InvalidInputException.class);
    }

    @Test
    void recordingRoundTripsThroughReplay() throws Exception {
        Path p = dir.resolve("sub/rec.jsonl");
        AtomicInteger calls = new AtomicInteger();
        LlmClient fake = (messages, iteration) -> {
            calls.incrementAndGet();
            if (iteration == 13) {
                throw new LlmException(Kind.SERVER_ERROR, "down");
            }
            return new Completion("m" + iteration % 2, "code \"" + iteration + "\"\n", iteration, 2L * iteration,
                    iteration / 100.0, 1);
        };
        try (RecordingClient rec = new RecordingClient(fake, p)) {
            IntStream.range(0, 40).parallel().forEach(i -> {
                try {
                    rec.complete(PROMPT, i);
                } catch (LlmException e) {
                    assertThat(i).isEqualTo(13);
                }
            });
        }
        List<String> lines = Files.readAllLines(p);
        assertThat(lines).hasSize(39);
        JsonNode first = JsonMapper.builder().build().readTree(lines.getFirst());
        assertThat(first.path("messages_sha256").stringValue()).isEqualTo(RecordingClient.messagesSha256(PROMPT))
                .hasSize(64);

        ReplayClient replay = new ReplayClient(p);
        assertThat(replay.size()).isEqualTo(39);
        for (int i = 0; i < 40; i++) {
            if (i == 13) {
                continue;
            }
            assertThat(replay.complete(PROMPT, i)).isEqualTo(fake.complete(PROMPT, i));
        }
    }

    /**
     * An answer with an unpaired surrogate (not valid Unicode) is recorded so that a replay gets it back as it came:
     * encoded to UTF-8 it used to become '?', and the replay then ran another answer than the run.
     */
    @Test
    void anAnswerThatIsNotValidUnicodeReplaysAsItCame() throws Exception {
        Path p = dir.resolve("broken.jsonl");
        String broken = "caf\u00e9 \ud800 \ud83d\ude00 end";
        try (RecordingClient rec = new RecordingClient((m, it) -> new Completion("m", broken, 1, 1, 0, 1), p)) {
            rec.complete(PROMPT, 0);
        }
        assertThat(new ReplayClient(p).complete(PROMPT, 0).content()).isEqualTo(broken);
    }

    @Test
    void recordingAppendsAfterCuttingATornTail() throws Exception {
        Path p = write("{\"iteration\": 0, \"content\": \"zero\"}\n{\"iteration\": 1, \"cont");
        try (RecordingClient rec = new RecordingClient((m, it) -> new Completion("m", "x" + it, 1, 1, 0, 1), p)) {
            rec.complete(PROMPT, 5);
        }
        ReplayClient r = new ReplayClient(p);
        assertThat(r.iterations()).containsExactly(0, 5);
        assertThat(r.complete(PROMPT, 5).content()).isEqualTo("x5");
    }

    /**
     * A recording that is one torn line (a crash in the first write) is cut to nothing; the delegate's completion is
     * what the recorder returns; after close, completions fail rather than go unrecorded.
     */
    @Test
    void aRecordingOfOneTornLineIsCutToNothingAndAClosedOneRecordsNoMore() throws Exception {
        Path p = write("{\"iteration\": 0, \"cont");
        Completion answer = new Completion("m", "x", 1, 2, 0.5, 3);
        RecordingClient rec = new RecordingClient((m, it) -> answer, p);
        assertThat(p).isEmptyFile();
        assertThat(rec.complete(PROMPT, 4)).isSameAs(answer);
        rec.close();
        assertThatThrownBy(() -> rec.complete(PROMPT, 5)).isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageStartingWith("cannot append to the recording " + p);
        assertThat(new ReplayClient(p).iterations()).containsExactly(4);
        assertThat(rec.path()).isEqualTo(p);
    }

    @Test
    void promptHashDependsOnRolesAndContent() {
        assertThat(RecordingClient.messagesSha256(List.of(ChatMessage.user("a"))))
                .isNotEqualTo(RecordingClient.messagesSha256(List.of(ChatMessage.system("a"))))
                .isEqualTo(RecordingClient.messagesSha256(List.of(new ChatMessage("user", "a"))));
    }
}
