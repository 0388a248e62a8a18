import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import java.util.Arrays;

/**
 * Expert-parallel load balancer (EPLB): decides, for every MoE layer, which logical expert each of the R
 * physical expert slots holds. Slot p lives on GPU p / (R / M); GPU g lives on node g / (M / N).
 *
 * <p>This starting point is DeepSeek's open-source EPLB (rebalance_experts in eplb.py), in float32 like the
 * original:
 * <ol>
 *   <li>pack the G expert groups onto the N nodes (balanced packing of the group loads);</li>
 *   <li>on each node, give every expert one replica, then hand out the node's remaining slots one at a time to
 *       the expert whose load per replica is currently the highest;</li>
 *   <li>pack each node's replicas onto its GPUs (balanced packing of the per-replica loads).</li>
 * </ol>
 * When the groups do not divide evenly over the nodes, the same steps run with one group and one node (the
 * global policy: any replica on any GPU).
 */
public final class EvolvedBalancer implements BalancerAlgorithm {

    /** Public no-argument constructor: the evaluator instantiates the class through it. */
    public EvolvedBalancer() {
    }

    @Override
    public String name() {
        return "evolved";
    }

    @Override
    public String description() {
        return "EPLB balancer evolved from DeepSeek's greedy replication and balanced packing";
    }

    @Override
    public Placement rebalance(BalancingRequest request) {
        LoadMatrix weight = request.weight();
        Topology topology = request.topology();
        int[][] phy2log = new int[weight.layers()][topology.replicas()];
        int[][] phyRank = new int[weight.layers()][topology.replicas()];
        plan(weight, topology, phy2log, phyRank);
        // phy2log[layer][slot] = logical expert in the slot; phyRank[layer][slot] = which replica of that
        // expert it is (0, 1, ... in any order, each exactly once per expert).
        return Placement.withRanks(topology, weight.experts(), phy2log, phyRank);
    }

    // EVOLVE-BLOCK-START

    /** Fills phy2log and phyRank for every layer; each layer is planned on its own. */
    private static void plan(LoadMatrix weight, Topology topology, int[][] phy2log, int[][] phyRank) {
        int experts = weight.experts();
        // DeepSeek's choice of policy: hierarchical when the expert groups divide evenly over the nodes.
        boolean hierarchical = topology.groups() % topology.nodes() == 0;
        if (hierarchical) {
            topology.requireEqualGroups(experts); // each group must have the same number of experts
        }
        int groups = hierarchical ? topology.groups() : 1;
        int nodes = hierarchical ? topology.nodes() : 1;
        double[] row = new double[experts];
        float[] load = new float[experts];
        for (int layer = 0; layer < weight.layers(); layer++) {
            weight.copyLayer(layer, row);
            for (int e = 0; e < experts; e++) {
                load[e] = (float) row[e]; // float32 arithmetic, like the PyTorch original
            }
            planLayer(load, topology.replicas(), groups, nodes, topology.gpus(), phy2log[layer], phyRank[layer]);
        }
    }

