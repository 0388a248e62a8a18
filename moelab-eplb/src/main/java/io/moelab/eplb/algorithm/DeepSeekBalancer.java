package io.moelab.eplb.algorithm;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.Arrays;
import java.util.Objects;

/**
 * A faithful port of DeepSeek's open-source EPLB ({@code rebalance_experts} in deepseek-ai/EPLB, eplb.py).
 *
 * <p>Hierarchical policy when the expert groups divide evenly over nodes, otherwise the global policy (the
 * same steps with one group and one node):
 * <ol>
 *   <li>expert groups are packed onto nodes by balanced packing of the group loads;</li>
 *   <li>within each node, replicas are added one at a time to the expert with the highest load per replica;</li>
 *   <li>each node's replicas are packed onto its GPUs by balanced packing of the per-replica loads.</li>
 * </ol>
 * Balanced packing takes items heaviest first and puts each into the lightest pack that still has room.
 *
 * <p>Arithmetic is float32 like the reference. Ties follow the reference run with stable sorts: equal loads
 * keep ascending index order, pack ties go to the lowest pack index and replica ties to the first maximum.
 * Like the reference, it may put two replicas of one expert on one GPU.
 *
 * <p>With {@link Packing#SERPENTINE} it is {@code snake}, the variant found by OpenEvolve: the same three
 * steps with both packings replaced by the serpentine assignment (the k-th heaviest item goes to pack
 * {@code k mod m} on even stripes {@code k / m}, to {@code m - 1 - k mod m} on odd ones). The mode can force
 * the global or hierarchical policy; {@link PlacementMode#AUTO} is the reference's choice.
 */
public final class DeepSeekBalancer implements BalancerAlgorithm {
    /** Command-line name of the faithful port. */
    public static final String NAME = "deepseek";
    /** Command-line name of the serpentine variant. */
    public static final String SNAKE = "snake";

    /** How items are packed into packs of equal size. */
    public enum Packing {
        /** Heaviest first into the lightest pack with room (the reference). */
        BALANCED,
        /** Serpentine order over the items sorted heaviest first. */
        SERPENTINE
    }

    private final PlacementMode mode;
    private final Packing packing;
    private final String name;

    /** The faithful port: DeepSeek's own choice of policy, balanced packing. */
    public DeepSeekBalancer() {
        this(PlacementMode.AUTO, Packing.BALANCED, NAME);
    }

