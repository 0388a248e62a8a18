package io.moelab.sim.cost;

import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * What it costs to switch from one placement to the next: every expert that a GPU holds after but not before
 * (in the same layer) is copied onto it from a GPU that held it before. A source on the receiver's own node
 * is preferred (NVLink); among candidates the one that has sent the least so far is chosen, so copies of a
 * popular expert fan out over its holders. All layers move together: the transfer takes as long as the
 * busiest GPU's larger of send and receive bytes on its slower link, plus that link's latency.
 *
 * @param copies       expert copies transferred (equals {@code PlacementEvaluator.migration(...).expertsMoved()})
 * @param bytes        bytes transferred in total
 * @param interBytes   of which across nodes
 * @param nvlinkBytes  per GPU, the larger of the bytes it sends and receives over NVLink (empty: no copies)
 * @param networkBytes per GPU, the same over the network; what a {@link Transfer} moves while serving goes on
 */
public record MigrationCost(int copies, double bytes, double interBytes, double[] nvlinkBytes, double[] networkBytes) {
    /** No change. */
    public static final MigrationCost NONE = new MigrationCost(0, 0, 0, new double[0], new double[0]);

    /**
     * Copies the per-GPU arrays, so that the record stays as it was made.
     *
     * @throws IllegalArgumentException if the arrays differ in length (they give no one time)
     */
    public MigrationCost {
        if (nvlinkBytes.length != networkBytes.length) {
            throw new IllegalArgumentException("NVLink bytes for " + nvlinkBytes.length + " GPUs, network bytes for "
                    + networkBytes.length);
        }
        nvlinkBytes = nvlinkBytes.clone();
        networkBytes = networkBytes.clone();
    }

    /** Per GPU, the larger of the bytes it sends and receives over NVLink (a copy). */
    @Override
    public double[] nvlinkBytes() {
        return nvlinkBytes.clone();
    }

    /** Per GPU, the larger of the bytes it sends and receives over the network (a copy). */
    @Override
    public double[] networkBytes() {
        return networkBytes.clone();
    }

    /**
     * The cost of switching from {@code from} to {@code to} on {@code cluster}.
     *
     * @throws IllegalArgumentException if the placements differ in shape or topology
     */
    public static MigrationCost between(Placement from, Placement to, ModelSpec model, ClusterSpec cluster) {
        Topology topology = to.topology();
        if (!from.topology().equals(topology) || from.layers() != to.layers() || from.experts() != to.experts()) {
            throw new IllegalArgumentException("placements differ: " + from + " vs " + to);
        }
        int gpus = topology.gpus();
        int experts = to.experts();
        int slotsPerGpu = topology.slotsPerGpu();
        int gpusPerNode = topology.gpusPerNode();
        double expertBytes = model.expertBytes();
        double[] sendIntra = new double[gpus];
        double[] recvIntra = new double[gpus];
        double[] sendInter = new double[gpus];
        double[] recvInter = new double[gpus];
        // Per layer, the GPUs holding each expert in `from`, ascending (holders[start[e] .. end[e])), and per GPU a
        // mark of the experts it held (even tokens) or has been copied (odd): O(E + R) memory, where a GPU x expert
        // table had 2^32 cells for 65,536 of each.
        int[] start = new int[experts + 1];
        int[] end = new int[experts];
        int[] holders = new int[topology.replicas()];
        long[] mark = new long[experts];
        long token = 0;
        int copies = 0;
        double interBytes = 0;
        for (int l = 0; l < to.layers(); l++) {
            Arrays.fill(start, 0);
            for (int p = 0; p < topology.replicas(); p++) {
                start[from.expertAt(l, p) + 1]++;
            }
            for (int e = 0; e < experts; e++) {
                start[e + 1] += start[e];
                end[e] = start[e];
            }
            for (int p = 0; p < topology.replicas(); p++) {
                int e = from.expertAt(l, p);
                int g = p / slotsPerGpu;
                if (end[e] == start[e] || holders[end[e] - 1] != g) {
                    holders[end[e]++] = g; // slots run in GPU order: a GPU's second replica follows its first
                }
            }
            for (int g = 0; g < gpus; g++) {
                long held = token += 2;
                long copied = held + 1;
                for (int p = g * slotsPerGpu; p < (g + 1) * slotsPerGpu; p++) {
                    mark[from.expertAt(l, p)] = held;
                }
                for (int p = g * slotsPerGpu; p < (g + 1) * slotsPerGpu; p++) {
                    int e = to.expertAt(l, p);
                    if (mark[e] == held || mark[e] == copied) {
                        continue; // already there, or a second replica on this GPU copied locally
                    }
                    mark[e] = copied;
                    int source = source(holders, start[e], end[e], e, g / gpusPerNode, gpusPerNode, sendIntra,
                            sendInter);
                    copies++;
                    if (source / gpusPerNode == g / gpusPerNode) {
                        sendIntra[source] += expertBytes;
                        recvIntra[g] += expertBytes;
                    } else {
                        sendInter[source] += expertBytes;
                        recvInter[g] += expertBytes;
                        interBytes += expertBytes;
                    }
                }
            }
        }
        if (copies == 0) {
            return NONE;
        }
        double[] nvlinkBytes = new double[gpus];
        double[] networkBytes = new double[gpus];
        for (int g = 0; g < gpus; g++) {
            nvlinkBytes[g] = Math.max(sendIntra[g], recvIntra[g]);
            networkBytes[g] = Math.max(sendInter[g], recvInter[g]);
        }
        return new MigrationCost(copies, copies * expertBytes, interBytes, nvlinkBytes, networkBytes);
    }

