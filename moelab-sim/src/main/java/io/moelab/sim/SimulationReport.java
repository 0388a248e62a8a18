package io.moelab.sim;

import io.moelab.eplb.Topology;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.List;

/**
 * The outcome of one simulation: what was simulated and each policy's result, in the order given.
 *
 * @param model    the model
 * @param cluster  the cluster
 * @param topology slots per layer, groups, nodes and GPUs
 * @param options  the settings
 * @param steps    trace steps simulated
 * @param policies one result per policy
 */
public record SimulationReport(ModelSpec model, ClusterSpec cluster, Topology topology, Simulation.Options options,
                               int steps, List<PolicyResult> policies) {

    /** Redundant slots per layer: slots beyond one per expert. */
    public int redundant() {
        return topology.replicas() - model.experts();
    }

    /** Bytes of expert weights each GPU holds (its slots in every MoE layer). */
    public double expertBytesPerGpu() {
        return (double) topology.slotsPerGpu() * model.moeLayers() * model.expertBytes();
    }

    /** Whether the expert weights alone fit in one GPU's HBM. */
    public boolean expertsFitInHbm() {
        return expertBytesPerGpu() <= cluster.hbmGB() * 1e9;
    }
}
