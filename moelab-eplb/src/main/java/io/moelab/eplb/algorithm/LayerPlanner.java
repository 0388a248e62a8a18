package io.moelab.eplb.algorithm;

import io.moelab.eplb.Topology;

/**
 * Plans one layer for {@link MoelabBalancer}: apportions replicas and packs them on GPUs, globally or group by
 * group on nodes. Holds scratch arrays reused across layers; not thread-safe.
 */
final class LayerPlanner {
    private final Topology topology;
    private final int experts;
    private final boolean hierarchical;
    private final int swapRounds;
    private final Apportionment apportionment;
    private final ReplicaPacker packer = new ReplicaPacker();
    private final int[] counts;
    private final double[] perReplica;
    private final int[] bins;
    private final double[] groupLoad;
    private final int[] groupCounts;
    private final int[] nodeGroups;
    private final int[] nodeExperts;
    private final double[] nodeLoad;

    LayerPlanner(Topology topology, int experts, boolean hierarchical, int swapRounds) {
        this.topology = topology;
        this.experts = experts;
        this.hierarchical = hierarchical;
        this.swapRounds = swapRounds;
        apportionment = new Apportionment(experts);
        counts = new int[experts];
        perReplica = new double[experts];
        bins = new int[Math.max(topology.replicas(), topology.groups())];
        groupLoad = new double[topology.groups()];
        groupCounts = new int[topology.groups()];
        nodeGroups = new int[topology.groups()];
        nodeExperts = new int[experts];
        nodeLoad = new double[experts];
    }

    /** The layer's slots for {@code load}: globally, or with groups packed onto nodes first. */
    int[] plan(double[] load) {
        int[] slots = new int[topology.replicas()];
        if (!hierarchical) {
            placeOnGpus(load, experts, topology.replicas(), topology.gpus(), slots, 0, null);
            return slots;
        }
        int groups = topology.groups();
        int groupSize = experts / groups;
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
                sum += load[e];
            }
            groupLoad[g] = sum;
            groupCounts[g] = 1;
        }
        packer.pack(groupLoad, groupCounts, groups, topology.nodes(), groups / topology.nodes(), swapRounds,
                nodeGroups);
        planOnNodes(load, nodeGroups, slots);
        return slots;
    }

    /**
     * The layer's slots with a given split of groups over nodes: node {@code n} holds groups
     * {@code nodeGroups[n * G/N .. (n+1) * G/N)}; each node's experts are apportioned and packed on its GPUs.
     */
    int[] planOnNodes(double[] load, int[] split, int[] slots) {
        int groupSize = experts / topology.groups();
        int groupsPerNode = topology.groups() / topology.nodes();
        int expertsPerNode = experts / topology.nodes();
        int slotsPerNode = topology.slotsPerNode();
        for (int n = 0; n < topology.nodes(); n++) {
            int k = 0;
            for (int j = 0; j < groupsPerNode; j++) {
                int g = split[n * groupsPerNode + j];
                for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
                    nodeExperts[k] = e;
                    nodeLoad[k++] = load[e];
                }
            }
            placeOnGpus(nodeLoad, expertsPerNode, slotsPerNode, topology.gpusPerNode(), slots, n * slotsPerNode,
                    nodeExperts);
        }
        return slots;
    }

    /**
     * Apportions {@code slotCount} replicas among {@code n} experts and packs them on {@code gpus} GPUs,
     * writing experts (mapped through {@code ids} when given) to {@code slots[offset..]}.
     */
    private void placeOnGpus(double[] load, int n, int slotCount, int gpus, int[] slots, int offset, int[] ids) {
        apportionment.countsOnly(load, n, slotCount, gpus, counts);
        for (int e = 0; e < n; e++) {
            perReplica[e] = load[e] / counts[e];
        }
        if (ids == null) {
            packer.pack(perReplica, counts, n, gpus, slotCount / gpus, swapRounds, slots, offset);
            return;
        }
        packer.pack(perReplica, counts, n, gpus, slotCount / gpus, swapRounds, bins);
        for (int s = 0; s < slotCount; s++) {
            slots[offset + s] = ids[bins[s]];
        }
    }
}
