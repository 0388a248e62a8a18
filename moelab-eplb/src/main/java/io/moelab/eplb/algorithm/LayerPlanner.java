package io.moelab.eplb.algorithm;

import io.moelab.eplb.Topology;

/**
 * Plans layers for {@link MoelabBalancer}: apportions replicas and packs them on GPUs, globally or group by
 * group on nodes. Packings are done two at a time where there are two (two layers in global mode, two nodes of
 * a layer in hierarchical mode) so that their LPTs interleave ({@link ReplicaPacker#lptTogether}); the slots are
 * those of one packing at a time. Holds scratch arrays reused across layers; not thread-safe.
 */
final class LayerPlanner {
    private final Topology topology;
    private final int experts;
    private final boolean hierarchical;
    private final int swapRounds;
    private final Apportionment apportionment;
    /** Packs groups onto nodes. */
    private final ReplicaPacker groupPacker = new ReplicaPacker();
    private final Lane first;
    private final Lane second;
    private final double[] groupLoad;
    private final int[] groupCounts;
    private final int[] nodeGroups;
    private final int[] secondNodeGroups;
    private final double[][] rows;

    /** Scratch of one packing of experts onto GPUs. */
    private static final class Lane {
        final ReplicaPacker packer = new ReplicaPacker();
        final int[] counts;
        final double[] perReplica;
        /** The packer's slots, before mapping through {@link #ids}. */
        final int[] bins;
        /** A node's experts (ids and loads), in group order. */
        final int[] ids;
        final double[] load;

        Lane(Topology topology, int experts) {
            counts = new int[experts];
            perReplica = new double[experts];
            bins = new int[Math.max(topology.replicas(), topology.groups())];
            ids = new int[experts];
            load = new double[experts];
        }
    }

    LayerPlanner(Topology topology, int experts, boolean hierarchical, int swapRounds) {
        this.topology = topology;
        this.experts = experts;
        this.hierarchical = hierarchical;
        this.swapRounds = swapRounds;
        apportionment = new Apportionment(experts);
        first = new Lane(topology, experts);
        second = new Lane(topology, experts);
        groupLoad = new double[topology.groups()];
        groupCounts = new int[topology.groups()];
        nodeGroups = new int[topology.groups()];
        secondNodeGroups = new int[topology.groups()];
        rows = new double[2][experts];
    }

    /** Whether this planner plans {@code experts} experts on {@code topology} in the given mode. */
    boolean fits(Topology topology, int experts, boolean hierarchical) {
        return this.topology.equals(topology) && this.experts == experts && this.hierarchical == hierarchical;
    }

    /** Two rows of {@code experts} loads, for callers that copy layers in turn. */
    double[][] rows() {
        return rows;
    }

    /** Slots per layer. */
    int replicas() {
        return topology.replicas();
    }

    /** The layer's slots for {@code load}: globally, or with groups packed onto nodes first. */
    int[] plan(double[] load) {
        int[] slots = new int[topology.replicas()];
        if (!hierarchical) {
            begin(first, load, experts, topology.replicas(), topology.gpus());
            ReplicaPacker.lptTogether(first.packer, null);
            end(first, slots, 0, -1);
            return slots;
        }
        planOnNodes(load, splitGroups(load, nodeGroups), slots);
        return slots;
    }

    /**
     * Plans two layers, {@code a} into {@code slotsA} and {@code b} into {@code slotsB}: the slots of
     * {@code plan(a)} and {@code plan(b)}.
     */
    void planTwo(double[] a, int[] slotsA, double[] b, int[] slotsB) {
        if (hierarchical) {
            // A layer's nodes already pair up.
            planOnNodes(a, splitGroups(a, nodeGroups), slotsA);
            planOnNodes(b, splitGroups(b, secondNodeGroups), slotsB);
            return;
        }
        int replicas = topology.replicas();
        begin(first, a, experts, replicas, topology.gpus());
        begin(second, b, experts, replicas, topology.gpus());
        ReplicaPacker.lptTogether(first.packer, second.packer);
        end(first, slotsA, 0, -1);
        end(second, slotsB, 0, -1);
    }

    /** Packs the layer's expert groups onto nodes; returns {@code split}, node after node. */
    private int[] splitGroups(double[] load, int[] split) {
        int groups = topology.groups();
        int groupSize = experts / groups;
        double largest = 0;
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
                sum += load[e];
            }
            groupLoad[g] = sum;
            groupCounts[g] = 1;
            largest = Math.max(largest, sum);
        }
        if (largest > 0 && largest < Apportionment.TINY) {
            // The packer's float keys would flush such loads to zero.
            Apportionment.scaleUp(groupLoad, groupLoad, groups, largest);
        }
        groupPacker.pack(groupLoad, groupCounts, groups, topology.nodes(), groups / topology.nodes(), swapRounds,
                split);
        return split;
    }

    /**
     * The layer's slots with a given split of groups over nodes: node {@code n} holds groups
     * {@code split[n * G/N .. (n+1) * G/N)}; each node's experts are apportioned and packed on its GPUs, two
     * nodes at a time.
     */
    int[] planOnNodes(double[] load, int[] split, int[] slots) {
        int nodes = topology.nodes();
        int perNode = experts / nodes;
        int slotsPerNode = topology.slotsPerNode();
        int gpus = topology.gpusPerNode();
        for (int n = 0; n < nodes; n += 2) {
            gatherNode(load, split, n, first);
            begin(first, first.load, perNode, slotsPerNode, gpus);
            boolean pair = n + 1 < nodes;
            if (pair) {
                gatherNode(load, split, n + 1, second);
                begin(second, second.load, perNode, slotsPerNode, gpus);
            }
            ReplicaPacker.lptTogether(first.packer, pair ? second.packer : null);
            end(first, slots, n * slotsPerNode, slotsPerNode);
            if (pair) {
                end(second, slots, (n + 1) * slotsPerNode, slotsPerNode);
            }
        }
        return slots;
    }

    /** Copies node {@code n}'s experts and their loads into the lane, group by group. */
    private void gatherNode(double[] load, int[] split, int n, Lane lane) {
        int groupSize = experts / topology.groups();
        int groupsPerNode = topology.groups() / topology.nodes();
        int k = 0;
        for (int j = 0; j < groupsPerNode; j++) {
            int g = split[n * groupsPerNode + j];
            for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
                lane.ids[k] = e;
                lane.load[k++] = load[e];
            }
        }
    }

    /** Apportions {@code slotCount} replicas among {@code n} experts and begins packing them on {@code gpus} GPUs. */
    private void begin(Lane lane, double[] load, int n, int slotCount, int gpus) {
        int[] counts = lane.counts;
        double[] perReplica = lane.perReplica;
        double[] planned = apportionment.countsOnly(load, n, slotCount, gpus, counts);
        for (int e = 0; e < n; e++) {
            perReplica[e] = planned[e] / counts[e];
        }
        lane.packer.begin(perReplica, counts, n, gpus, slotCount / gpus);
    }

    /**
     * Finishes the lane's packing into {@code slots[offset..]}: as packed, or, for a node's {@code mapped} slots
     * (-1: none), through the lane's node experts.
     */
    private void end(Lane lane, int[] slots, int offset, int mapped) {
        if (mapped < 0) {
            lane.packer.finish(swapRounds, slots, offset);
            return;
        }
        int[] bins = lane.bins;
        int[] ids = lane.ids;
        lane.packer.finish(swapRounds, bins, 0);
        for (int s = 0; s < mapped; s++) {
            slots[offset + s] = ids[bins[s]];
        }
    }
}
