package io.moelab.eplb.algorithm;

import io.moelab.eplb.InvalidInputException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The load balancers moelab ships, made from command-line specs {@code NAME[:MODE][:KEY=VALUE]...} (see
 * {@link AlgorithmSpec}).
 */
public final class Algorithms {
    private static final Map<String, Function<AlgorithmSpec, BalancerAlgorithm>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put(MoelabBalancer.NAME, MoelabBalancer::fromSpec);
        REGISTRY.put(DeepSeekBalancer.NAME, spec -> {
            spec.requireOptions(Set.of());
            return new DeepSeekBalancer(spec.mode(), DeepSeekBalancer.Packing.BALANCED, spec.text());
        });
        REGISTRY.put(DeepSeekBalancer.SNAKE, spec -> {
            spec.requireOptions(Set.of());
            return new DeepSeekBalancer(spec.mode(), DeepSeekBalancer.Packing.SERPENTINE, spec.text());
        });
        REGISTRY.put(StaticBalancer.NAME, spec -> {
            spec.requireOptions(Set.of());
            return new StaticBalancer(spec.mode(), spec.text());
        });
    }

    private Algorithms() {
    }

    /** The algorithm used when none is given. */
    public static String defaultName() {
        return MoelabBalancer.NAME;
    }

    /** Every registered algorithm name, in a stable order. */
    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    /**
     * The balancer a spec describes, e.g. {@code deepseek}, {@code snake:global}, {@code moelab:global:hedge=0}.
     *
     * @throws InvalidInputException naming {@code algorithm} for an unknown name, mode or option
     */
    public static BalancerAlgorithm byName(String spec) {
        return bySpec(AlgorithmSpec.parse(spec));
    }

    /** The balancer a parsed spec describes; see {@link #byName(String)}. */
    public static BalancerAlgorithm bySpec(AlgorithmSpec spec) {
        Function<AlgorithmSpec, BalancerAlgorithm> factory = REGISTRY.get(spec.name());
        if (factory == null) {
            throw new InvalidInputException("algorithm", "unknown algorithm '" + spec.name() + "' (known: "
                    + String.join(", ", REGISTRY.keySet()) + ")");
        }
        return factory.apply(spec);
    }

    /**
     * The balancers named in a list, in order; see {@link #byName(String)}.
     *
     * @param specs algorithm specs, at least one, none repeated
     * @throws InvalidInputException naming {@code algorithms} for an empty list or a repeated spec, or
     *                               {@code algorithm} as {@link #byName(String)} does
     */
    public static List<BalancerAlgorithm> byNames(List<String> specs) {
        if (specs.isEmpty()) {
            throw new InvalidInputException("algorithms", "no algorithm given (known: "
                    + String.join(", ", REGISTRY.keySet()) + ")");
        }
        requireDistinct(specs);
        return specs.stream().map(Algorithms::byName).toList();
    }

    /**
     * Checks that no spec is listed twice: the results of two runs of one algorithm would share a name, and tables,
     * plots and JSON keyed by it could not tell them apart. Specs are compared as parsed: case, spaces and the order
     * of options do not make two ({@code moelab:hedge=0:history=0} repeats {@code MOELAB:history=0:hedge=0}); a mode
     * written out differs from none, since a command's {@code --mode} fills in only the latter.
     *
     * @throws InvalidInputException naming the list, if a spec repeats
     */
    public static void requireDistinct(List<String> specs) {
        requireDistinct("algorithms", "an algorithm", specs);
    }

    /**
     * {@link #requireDistinct(List)} for a list under another name ({@code sim --policies}).
     *
     * @param field the list's parameter
     * @param what  one item, for the message ("a policy")
     * @throws InvalidInputException naming {@code field}, if a spec repeats
     */
    public static void requireDistinct(String field, String what, List<String> specs) {
        List<String> keys = specs.stream().map(text -> {
            AlgorithmSpec spec = AlgorithmSpec.parse(text);
            return spec.name() + ":" + (spec.modeWritten() ? spec.mode().cliName() : "") + ":"
                    + new TreeMap<>(spec.options());
        }).toList();
        if (new HashSet<>(keys).size() != keys.size()) {
            throw new InvalidInputException(field, "lists " + what + " twice: " + String.join(",", specs));
        }
    }
}