    /**
     * One layer of the hierarchical policy.
     *
     * @param load     load of each logical expert
     * @param replicas physical slots R
     * @param groups   expert groups G (1 for the global policy); experts [g*E/G, (g+1)*E/G) form group g
     * @param nodes    nodes N (1 for the global policy)
     * @param gpus     GPUs M
     */
    private static void planLayer(float[] load, int replicas, int groups, int nodes, int gpus, int[] phy2log,
                                  int[] phyRank) {
        int experts = load.length;
        int groupSize = experts / groups;
        int groupsPerNode = groups / nodes;
        int expertsPerNode = experts / nodes;
        int slotsPerNode = replicas / nodes;
        int gpusPerNode = gpus / nodes;
        int slotsPerGpu = replicas / gpus;

        // Step 1: pack whole expert groups onto nodes by their total load. The sum is taken in double and
        // rounded once to float32.
        float[] groupLoad = new float[groups];
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
                sum += load[e];
            }
            groupLoad[g] = (float) sum;
        }
        int[] groupNode = new int[groups];
        int[] groupRankOnNode = new int[groups];
        balancedPacking(groupLoad, nodes, groupNode, groupRankOnNode);

        // Renumber experts node by node: "node-local" expert m of node n is logical expert
        // nodeExperts[n * expertsPerNode + m]. A group keeps its experts in order.
        int[] nodeExperts = new int[experts];
        for (int g = 0; g < groups; g++) {
            int first = (groupNode[g] * groupsPerNode + groupRankOnNode[g]) * groupSize;
            for (int i = 0; i < groupSize; i++) {
                nodeExperts[first + i] = g * groupSize + i;
            }
        }

        float[] nodeLoad = new float[expertsPerNode];
        int[] replicaExpert = new int[slotsPerNode]; // node-local expert of each of the node's replicas
        int[] replicaRank = new int[slotsPerNode];   // its rank among that expert's replicas
        int[] replicaCount = new int[expertsPerNode];
        float[] replicaLoad = new float[slotsPerNode];
        int[] replicaGpu = new int[slotsPerNode];
        int[] replicaPosition = new int[slotsPerNode];
        for (int n = 0; n < nodes; n++) {
            for (int m = 0; m < expertsPerNode; m++) {
                nodeLoad[m] = load[nodeExperts[n * expertsPerNode + m]];
            }

            // Step 2: replication. Every expert starts with one replica; each remaining slot goes to the
            // expert with the highest load per replica (the first such expert on ties).
            for (int m = 0; m < expertsPerNode; m++) {
                replicaExpert[m] = m;
                replicaRank[m] = 0;
                replicaCount[m] = 1;
            }
            for (int r = expertsPerNode; r < slotsPerNode; r++) {
                int best = 0;
                float bestPerReplica = nodeLoad[0] / replicaCount[0];
                for (int m = 1; m < expertsPerNode; m++) {
                    float perReplica = nodeLoad[m] / replicaCount[m];
                    if (perReplica > bestPerReplica) {
                        best = m;
                        bestPerReplica = perReplica;
                    }
                }
                replicaExpert[r] = best;
                replicaRank[r] = replicaCount[best];
                replicaCount[best]++;
            }

            // Step 3: pack the node's replicas onto its GPUs; a replica carries its expert's load divided by
            // the expert's replica count.
            for (int r = 0; r < slotsPerNode; r++) {
                int m = replicaExpert[r];
                replicaLoad[r] = nodeLoad[m] / replicaCount[m];
            }
            balancedPacking(replicaLoad, gpusPerNode, replicaGpu, replicaPosition);
            for (int r = 0; r < slotsPerNode; r++) {
                int slot = n * slotsPerNode + replicaGpu[r] * slotsPerGpu + replicaPosition[r];
                phy2log[slot] = nodeExperts[n * expertsPerNode + replicaExpert[r]];
                phyRank[slot] = replicaRank[r];
            }
        }
    }

    /**
     * Balanced packing: splits the items into {@code packs} packs of equal size (items / packs each). Items are
     * taken heaviest first (equal weights in index order); each goes into the pack with the smallest total
     * weight so far (the lowest-numbered such pack on ties) among those that are not yet full.
     *
     * @param pack     out: the pack of each item
     * @param position out: the item's position inside its pack (0 = first placed)
     */
    private static void balancedPacking(float[] weight, int packs, int[] pack, int[] position) {
        int items = weight.length;
        int perPack = items / packs;
        if (perPack == 1) { // one item per pack: item i simply goes to pack i
            for (int i = 0; i < items; i++) {
                pack[i] = i;
                position[i] = 0;
            }
            return;
        }
        int[] order = heaviestFirst(weight);
        float[] packWeight = new float[packs];
        int[] packItems = new int[packs];
        for (int item : order) {
            int best = -1;
            for (int p = 0; p < packs; p++) {
                if (packItems[p] < perPack && (best < 0 || packWeight[p] < packWeight[best])) {
                    best = p;
                }
            }
            pack[item] = best;
            position[item] = packItems[best];
            packItems[best]++;
            packWeight[best] += weight[item];
        }
    }

    /**
     * Item indices sorted by descending weight, equal weights in ascending index order (a stable sort).
     * Weights are non-negative, and the bits of non-negative floats order like their values, so each item
     * becomes one long key (inverted weight bits, then index) and a primitive sort does the work.
     */
    private static int[] heaviestFirst(float[] weight) {
        long[] keys = new long[weight.length];
        for (int i = 0; i < weight.length; i++) {
            long inverted = Integer.MAX_VALUE - Float.floatToIntBits(weight[i]);
            keys[i] = inverted << 32 | i;
        }
        Arrays.sort(keys);
        int[] order = new int[weight.length];
        for (int k = 0; k < keys.length; k++) {
            order[k] = (int) keys[k];
        }
        return order;
    }

    // EVOLVE-BLOCK-END
}
