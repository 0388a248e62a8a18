package io.moelab.eplb;

import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;
import org.quicktheories.impl.Constraint;

/**
 * Random load-balancing problems for property tests: topologies of every legal shape (hierarchical and
 * global), loads with zeros and many ties (small integers) or continuous values.
 */
public final class BalancingCases {
    private BalancingCases() {
    }

    /** A problem: loads and a topology they fit. */
    public record Case(LoadMatrix weight, Topology topology) {
        @Override
        public String toString() {
            return topology + " E=" + weight.experts() + " L=" + weight.layers() + " "
                    + java.util.Arrays.deepToString(weight.toArray());
        }
    }

    /** Problems with up to 4 layers, 16 GPUs and 6 slots per GPU. */
    public static Gen<Case> cases() {
        return BalancingCases::draw;
    }

    private static Case draw(RandomnessSource r) {
        int nodes = between(r, 1, 4);
        int gpus = nodes * between(r, 1, 4);
        int replicas = gpus * between(r, 1, 6);
        boolean hierarchical = between(r, 0, 1) == 1;
        int groups;
        int experts;
        if (hierarchical) {
            groups = nodes * between(r, 1, 3);
            int perGroupMax = replicas / groups;
            if (perGroupMax == 0) { // too few slots for a group per node: fall back to one group per node
                groups = nodes;
                perGroupMax = replicas / groups;
            }
            experts = groups * between(r, 1, perGroupMax);
        } else {
            // Global policy: G not a multiple of N. With one node every G is, so use one group there.
            groups = nodes == 1 ? 1 : between(r, 1, 8) * nodes + between(r, 1, nodes - 1);
            experts = between(r, 1, replicas);
        }
        int layers = between(r, 1, 4);
        boolean ties = between(r, 0, 1) == 1;
        double[][] w = new double[layers][experts];
        for (double[] row : w) {
            for (int e = 0; e < experts; e++) {
                row[e] = ties ? between(r, 0, 4) : between(r, 0, 1_000_000) / 1000.0;
            }
        }
        return new Case(LoadMatrix.of(w, "weight"), new Topology(replicas, groups, nodes, gpus));
    }

    private static int between(RandomnessSource r, int lo, int hi) {
        return (int) r.next(Constraint.between(lo, hi));
    }
}