    /**
     * The wall-clock time of the transfer with the links to itself on {@code cluster}: the busiest GPU's bytes on
     * its slower link plus that link's latency (0 without copies). Worked from the per-GPU bytes rather than held,
     * so that it cannot disagree with what a {@link Transfer} of this cost moves.
     *
     * @throws IllegalArgumentException if the cost is for another number of GPUs
     */
    public double seconds(ClusterSpec cluster) {
        if (nvlinkBytes.length != 0 && nvlinkBytes.length != cluster.gpus()) {
            throw new IllegalArgumentException("transfer is for " + nvlinkBytes.length + " GPUs, cluster has "
                    + cluster.gpus());
        }
        double seconds = 0;
        for (int g = 0; g < nvlinkBytes.length; g++) {
            double intra = nvlinkBytes[g];
            double inter = networkBytes[g];
            seconds = Math.max(seconds, Math.max(
                    intra > 0 ? intra / cluster.nvlinkBytesPerSecond() + cluster.nvlinkLatencyUs() * 1e-6 : 0,
                    inter > 0 ? inter / cluster.networkBytesPerSecond() + cluster.networkLatencyUs() * 1e-6 : 0));
        }
        return seconds;
    }

    /**
     * The GPU to copy expert {@code e} from, among its holders {@code holders[from .. to)} (ascending): on the
     * receiver's node if one holds it, the least busy one (the first of equals).
     */
    private static int source(int[] holders, int from, int to, int e, int node, int gpusPerNode, double[] sendIntra,
                              double[] sendInter) {
        int best = -1;
        for (int i = from; i < to; i++) {
            int g = holders[i];
            if (g / gpusPerNode == node && (best < 0 || sendIntra[g] < sendIntra[best])) {
                best = g;
            }
        }
        if (best >= 0) {
            return best;
        }
        for (int i = from; i < to; i++) {
            int g = holders[i];
            if (best < 0 || sendInter[g] < sendInter[best]) {
                best = g;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("expert " + e + " has no replica in the previous placement");
        }
        return best;
    }

    /** Equal when every component is, the per-GPU bytes compared by value. */
    @Override
    public boolean equals(Object o) {
        return o instanceof MigrationCost m && copies == m.copies && Double.compare(bytes, m.bytes) == 0
                && Double.compare(interBytes, m.interBytes) == 0 && Arrays.equals(nvlinkBytes, m.nvlinkBytes)
                && Arrays.equals(networkBytes, m.networkBytes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(copies, bytes, interBytes, Arrays.hashCode(nvlinkBytes),
                Arrays.hashCode(networkBytes));
    }

    @Override
    public String toString() {
        return copies + " expert copies, " + bytes + " bytes (" + interBytes + " across nodes)";
    }
}
