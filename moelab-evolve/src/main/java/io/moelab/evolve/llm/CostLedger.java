package io.moelab.evolve.llm;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Token and dollar totals per model; thread-safe. */
public final class CostLedger {

    /**
     * What one model has used.
     *
     * @param calls            successful calls
     * @param promptTokens     prompt tokens
     * @param completionTokens completion tokens
     * @param usd              cost in US dollars
     */
    public record ModelUsage(long calls, long promptTokens, long completionTokens, double usd) {

        /** The empty usage. */
        public static final ModelUsage ZERO = new ModelUsage(0, 0, 0, 0);

        ModelUsage plus(long prompt, long completion, double cost) {
            return new ModelUsage(calls + 1, promptTokens + prompt, completionTokens + completion, usd + cost);
        }

        /** Prompt plus completion tokens. */
        public long totalTokens() {
            return promptTokens + completionTokens;
        }
    }

    private final Map<String, ModelUsage> usage = new TreeMap<>();

    /** An empty ledger. */
    public CostLedger() {}

    /** Adds one successful call. */
    public synchronized void record(String model, long promptTokens, long completionTokens, double usd) {
        Objects.requireNonNull(model, "model");
        usage.merge(model, ModelUsage.ZERO.plus(promptTokens, completionTokens, usd),
                (a, b) -> a.plus(promptTokens, completionTokens, usd));
    }

    /** Dollars spent so far, all models together. */
    public synchronized double totalUsd() {
        double sum = 0;
        for (ModelUsage u : usage.values()) {
            sum += u.usd();
        }
        return sum;
    }

    /** Prompt plus completion tokens so far, all models together. */
    public synchronized long totalTokens() {
        long sum = 0;
        for (ModelUsage u : usage.values()) {
            sum += u.totalTokens();
        }
        return sum;
    }

    /** Successful calls so far, all models together. */
    public synchronized long totalCalls() {
        long sum = 0;
        for (ModelUsage u : usage.values()) {
            sum += u.calls();
        }
        return sum;
    }

    /** Usage per model, sorted by name; an immutable copy. */
    public synchronized Map<String, ModelUsage> byModel() {
        return Collections.unmodifiableMap(new TreeMap<>(usage));
    }

    /** The state for a checkpoint: same as {@link #byModel()}. */
    public Map<String, ModelUsage> snapshot() {
        return byModel();
    }

    /** Replaces the whole state with a checkpoint taken by {@link #snapshot()}. */
    public synchronized void restore(Map<String, ModelUsage> snapshot) {
        Objects.requireNonNull(snapshot, "snapshot");
        usage.clear();
        snapshot.forEach((k, v) -> usage.put(Objects.requireNonNull(k), Objects.requireNonNull(v)));
    }

    @Override
    public synchronized String toString() {
        return "CostLedger" + usage;
    }
}
