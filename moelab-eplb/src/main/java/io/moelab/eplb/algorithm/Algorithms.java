package io.moelab.eplb.algorithm;

import io.moelab.eplb.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The load balancers moelab ships, by command-line name. */
public final class Algorithms {
    private static final Map<String, Supplier<BalancerAlgorithm>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put(DeepSeekBalancer.NAME, DeepSeekBalancer::new);
        REGISTRY.put(StaticBalancer.NAME, StaticBalancer::new);
    }

    private Algorithms() {
    }

    /** The name used when none is given. */
    public static String defaultName() {
        return DeepSeekBalancer.NAME;
    }

    /** Every registered name, in a stable order. */
    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    /**
     * The algorithm registered as {@code name}.
     *
     * @throws InvalidInputException naming {@code algorithm} if there is none
     */
    public static BalancerAlgorithm byName(String name) {
        Supplier<BalancerAlgorithm> supplier = REGISTRY.get(name);
        if (supplier == null) {
            throw new InvalidInputException("algorithm", "unknown algorithm '" + name + "' (known: "
                    + String.join(", ", REGISTRY.keySet()) + ")");
        }
        return supplier.get();
    }

    /** The algorithms named in a list, in order; see {@link #byName(String)}. */
    public static List<BalancerAlgorithm> byNames(List<String> names) {
        if (names.isEmpty()) {
            throw new InvalidInputException("algorithms", "no algorithm given (known: "
                    + String.join(", ", REGISTRY.keySet()) + ")");
        }
        return names.stream().map(Algorithms::byName).toList();
    }
}