    /**
     * A variant.
     *
     * @param mode    policy: the reference's choice ({@code AUTO}), or forced global or hierarchical
     * @param packing balanced (DeepSeek) or serpentine (snake)
     * @param name    display name, e.g. the spec it was made from
     * @throws NullPointerException if an argument is null (a null mode failed only at the first rebalance)
     */
    public DeepSeekBalancer(PlacementMode mode, Packing packing, String name) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.packing = Objects.requireNonNull(packing, "packing");
        this.name = Objects.requireNonNull(name, "name");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return packing == Packing.BALANCED
                ? "DeepSeek's open-source EPLB, reproduced exactly (greedy replication, balanced packing)"
                : "snake: DeepSeek's steps with serpentine packing (the variant OpenEvolve found)";
    }

    @Override
    public Placement rebalance(BalancingRequest request) {
        LoadMatrix weight = request.weight();
        Topology topology = request.topology();
        int experts = weight.experts();
        boolean hierarchical = mode.hierarchical(topology, experts);
        LayerPlanner planner = hierarchical
                ? new LayerPlanner(experts, topology.replicas(), topology.groups(), topology.nodes(), topology.gpus(),
                        packing)
                : new LayerPlanner(experts, topology.replicas(), 1, 1, topology.gpus(), packing);
        int[][] phy2log = new int[weight.layers()][];
        int[][] ranks = new int[weight.layers()][];
        double[] row = new double[experts];
        for (int l = 0; l < weight.layers(); l++) {
            weight.copyLayer(l, row);
            phy2log[l] = new int[topology.replicas()];
            ranks[l] = new int[topology.replicas()];
            planner.plan(row, phy2log[l], ranks[l]);
        }
        return Placement.withRanks(topology, experts, phy2log, ranks);
    }

    /** One layer of the hierarchical policy, with scratch arrays reused across layers. */
    private static final class LayerPlanner {
        private final int groups;
        private final int nodes;
        private final int groupSize;
        private final int groupsPerNode;
        private final int expertsPerNode;
        private final int slotsPerNode;
        private final int gpusPerNode;
        private final int slotsPerGpu;

        private final float[] load;
        private final float[] groupLoad;
        private final int[] groupPack;
        private final int[] groupRank;
        private final int[] mlog2log;
        private final float[] nodeLoad;
        private final int[] phy2mlog;
        private final int[] phyRank;
        private final int[] mlogCount;
        private final LongMinHeap replicaHeap;
        private final float[] slotLoad;
        private final int[] slotPack;
        private final int[] slotRank;
        private final BalancedPacker packer;

        LayerPlanner(int experts, int replicas, int groups, int nodes, int gpus, Packing packing) {
            this.groups = groups;
            this.nodes = nodes;
            this.groupSize = experts / groups;
            this.groupsPerNode = groups / nodes;
            this.expertsPerNode = experts / nodes;
            this.slotsPerNode = replicas / nodes;
            this.gpusPerNode = gpus / nodes;
            this.slotsPerGpu = replicas / gpus;
            load = new float[experts];
            groupLoad = new float[groups];
            groupPack = new int[groups];
            groupRank = new int[groups];
            mlog2log = new int[experts];
            nodeLoad = new float[expertsPerNode];
            phy2mlog = new int[slotsPerNode];
            phyRank = new int[slotsPerNode];
            mlogCount = new int[expertsPerNode];
            replicaHeap = new LongMinHeap(expertsPerNode);
            slotLoad = new float[slotsPerNode];
            slotPack = new int[slotsPerNode];
            slotRank = new int[slotsPerNode];
            packer = new BalancedPacker(Math.max(groups, slotsPerNode), Math.max(nodes, gpusPerNode), packing);
        }

        void plan(double[] weight, int[] phy2log, int[] ranks) {
            for (int e = 0; e < load.length; e++) {
                load[e] = (float) weight[e];
            }
            // Step 1: pack expert groups onto nodes. The group sum is rounded once to float32, which is what
            // the reference's float32 reduction gives up to ties far below any load resolution.
            for (int g = 0; g < groups; g++) {
                double sum = 0;
                for (int i = g * groupSize; i < (g + 1) * groupSize; i++) {
                    sum += load[i];
                }
                groupLoad[g] = (float) sum;
            }
            packer.pack(groupLoad, groups, nodes, groupPack, groupRank);
            // Node-major ("mlog") order: node n owns mlog experts [n*E/N, (n+1)*E/N).
            for (int g = 0, e = 0; g < groups; g++) {
                int first = (groupPack[g] * groupsPerNode + groupRank[g]) * groupSize;
                for (int i = 0; i < groupSize; i++, e++) {
                    mlog2log[first + i] = e;
                }
            }
            for (int n = 0; n < nodes; n++) {
                int mlogBase = n * expertsPerNode;
                for (int j = 0; j < expertsPerNode; j++) {
                    nodeLoad[j] = load[mlog2log[mlogBase + j]];
                }
                // Step 2: replicate within the node.
                replicate();
                // Step 3: pack the node's replicas onto its GPUs by per-replica load.
                for (int p = 0; p < slotsPerNode; p++) {
                    int m = phy2mlog[p];
                    slotLoad[p] = nodeLoad[m] / mlogCount[m];
                }
                packer.pack(slotLoad, slotsPerNode, gpusPerNode, slotPack, slotRank);
                int slotBase = n * slotsPerNode;
                for (int p = 0; p < slotsPerNode; p++) {
                    int slot = slotBase + slotPack[p] * slotsPerGpu + slotRank[p];
                    phy2log[slot] = mlog2log[mlogBase + phy2mlog[p]];
                    ranks[slot] = phyRank[p];
                }
            }
        }

        /**
         * Greedy replication: each extra slot goes to the expert with the highest load per replica (first
         * maximum on ties). A heap of inverted (load per replica, -index) keys finds it in O(log E).
         */
        private void replicate() {
            replicaHeap.clear();
            for (int j = 0; j < expertsPerNode; j++) {
                phy2mlog[j] = j;
                phyRank[j] = 0;
                mlogCount[j] = 1;
                replicaHeap.push(LongMinHeap.maxFirst(nodeLoad[j], j));
            }
            for (int p = expertsPerNode; p < slotsPerNode; p++) {
                int best = LongMinHeap.maxFirstIndex(replicaHeap.popMin());
                phy2mlog[p] = best;
                phyRank[p] = mlogCount[best];
                mlogCount[best]++;
                replicaHeap.push(LongMinHeap.maxFirst(nodeLoad[best] / mlogCount[best], best));
            }
        }
    }

    /**
     * DeepSeek's balanced packing: items in stable descending order of weight, each into the lightest pack
     * (lowest index on ties) that has fewer than {@code items / packs} items. Pack weights add in float32.
     * Or, for snake, the serpentine assignment over the same order.
     */
    static final class BalancedPacker {
        private final long[] keys;
        private final float[] packWeight;
        private final int[] packItems;
        private final LongMinHeap open;
        private final Packing packing;

        BalancedPacker(int maxItems, int maxPacks, Packing packing) {
            keys = new long[maxItems];
            packWeight = new float[maxPacks];
            packItems = new int[maxPacks];
            open = new LongMinHeap(maxPacks);
            this.packing = packing;
        }

        void pack(float[] weight, int items, int packs, int[] packOut, int[] rankOut) {
            int perPack = items / packs;
            // The reference returns the identity for one item per pack; the serpentine rule still sorts.
            if (perPack == 1 && packing == Packing.BALANCED) {
                for (int i = 0; i < items; i++) {
                    packOut[i] = i;
                    rankOut[i] = 0;
                }
                return;
            }
            sortDescending(weight, items, keys);
            if (packing == Packing.SERPENTINE) {
                for (int k = 0, stripe = 0, j = 0; k < items; k++) {
                    int item = (int) keys[k];
                    packOut[item] = (stripe & 1) == 0 ? j : packs - 1 - j;
                    rankOut[item] = stripe;
                    if (++j == packs) {
                        j = 0;
                        stripe++;
                    }
                }
                return;
            }
            // The heap holds exactly the packs with room, keyed (weight, index): its minimum is the lightest
            // such pack, lowest index first, as the reference's linear scan picks.
            open.clear();
            for (int p = 0; p < packs; p++) {
                packWeight[p] = 0f;
                packItems[p] = 0;
                open.push(LongMinHeap.key(0f, p));
            }
            for (int k = 0; k < items; k++) {
                int item = (int) keys[k];
                int best = LongMinHeap.index(open.popMin());
                packOut[item] = best;
                rankOut[item] = packItems[best];
                packWeight[best] += weight[item];
                if (++packItems[best] < perPack) {
                    open.push(LongMinHeap.key(packWeight[best], best));
                }
            }
        }
    }

    /**
     * Fills {@code keys[0..n)} so that {@code (int) keys[k]} is the index of the k-th largest of
     * {@code weight[0..n)}, equal weights in ascending index order (a stable descending sort).
     * Weights must be non-negative and not -0.0: their float bits then order like the values.
     */
    static void sortDescending(float[] weight, int n, long[] keys) {
        for (int i = 0; i < n; i++) {
            long descending = Integer.MAX_VALUE - Float.floatToRawIntBits(weight[i]);
            keys[i] = descending << 32 | i;
        }
        Arrays.sort(keys, 0, n);
    }
}
