package io.moelab.eplb.algorithm;

import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;

/**
 * The load-oblivious baseline: slot {@code p} holds expert {@code p mod E}, so experts sit contiguously on
 * GPUs as in a deployment without EPLB and redundant slots go round-robin to experts 0, 1, ... It ignores
 * the load and is what "no rebalancing" costs.
 */
public final class StaticBalancer implements BalancerAlgorithm {
    /** Command-line name. */
    public static final String NAME = "static";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "load-oblivious baseline: slot p holds expert p mod E (no rebalancing)";
    }

    @Override
    public Placement rebalance(BalancingRequest request) {
        Topology topology = request.topology();
        int experts = request.weight().experts();
        int[][] phy2log = new int[request.weight().layers()][topology.replicas()];
        for (int[] row : phy2log) {
            for (int p = 0, e = 0; p < row.length; p++, e = e + 1 == experts ? 0 : e + 1) {
                row[p] = e; // p mod E, without a division per slot
            }
        }
        return Placement.of(topology, experts, phy2log);
    }
}
