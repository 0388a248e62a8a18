package io.moelab.evolve.llm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How the loop talks to language models.
 *
 * @param models        the ensemble; at least one, names distinct
 * @param timeout       limit on one HTTP request attempt, from sending it until its whole answer has arrived, positive
 * @param retries       retries after the first attempt on transient failures, at least 0
 * @param retryDelay    first back-off delay; doubles per retry
 * @param maxRetryDelay cap on any back-off delay, including one asked for by {@code Retry-After}; one beyond about
 *                      292 years (a long of nanoseconds) caps at that
 * @param budgetUsd     no new request once the ledger reaches this many dollars; {@code +Infinity} for no cap
 * @param temperature   sampling temperature, in [0, 2]
 * @param topP          nucleus sampling, in (0, 1]
 * @param maxTokens     completion token limit, positive
 * @param seed          seeds model choice and the per-iteration sampling seed sent to servers
 */
public record LlmSettings(
        List<LlmModel> models,
        Duration timeout,
        int retries,
        Duration retryDelay,
        Duration maxRetryDelay,
        double budgetUsd,
        double temperature,
        double topP,
        int maxTokens,
        long seed) {

    /** Validates every field; errors name the field. */
    public LlmSettings {
        if (models == null || models.isEmpty()) {
            throw new InvalidInputException("llm.models", "at least one model is needed");
        }
        for (LlmModel m : models) {
            if (m == null) {
                throw new InvalidInputException("llm.models", "must not contain null");
            }
        }
        models = List.copyOf(models);
        Set<String> names = new HashSet<>();
        for (LlmModel m : models) {
            if (!names.add(m.name())) {
                throw new InvalidInputException("llm.models", "model " + m.name() + " is listed twice");
            }
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new InvalidInputException("llm.timeout", "must be positive, got " + seconds(timeout));
        }
        if (retries < 0) {
            throw new InvalidInputException("llm.retries", "must be at least 0, got " + retries);
        }
        if (retryDelay == null || retryDelay.isNegative()) {
            throw new InvalidInputException("llm.retry_delay", "must be at least 0, got " + seconds(retryDelay));
        }
        if (maxRetryDelay == null || maxRetryDelay.compareTo(retryDelay) < 0) {
            throw new InvalidInputException(
                    "llm.max_retry_delay", "must be at least retry_delay (" + seconds(retryDelay) + "), got "
                    + seconds(maxRetryDelay));
        }
        if (Double.isNaN(budgetUsd) || budgetUsd < 0) {
            throw new InvalidInputException("llm.budget_usd", "must be at least 0, got " + Numbers.plain(budgetUsd));
        }
        if (!(temperature >= 0 && temperature <= 2)) {
            throw new InvalidInputException("llm.temperature", "must be in [0, 2], got " + Numbers.plain(temperature));
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidInputException("llm.top_p", "must be in (0, 1], got " + Numbers.plain(topP));
        }
        if (maxTokens < 1) {
            throw new InvalidInputException("llm.max_tokens", "must be at least 1, got " + maxTokens);
        }
    }

    /** A duration as the configuration gives it, in seconds ({@code 100 s}), not as {@link Duration} prints it. */
    private static String seconds(Duration d) {
        return d == null ? "none" : Numbers.plain(d.toMillis() / 1e3) + " s";
    }

    /**
     * Defaults: timeout 120 s, 3 retries, back-off from 2 s capped at 60 s, no budget cap, temperature 0.7,
     * top-p 0.95, 4096 completion tokens, seed 42.
     */
    public static LlmSettings defaults(List<LlmModel> models) {
        return new LlmSettings(
                models,
                Duration.ofSeconds(120),
                3,
                Duration.ofSeconds(2),
                Duration.ofSeconds(60),
                Double.POSITIVE_INFINITY,
                0.7,
                0.95,
                4096,
                42);
    }

    /** Copy with other models. */
    public LlmSettings withModels(List<LlmModel> v) {
        return new LlmSettings(v, timeout, retries, retryDelay, maxRetryDelay, budgetUsd, temperature, topP,
                maxTokens, seed);
    }

    /** Copy with another request timeout. */
    public LlmSettings withTimeout(Duration v) {
        return new LlmSettings(models, v, retries, retryDelay, maxRetryDelay, budgetUsd, temperature, topP,
                maxTokens, seed);
    }

    /** Copy with another retry count. */
    public LlmSettings withRetries(int v) {
        return new LlmSettings(models, timeout, v, retryDelay, maxRetryDelay, budgetUsd, temperature, topP,
                maxTokens, seed);
    }

    /** Copy with another first back-off delay and cap. */
    public LlmSettings withRetryDelays(Duration first, Duration max) {
        return new LlmSettings(models, timeout, retries, first, max, budgetUsd, temperature, topP, maxTokens, seed);
    }

    /** Copy with another first back-off delay (the cap must stay at least as large). */
    public LlmSettings withRetryDelay(Duration v) {
        return new LlmSettings(models, timeout, retries, v, maxRetryDelay, budgetUsd, temperature, topP,
                maxTokens, seed);
    }

    /** Copy with another back-off cap. */
    public LlmSettings withMaxRetryDelay(Duration v) {
        return new LlmSettings(models, timeout, retries, retryDelay, v, budgetUsd, temperature, topP,
                maxTokens, seed);
    }

    /** Copy with another budget in US dollars. */
    public LlmSettings withBudgetUsd(double v) {
        return new LlmSettings(models, timeout, retries, retryDelay, maxRetryDelay, v, temperature, topP,
                maxTokens, seed);
    }

    /** Copy with another temperature. */
    public LlmSettings withTemperature(double v) {
        return new LlmSettings(models, timeout, retries, retryDelay, maxRetryDelay, budgetUsd, v, topP,
                maxTokens, seed);
    }

    /** Copy with another top-p. */
    public LlmSettings withTopP(double v) {
        return new LlmSettings(models, timeout, retries, retryDelay, maxRetryDelay, budgetUsd, temperature, v,
                maxTokens, seed);
    }

    /** Copy with another completion token limit. */
    public LlmSettings withMaxTokens(int v) {
        return new LlmSettings(models, timeout, retries, retryDelay, maxRetryDelay, budgetUsd, temperature, topP,
                v, seed);
    }

    /** Copy with another seed. */
    public LlmSettings withSeed(long v) {
        return new LlmSettings(models, timeout, retries, retryDelay, maxRetryDelay, budgetUsd, temperature, topP,
                maxTokens, v);
    }

    /** Whether a budget is set. */
    public boolean hasBudget() {
        return budgetUsd != Double.POSITIVE_INFINITY;
    }
}
