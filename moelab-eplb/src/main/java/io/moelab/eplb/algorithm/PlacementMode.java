package io.moelab.eplb.algorithm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Topology;
import java.util.Locale;

/**
 * Whether a balancer respects the node structure of expert groups.
 *
 * <p>{@link #HIERARCHICAL}: each expert group lives on one node (DeepSeek's hierarchical policy; keeps
 * group-limited routing inside few nodes). {@link #GLOBAL}: any replica on any GPU, for the best balance.
 * {@link #AUTO}: hierarchical when the groups divide evenly over the nodes, global otherwise, as DeepSeek's
 * EPLB chooses.
 */
public enum PlacementMode {
    /** Hierarchical when {@code groups % nodes == 0}, else global. */
    AUTO,
    /** Any replica on any GPU. */
    GLOBAL,
    /** Expert groups packed onto nodes first; replicas stay on their group's node. */
    HIERARCHICAL;

    /** The command-line spelling. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a command-line spelling.
     *
     * @throws InvalidInputException naming {@code mode}
     */
    public static PlacementMode parse(String name) {
        for (PlacementMode m : values()) {
            if (m.cliName().equals(name.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new InvalidInputException("mode", "unknown mode '" + name + "' (known: auto, global, hierarchical)");
    }

    /**
     * Whether to plan hierarchically for this topology and number of experts.
     *
     * @throws InvalidInputException if {@link #HIERARCHICAL} is asked for where groups cannot be kept on nodes
     */
    public boolean hierarchical(Topology topology, int experts) {
        boolean hierarchical = switch (this) {
            case AUTO -> topology.groupsDivideNodes();
            case GLOBAL -> false;
            case HIERARCHICAL -> {
                if (!topology.groupsDivideNodes()) {
                    throw new InvalidInputException("num_groups", "hierarchical mode needs the G=" + topology.groups()
                            + " expert groups to divide evenly over the N=" + Nouns.count(topology.nodes(), "node"));
                }
                yield true;
            }
        };
        if (hierarchical) {
            topology.requireEqualGroups(experts);
        }
        return hierarchical;
    }
}
