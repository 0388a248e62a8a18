package io.moelab.eplb.algorithm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a load balancer plans from: the load of the latest window, optionally earlier windows (oldest first)
 * and the placement currently deployed, for a target topology.
 *
 * @param weight   per-layer, per-expert load of the latest window
 * @param history  earlier windows, oldest first (may be empty); same shape as {@code weight}
 * @param topology the cluster to place onto
 * @param previous the placement in service now, or {@code null}; migration-aware algorithms keep what they can
 */
public record BalancingRequest(LoadMatrix weight, List<LoadMatrix> history, Topology topology,
                               Placement previous) {

    /**
     * Validates that history and previous placement match the shape of {@code weight}, and that every load is one a
     * balancer can plan on ({@link LoadMatrix#requirePlannable}).
     *
     * @throws NullPointerException  if {@code weight}, {@code history}, a window in it or {@code topology} is null
     * @throws InvalidInputException naming {@code weight[l][e]} or {@code history[i]...} for a load above
     *                               {@link LoadMatrix#MAX_PLANNED_LOAD} or a window of another shape,
     *                               {@code num_replicas} for fewer slots than experts, or {@code previous} for a
     *                               placement of other slots, nodes or GPUs or another shape (its expert groups may
     *                               differ)
     */
    public BalancingRequest {
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(history, "history");
        Objects.requireNonNull(topology, "topology");
        history = List.copyOf(history);
        weight.requirePlannable("weight");
        for (int i = 0; i < history.size(); i++) {
            history.get(i).requireShape(weight.layers(), weight.experts(), "history[" + i + "]");
            history.get(i).requirePlannable("history[" + i + "]");
        }
        topology.requireFits(weight.experts());
        if (previous != null) {
            if (!previous.topology().sameHardware(topology)) {
                throw new InvalidInputException("previous", "placement is for " + previous.topology()
                        + ", expected " + topology);
            }
            if (previous.layers() != weight.layers() || previous.experts() != weight.experts()) {
                throw new InvalidInputException("previous", "placement covers "
                        + Nouns.count(previous.layers(), "layer") + " x " + Nouns.count(previous.experts(), "expert")
                        + ", expected " + weight.shape());
            }
        }
    }

    /**
     * A request with no history and no previous placement.
     *
     * @throws NullPointerException  if an argument is null
     * @throws InvalidInputException as the canonical constructor
     */
    public static BalancingRequest of(LoadMatrix weight, Topology topology) {
        return new BalancingRequest(weight, List.of(), topology, null);
    }

    /** The placement in service now, if any. */
    public Optional<Placement> previousPlacement() {
        return Optional.ofNullable(previous);
    }
}
