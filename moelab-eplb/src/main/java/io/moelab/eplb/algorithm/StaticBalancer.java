package io.moelab.eplb.algorithm;

import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.Objects;

/**
 * The load-oblivious baseline: slot {@code p} holds expert {@code p mod E}, so experts sit contiguously on
 * GPUs as in a deployment without EPLB and redundant slots go round-robin to experts 0, 1, ... It ignores
 * the load and is what "no rebalancing" costs.
 *
 * <p>Asked for {@link PlacementMode#HIERARCHICAL} explicitly, it keeps expert groups on nodes as a hierarchical
 * deployment without EPLB would: node {@code n} holds the contiguous groups {@code n G/N} to {@code (n+1) G/N - 1},
 * that is experts {@code n E/N} to {@code (n+1) E/N - 1}, round-robin over its own {@code R/N} slots. In
 * {@link PlacementMode#AUTO} it stays the contiguous layout on every topology: without EPLB nothing places groups.
 */
public final class StaticBalancer implements BalancerAlgorithm {
    /** Command-line name. */
    public static final String NAME = "static";

    private final PlacementMode mode;
    private final String name;

    /** The contiguous layout, named {@value #NAME}. */
    public StaticBalancer() {
        this(PlacementMode.AUTO, NAME);
    }

    /**
     * The layout of {@code mode} (node-local for {@link PlacementMode#HIERARCHICAL}, contiguous otherwise), reported
     * as {@code name}.
     *
     * @throws NullPointerException if an argument is null (a null mode planned as {@link PlacementMode#AUTO})
     */
    public StaticBalancer(PlacementMode mode, String name) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.name = Objects.requireNonNull(name, "name");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "load-oblivious baseline: slot p holds expert p mod E (no rebalancing)"
                + (mode == PlacementMode.HIERARCHICAL ? ", within each node's groups" : "");
    }

    @Override
    public Placement rebalance(BalancingRequest request) {
        Topology topology = request.topology();
        int experts = request.weight().experts();
        // Only an explicit hierarchical mode keeps groups on nodes (and is refused where they cannot be).
        boolean nodeLocal = mode == PlacementMode.HIERARCHICAL && mode.hierarchical(topology, experts);
        int parts = nodeLocal ? topology.nodes() : 1;
        int slots = topology.replicas() / parts;
        int own = experts / parts;
        int[][] phy2log = new int[request.weight().layers()][topology.replicas()];
        for (int[] row : phy2log) {
            for (int part = 0; part < parts; part++) {
                int first = part * own;
                for (int j = 0, e = 0; j < slots; j++, e = e + 1 == own ? 0 : e + 1) {
                    row[part * slots + j] = first + e; // j mod own, without a division per slot
                }
            }
        }
        return Placement.of(topology, experts, phy2log);
    }
}
