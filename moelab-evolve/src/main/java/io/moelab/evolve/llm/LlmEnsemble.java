package io.moelab.evolve.llm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Several clients, one picked per call with probability proportional to its weight. The pick depends only on
 * (seed, iteration), so concurrent calls for different iterations choose the same models whatever their order.
 * Thread-safe when the clients are.
 */
public final class LlmEnsemble implements LlmClient {
    private final List<LlmClient> clients;
    private final double[] cumulative;
    private final long seed;

    /**
     * An ensemble.
     *
     * @param clients the clients, at least one
     * @param weights their positive, finite weights, one per client
     * @param seed    seeds the choice
     */
    public LlmEnsemble(List<LlmClient> clients, double[] weights, long seed) {
        Objects.requireNonNull(clients, "clients");
        Objects.requireNonNull(weights, "weights");
        if (clients.isEmpty()) {
            throw new InvalidInputException("llm.models", "an ensemble needs at least one client");
        }
        if (weights.length != clients.size()) {
            throw new InvalidInputException("llm.models", weights.length + " weights for " + clients.size()
                    + " clients");
        }
        this.clients = List.copyOf(clients);
        this.cumulative = new double[weights.length];
        double sum = 0;
        for (int i = 0; i < weights.length; i++) {
            if (!(weights[i] > 0) || !Double.isFinite(weights[i])) {
                throw new InvalidInputException("llm.models[" + i + "].weight", "must be positive and finite, got "
                        + Numbers.plain(weights[i]));
            }
            sum += weights[i];
            cumulative[i] = sum;
        }
        if (!Double.isFinite(sum)) {
            throw new InvalidInputException("llm.models", "weights sum to " + sum);
        }
        this.seed = seed;
    }

    /**
     * One {@link OpenAiCompatibleClient} per model of the settings, weighted by the models' weights and seeded by
     * {@link LlmSettings#seed()}.
     *
     * @throws InvalidInputException if a model's API key variable is unset
     */
    public static LlmEnsemble create(
            LlmSettings settings, CostLedger ledger, Sleeper sleeper, Function<String, String> env) {
        List<LlmClient> clients = new ArrayList<>();
        double[] weights = new double[settings.models().size()];
        for (int i = 0; i < weights.length; i++) {
            LlmModel m = settings.models().get(i);
            clients.add(new OpenAiCompatibleClient(m, settings, ledger, sleeper, env));
            weights[i] = m.weight();
        }
        return new LlmEnsemble(clients, weights, settings.seed());
    }

    /** Index of the client that answers {@code iteration}. */
    public int choose(int iteration) {
        double total = cumulative[cumulative.length - 1];
        double u = Seeds.unit(Seeds.mix(seed, Seeds.ENSEMBLE, iteration, 0)) * total;
        for (int i = 0; i < cumulative.length - 1; i++) {
            if (u < cumulative[i]) {
                return i;
            }
        }
        return cumulative.length - 1;
    }

    /** The clients, in order. */
    public List<LlmClient> clients() {
        return clients;
    }

    @Override
    public Completion complete(List<ChatMessage> messages, int iteration) throws LlmException {
        return clients.get(choose(iteration)).complete(messages, iteration);
    }

    @Override
    public String toString() {
        return "LlmEnsemble" + clients;
    }
}
