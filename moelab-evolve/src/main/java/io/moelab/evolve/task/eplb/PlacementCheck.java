package io.moelab.evolve.task.eplb;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancingRequest;
import java.util.Arrays;

/** Strict checks of a candidate's placement against the request it answered. */
final class PlacementCheck {
    private PlacementCheck() {
    }

    /**
     * Checks shape, topology, expert range, slot counts and that every loaded expert has a replica.
     *
     * @param where names the case in the message, e.g. {@code case 3 (...)}
     * @throws CandidateFailure of kind {@code INVALID_OUTPUT} naming the first broken check
     */
    static void validate(Placement placement, BalancingRequest request, String where) throws CandidateFailure {
        if (placement == null) {
            throw invalid(where, "rebalance returned null");
        }
        LoadMatrix weight = request.weight();
        Topology topology = request.topology();
        if (!placement.topology().equals(topology)) {
            throw invalid(where, "placement is for topology " + placement.topology() + ", expected " + topology);
        }
        if (placement.layers() != weight.layers()) {
            throw invalid(where, "placement has " + Nouns.count(placement.layers(), "layer") + ", expected "
                    + weight.layers());
        }
        if (placement.experts() != weight.experts()) {
            throw invalid(where, "placement has " + Nouns.count(placement.experts(), "expert") + ", expected "
                    + weight.experts());
        }
        int replicas = topology.replicas();
        int experts = weight.experts();
        int[] counts = new int[experts];
        for (int l = 0; l < weight.layers(); l++) {
            Arrays.fill(counts, 0);
            int sum = 0;
            for (int p = 0; p < replicas; p++) {
                int e = placement.expertAt(l, p);
                if (e < 0 || e >= experts) {
                    throw invalid(where, "layer " + l + ": slot " + p + " holds expert " + e + ", outside 0.."
                            + (experts - 1));
                }
                counts[e]++;
                sum++;
            }
            int declared = 0;
            for (int e = 0; e < experts; e++) {
                declared += placement.replicaCount(l, e);
                if (placement.replicaCount(l, e) != counts[e]) {
                    throw invalid(where, "layer " + l + ": expert " + e + " is counted " + placement.replicaCount(l, e)
                            + " times but fills " + counts[e] + " slots");
                }
                if (weight.load(l, e) > 0 && counts[e] == 0) {
                    throw invalid(where, "layer " + l + ": expert " + e + " has load " + weight.load(l, e)
                            + " but no replica");
                }
            }
            if (sum != replicas || declared != replicas) {
                throw invalid(where, "layer " + l + ": replica counts sum to " + declared + ", expected " + replicas);
            }
        }
    }

    private static CandidateFailure invalid(String where, String problem) {
        return new CandidateFailure(CandidateFailure.Kind.INVALID_OUTPUT, where + ": " + problem);
    }
}
