package io.moelab.sim;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.algorithm.AlgorithmSpec;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How a deployment places experts over time: {@code none} keeps the initial placement, any other policy
 * re-plans with an EPLB algorithm every K steps.
 *
 * @param name      the name in reports: the spec as parsed (lower case, without surrounding spaces)
 * @param balancer  the algorithm that re-plans, or {@code null} for {@code none}
 */
public record Policy(String name, BalancerAlgorithm balancer) {
    /** The policy that never rebalances. */
    public static final String NONE = "none";

    /**
     * A policy by command-line name: {@code none} or an algorithm spec such as {@code deepseek} or
     * {@code moelab:global}.
     *
     * @throws InvalidInputException naming {@code policies} for an unknown name
     */
    public static Policy parse(String name) {
        // Read as algorithm specs are (case and surrounding spaces do not matter), and named as parsed: "DeepSeek"
        // was accepted beside "deepseek" as another policy, " deepseek" kept its space in the table, and "NONE"
        // was unknown.
        AlgorithmSpec spec = named(name, () -> AlgorithmSpec.parse(name));
        if (spec.text().equals(NONE)) {
            return new Policy(NONE, null);
        }
        if (!Algorithms.names().contains(spec.name())) {
            throw new InvalidInputException("policies", "unknown policy '" + name + "' (known: none, "
                    + String.join(", ", Algorithms.names()) + ")");
        }
        BalancerAlgorithm balancer = named(name, () -> Algorithms.bySpec(spec));
        return new Policy(balancer.name(), balancer);
    }

    /**
     * The spec's errors named as the option they came from: eplb names them "algorithm" or "mode" (its
     * {@code --algorithms} and {@code --mode}), which {@code sim} does not have.
     */
    private static <T> T named(String name, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (InvalidInputException e) {
            throw new InvalidInputException("policies", "'" + name + "': " + e.problem(), e);
        }
    }

    /**
     * Policies from a list of names, in order.
     *
     * @throws InvalidInputException for an empty list, a duplicate or an unknown name
     */
    public static List<Policy> parseAll(List<String> names) {
        if (names.isEmpty()) {
            throw new InvalidInputException("policies", "no policy given");
        }
        // Each parsed first, so that a bad spec is named as a policy; then compared as parsed, as eplb's algorithm
        // lists are: "deepseek,DeepSeek" is one policy twice.
        List<Policy> policies = names.stream().map(Policy::parse).toList();
        Algorithms.requireDistinct("policies", "a policy", names);
        return policies;
    }

    /** The algorithm that re-plans, if this policy rebalances. */
    public Optional<BalancerAlgorithm> algorithm() {
        return Optional.ofNullable(balancer);
    }
}
