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
    /** Each group's sum and largest load, unscaled, for its node's apportionment. */
    private final double[] groupSum;
    private final double[] groupMax;
    private final int[] groupCounts;
    private final int[] nodeGroups;
    private final int[] secondNodeGroups;
    private final double[][] rows;

    /** Scratch of one packing of experts onto GPUs. */
    private static final class Lane {
        final ReplicaPacker packer = new ReplicaPacker();
        final int[] counts;
        final double[] perReplica;
        /** A node's experts (ids and loads), in group order. */
        final int[] ids;
        final double[] load;
        /** A node's total and largest load ({@link #gatherNode}; hierarchical mode only). */
        double total;
        double max;

        Lane(Topology topology, int experts) {
            counts = new int[experts];
            perReplica = new double[experts];
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
        groupSum = new double[topology.groups()];
        groupMax = new double[topology.groups()];
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
            end(first, slots, 0, false);
            return slots;
        }
        planNodes(load, splitGroups(load, nodeGroups), slots);
        return slots;
    }

    /**
     * Plans two layers, {@code a} into {@code slotsA} and {@code b} into {@code slotsB}: the slots of
     * {@code plan(a)} and {@code plan(b)}.
     */
    void planTwo(double[] a, int[] slotsA, double[] b, int[] slotsB) {
        if (hierarchical) {
            // A layer's nodes already pair up.
            planNodes(a, splitGroups(a, nodeGroups), slotsA);
            planNodes(b, splitGroups(b, secondNodeGroups), slotsB);
            return;
        }
        int replicas = topology.replicas();
        begin(first, a, experts, replicas, topology.gpus());
        begin(second, b, experts, replicas, topology.gpus());
        ReplicaPacker.lptTogether(first.packer, second.packer);
        end(first, slotsA, 0, false);
        end(second, slotsB, 0, false);
    }

    /** Packs the layer's expert groups onto nodes; returns {@code split}, node after node. */
    private int[] splitGroups(double[] load, int[] split) {
        int groups = topology.groups();
        double largest = sumGroups(load);
        double[] groupLoad = groupSum;
        if (largest > 0 && largest < Apportionment.TINY) {
            // The packer's float keys would flush such loads to zero.
            groupLoad = this.groupLoad;
            Apportionment.scaleUp(groupSum, groupLoad, groups, largest);
        }
        groupPacker.pack(groupLoad, groupCounts, groups, topology.nodes(), groups / topology.nodes(), swapRounds,
                split);
        return split;
    }

    /**
     * Each group's sum and largest load into {@link #groupSum} and {@link #groupMax}; returns the largest sum. The
     * maximum rides along the sum's pass, sparing each node's apportionment a pass of its own over the loads (with
     * the block copy in {@link #gatherNode}: hierarchical 26 x 64 5% faster side by side, DeepSeek-V3 unchanged).
     */
    private double sumGroups(double[] load) {
        int groups = topology.groups();
        int groupSize = experts / groups;
        double largest = 0;
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            double max = 0;
            for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
                double w = load[e];
                sum += w;
                // A predictable branch, not Math.max: loads are never NaN.
                if (w > max) {
                    max = w;
                }
            }
            groupSum[g] = sum;
            groupMax[g] = max;
            groupCounts[g] = 1;
            largest = Math.max(largest, sum);
        }
        return largest;
    }

    /**
     * The layer's slots with a given split of groups over nodes: node {@code n} holds groups
     * {@code split[n * G/N .. (n+1) * G/N)}; each node's experts are apportioned and packed on its GPUs, two
     * nodes at a time.
     */
    int[] planOnNodes(double[] load, int[] split, int[] slots) {
        sumGroups(load);
        return planNodes(load, split, slots);
    }

    /** {@link #planOnNodes} with {@link #sumGroups} already run on {@code load}. */
    private int[] planNodes(double[] load, int[] split, int[] slots) {
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
            end(first, slots, n * slotsPerNode, true);
            if (pair) {
                end(second, slots, (n + 1) * slotsPerNode, true);
            }
        }
        return slots;
    }

    /** Copies node {@code n}'s experts and their loads into the lane, group by group. */
    private void gatherNode(double[] load, int[] split, int n, Lane lane) {
        int groupSize = experts / topology.groups();
        int groupsPerNode = topology.groups() / topology.nodes();
        int[] ids = lane.ids;
        double total = 0;
        double max = 0;
        for (int j = 0, k = 0; j < groupsPerNode; j++, k += groupSize) {
            int g = split[n * groupsPerNode + j];
            total += groupSum[g];
            max = Math.max(max, groupMax[g]);
            int first = g * groupSize;
            // A group's experts are contiguous: a block copy and a loop that C2 vectorizes (one loop doing both held
            // 4.7% of a hierarchical DeepSeek-V3 profile).
            System.arraycopy(load, first, lane.load, k, groupSize);
            for (int i = 0; i < groupSize; i++) {
                ids[k + i] = first + i;
            }
        }
        lane.total = total;
        lane.max = max;
    }

    /** Apportions {@code slotCount} replicas among {@code n} experts and begins packing them on {@code gpus} GPUs. */
    private void begin(Lane lane, double[] load, int n, int slotCount, int gpus) {
        int[] counts = lane.counts;
        double[] perReplica = lane.perReplica;
        int perGpu = slotCount / gpus;
        // More slots per GPU than experts: some GPU must hold an expert twice, and an expert whose replicas do not
        // split evenly over the GPUs loads one of them more than its share (3 replicas on 2 GPUs: 2/3 of its load on
        // one). Every GPU holding every expert the same number of times balances exactly, so the counts are
        // apportioned per GPU and repeated on each (the packer lays them out alike on every GPU).
        boolean everywhere = perGpu > n;
        int share = everywhere ? perGpu : slotCount;
        int cap = everywhere ? perGpu : gpus;
        double[] planned = hierarchical
                ? apportionment.countsOnly(load, n, share, cap, counts, lane.total, lane.max)
                : apportionment.countsOnly(load, n, share, cap, counts);
        if (everywhere) {
            for (int e = 0; e < n; e++) {
                counts[e] *= gpus;
            }
        }
        for (int e = 0; e < n; e++) {
            perReplica[e] = planned[e] / counts[e];
        }
        lane.packer.begin(perReplica, counts, n, gpus, slotCount / gpus);
    }

    /**
     * Finishes the lane's packing into {@code slots[offset..]}: as packed, or, for a node ({@code mapped}), through
     * the lane's node experts.
     */
    private void end(Lane lane, int[] slots, int offset, boolean mapped) {
        lane.packer.finish(swapRounds, slots, offset, mapped ? lane.ids : null);
    }
}
