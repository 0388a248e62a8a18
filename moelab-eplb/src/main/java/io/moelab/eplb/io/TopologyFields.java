package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Topology;
import java.util.function.UnaryOperator;

/**
 * The topology members shared by the EPLB file formats ({@code num_replicas}, {@code num_groups},
 * {@code num_nodes}, {@code num_gpus}), collected while a reader walks an object; each may be absent.
 */
final class TopologyFields {
    private static final String[] NAMES = {"num_replicas", "num_groups", "num_nodes", "num_gpus"};

    private final Integer[] values = new Integer[NAMES.length];

    /** Reads the member's value if {@code name} is a topology member; false (nothing read) otherwise. */
    boolean accept(String name, JsonReader reader) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                values[i] = JsonFiles.readInt(reader, name);
                return true;
            }
        }
        return false;
    }

    /**
     * The topology with {@code overrides} (R, G, N, M, each nullable) winning over the file's values.
     *
     * @param hint how to supply a number given nowhere, by field name
     */
    Topology overriddenBy(Integer[] overrides, UnaryOperator<String> hint) {
        return build(overrides, values, hint);
    }

    /** The file's topology, with {@code fallback} (nullable) filling numbers the file lacks. */
    Topology orElse(Topology fallback, UnaryOperator<String> hint) {
        Integer[] second = fallback == null ? new Integer[NAMES.length]
                : new Integer[] {fallback.replicas(), fallback.groups(), fallback.nodes(), fallback.gpus()};
        return build(values, second, hint);
    }

    private static Topology build(Integer[] first, Integer[] second, UnaryOperator<String> hint) {
        int[] picked = new int[NAMES.length];
        for (int i = 0; i < NAMES.length; i++) {
            Integer v = first[i] != null ? first[i] : second[i];
            if (v == null) {
                throw new InvalidInputException(NAMES[i], "missing (" + hint.apply(NAMES[i]) + ")");
            }
            picked[i] = v;
        }
        return new Topology(picked[0], picked[1], picked[2], picked[3]);
    }
}
