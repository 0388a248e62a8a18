package io.moelab.evolve.llm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.config.YamlErrors;
import io.moelab.evolve.llm.LlmException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Answers from a recording instead of a model: a JSON-lines file, one completion a line, as written by
 * {@link RecordingClient}:
 * <pre>
 * {"iteration": 7, "model": "m", "content": "...", "prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.001}
 * </pre>
 * Other fields are ignored; {@code model}, the token counts and the cost default to {@code "replay"} and 0. When
 * an iteration appears more than once the last line wins. An unparseable last line is ignored (a crash while it
 * was written); any other bad line, and a line repeating a key wherever it is, is an error naming its line number,
 * and so is a recording with no completion at all (empty, or its only line unparseable). Thread-safe.
 */
public final class ReplayClient implements LlmClient {
    /** Refuses a repeated key: the recording is moelab's, which never repeats one, so the line was edited. */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Map<Integer, Completion> byIteration;
    private final CostLedger ledger;
    private final double budgetUsd;

    /**
     * Reads a recording.
     *
     * @throws InvalidInputException if the file cannot be read, a line other than the last is invalid or it records
     *                               no completion
     */
    public ReplayClient(Path jsonl) {
        this(jsonl, null);
    }

    /**
     * Reads a recording; replayed completions are added to {@code ledger} (may be null).
     *
     * @throws InvalidInputException if the file cannot be read, a line other than the last is invalid or it records
     *                               no completion
     */
    public ReplayClient(Path jsonl, CostLedger ledger) {
        this(jsonl, ledger, Double.POSITIVE_INFINITY);
    }

    /**
     * Reads a recording; replayed completions are added to {@code ledger}, and once it has reached
     * {@code budgetUsd} no completion is replayed ({@link Kind#BUDGET_EXHAUSTED}), as a model would not be called:
     * a replay with the run's budget stops where the run did.
     *
     * @throws InvalidInputException if the file cannot be read, a line other than the last is invalid or it records
     *                               no completion
     */
    public ReplayClient(Path jsonl, CostLedger ledger, double budgetUsd) {
        Objects.requireNonNull(jsonl, "jsonl");
        this.ledger = ledger;
        this.budgetUsd = budgetUsd;
        String text;
        try {
            text = new String(Files.readAllBytes(jsonl), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidInputException(jsonl.toString(), "cannot read the recording: " + e.getMessage(), e);
        }
        String[] lines = text.split("\n", -1);
        int last = lines.length - 1;
        while (last >= 0 && lines[last].isBlank()) {
            last--;
        }
        Map<Integer, Completion> map = new HashMap<>();
        InvalidInputException torn = null;
        for (int i = 0; i <= last; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            String where = jsonl + ":" + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(lines[i]);
            } catch (JacksonException e) {
                if (YamlErrors.duplicateKey(e)) {
                    // A crash cuts a line short, it does not repeat a key: refused wherever it is.
                    throw new InvalidInputException(where, YamlErrors.jsonProblem(e), e);
                }
                InvalidInputException bad = new InvalidInputException(where, "not valid JSON: "
                        + YamlErrors.jsonProblem(e), e);
                if (i == last) {
                    torn = bad; // torn by a crash while writing
                    break;
                }
                throw bad;
            }
            Entry e = entry(node, where);
            map.put(e.iteration(), e.completion());
        }
        // Nothing to replay: every iteration would fail as llm_error and the run would "complete" without a model.
        if (map.isEmpty()) {
            throw torn != null ? torn : new InvalidInputException(jsonl.toString(), "holds no recorded completion "
                    + "(JSON lines with \"iteration\" and \"content\", as a run's llm_responses.jsonl)");
        }
        this.byIteration = Map.copyOf(map);
    }

    private record Entry(int iteration, Completion completion) {}

    private static Entry entry(JsonNode node, String where) {
        if (node == null || !node.isObject()) {
            throw new InvalidInputException(where, "not a JSON object");
        }
        JsonNode it = node.path("iteration");
        if (!it.isIntegralNumber() || !it.canConvertToInt()) {
            throw new InvalidInputException(where, "iteration: must be an integer");
        }
        JsonNode content = node.path("content");
        if (!content.isString()) {
            throw new InvalidInputException(where, "content: must be a string");
        }
        JsonNode model = node.path("model");
        if (!model.isMissingNode() && !model.isNull() && !model.isString()) {
            throw new InvalidInputException(where, "model: must be a string");
        }
        return new Entry(it.intValue(), new Completion(
                model.isString() ? model.stringValue() : "replay",
                content.stringValue(),
                count(node, "prompt_tokens", where),
                count(node, "completion_tokens", where),
                cost(node, where),
                1));
    }

    private static long count(JsonNode node, String field, String where) {
        JsonNode n = node.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return 0;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
            throw new InvalidInputException(where, field + ": must be a non-negative integer");
        }
        return n.longValue();
    }

    private static double cost(JsonNode node, String where) {
        JsonNode n = node.path("cost_usd");
        if (n.isMissingNode() || n.isNull()) {
            return 0;
        }
        if (!n.isNumber() || !(n.doubleValue() >= 0) || Double.isInfinite(n.doubleValue())) {
            throw new InvalidInputException(where, "cost_usd: must be a non-negative number");
        }
        return n.doubleValue();
    }

    @Override
    public Completion complete(List<ChatMessage> messages, int iteration) throws LlmException {
        Completion c = byIteration.get(iteration);
        // Checked first, as a model is not called once the budget is reached: a run that stopped there recorded
        // nothing after it.
        double spent = ledger == null ? 0 : ledger.totalUsd();
        if (spent >= budgetUsd) {
            throw new LlmException(Kind.BUDGET_EXHAUSTED, String.format(Locale.ROOT,
                    "model %s: budget of $%.4f reached ($%.4f spent)", c == null ? "replay" : c.model(), budgetUsd,
                    spent));
        }
        if (c == null) {
            throw new LlmException(Kind.NO_RECORDING, "no recorded completion for iteration " + iteration);
        }
        if (ledger != null) {
            ledger.record(c.model(), c.promptTokens(), c.completionTokens(), c.costUsd());
        }
        return c;
    }

    /** The iterations that have a recording, ascending. */
    public Set<Integer> iterations() {
        return new TreeSet<>(byIteration.keySet());
    }

    /** How many iterations have a recording. */
    public int size() {
        return byIteration.size();
    }
}
