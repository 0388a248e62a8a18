package io.moelab.sim;

import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import java.util.ArrayList;
import java.util.List;

/** A balancer that plans as another one does and records every request it is given and every plan it returns. */
final class RecordingBalancer implements BalancerAlgorithm {
    final List<BalancingRequest> requests = new ArrayList<>();
    final List<Placement> plans = new ArrayList<>();
    private final BalancerAlgorithm planner;

    RecordingBalancer(BalancerAlgorithm planner) {
        this.planner = planner;
    }

    @Override
    public String name() {
        return "recording";
    }

    @Override
    public String description() {
        return planner.name() + ", recording what it is asked";
    }

    @Override
    public Placement rebalance(BalancingRequest request) {
        requests.add(request);
        Placement plan = planner.rebalance(request);
        plans.add(plan);
        return plan;
    }
}
