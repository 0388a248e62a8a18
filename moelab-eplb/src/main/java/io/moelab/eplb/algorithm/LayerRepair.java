package io.moelab.eplb.algorithm;

import io.moelab.eplb.Topology;
import java.util.Arrays;

/**
 * Repairs the placement in service for one layer toward new replica counts, changing few slots:
 * <ol>
 *   <li>surplus replicas leave the most loaded GPUs holding them (duplicates on one GPU first);</li>
 *   <li>missing replicas, heaviest per-replica load first, take the freed slot on the least loaded GPU that
 *       does not hold the expert yet; where every freed slot's GPU holds it, a replica from another GPU moves
 *       into the freed slot and the missing one takes its place;</li>
 *   <li>while the predicted largest GPU load exceeds the target, the best swap between the most loaded GPU
 *       and one of the least loaded ones is applied, or with any GPU when none of those has a replica light
 *       enough (each swap moves two experts).</li>
 * </ol>
 * An expert held twice on a GPU has its extra replicas placed anew like missing ones, unless it has more replicas
 * than its domain has GPUs, so the result holds no expert twice on a GPU where that can be avoided. Loads are
 * predicted with the new counts. In hierarchical mode every change stays inside a node, so expert groups remain on
 * their nodes. Instances hold scratch arrays and are not thread-safe.
 */
final class LayerRepair {
    /** Lightest GPUs tried as swap partners of the most loaded one, at least; more on large clusters. */
    private static final int MIN_PARTNERS = 4;

    private final int gpus;
    private final int slotsPerGpu;
    private final int replicas;
    private final double[] gpuLoad;
    private final double[] perReplica;
    private final int[] have;
    private final int[] free;
    /** The GPU of each free slot, {@code free[f] / slotsPerGpu}, kept beside {@link #free} while placing. */
    private final int[] freeGpu;
    private final int[] order;
    private final int[] partners;
    private final int[] partnerHeap;
    private final double[] partnerKey;
    /** Marks the partners during the search of every GPU (all false between searches). */
    private final boolean[] searched;
    private final int gpusPerBlock;
    private final GpuSlots.Swap best = new GpuSlots.Swap();

    /**
     * @param nodeLocal keep every change inside a node (hierarchical placements)
     */
    LayerRepair(Topology topology, int experts, boolean nodeLocal) {
        gpusPerBlock = nodeLocal ? topology.gpusPerNode() : topology.gpus();
        partners = new int[Math.max(MIN_PARTNERS, gpusPerBlock / 16)];
        partnerHeap = new int[partners.length];
        partnerKey = new double[partners.length];
        searched = new boolean[topology.gpus()];
        gpus = topology.gpus();
        slotsPerGpu = topology.slotsPerGpu();
        replicas = topology.replicas();
        gpuLoad = new double[gpus];
        perReplica = new double[experts];
        have = new int[experts];
        free = new int[replicas];
        freeGpu = new int[replicas];
        order = new int[experts];
    }

    /**
     * @param previous slots of the layer in service
     * @param counts   replica counts to reach ({@code Σ = replicas})
     * @param load     predicted load of each expert
     * @param target   predicted largest GPU load to reach
     * @return the repaired slots, or null when the target cannot be reached by swaps (or a duplicate would be
     *         forced)
     */
    int[] repair(int[] previous, int[] counts, double[] load, double target) {
        return repair(previous, counts, load, target, null);
    }

    /**
     * Like {@link #repair(int[], int[], double[], double)}, from a start that may have empty slots ({@code -1}),
     * with each expert's block given: how a group that changes nodes is repaired (its old slots emptied, its
     * replicas placed on its new node like missing ones).
     *
     * @param blockOfExpert the block (node) each expert's replicas must be on, or null to keep them where they are
     */
    int[] repair(int[] start, int[] counts, double[] load, double target, int[] blockOfExpert) {
        int experts = have.length;
        int[] slots = start.clone();
        Arrays.fill(have, 0);
        int freed = 0;
        for (int s = 0; s < replicas; s++) {
            int e = slots[s];
            // A second replica of an expert on one GPU computes the same weights again: it is placed anew, like a
            // missing one, where the expert's domain has GPUs enough to spread its replicas (a placement in service
            // from another balancer may colocate them; the packer does not).
            if (e >= 0 && counts[e] <= gpusPerBlock) {
                int first = s / slotsPerGpu * slotsPerGpu;
                for (int q = first; q < s && e >= 0; q++) {
                    if (slots[q] == e) {
                        slots[s] = -1;
                        e = -1;
                    }
                }
            }
            if (e >= 0) {
                have[e]++;
            } else {
                free[freed++] = s;
            }
        }
        for (int e = 0; e < experts; e++) {
            perReplica[e] = load[e] / counts[e];
        }
        Arrays.fill(gpuLoad, 0);
        for (int s = 0; s < replicas; s++) {
            if (slots[s] >= 0) {
                gpuLoad[s / slotsPerGpu] += perReplica[slots[s]];
            }
        }
        for (int e = 0; e < experts; e++) {
            for (; have[e] > counts[e]; have[e]--) {
                int s = surplusSlot(slots, e);
                slots[s] = -1;
                gpuLoad[s / slotsPerGpu] -= perReplica[e];
                free[freed++] = s;
            }
        }
        // Missing replicas, heaviest first, into the least loaded free slot's GPU without the expert.
        int missing = 0;
        for (int e = 0; e < experts; e++) {
            if (have[e] < counts[e]) {
                order[missing++] = e;
            }
        }
        sortByPerReplicaDescending(missing);
        int remaining = freed;
        for (int f = 0; f < freed; f++) {
            freeGpu[f] = free[f] / slotsPerGpu;
        }
        for (int i = 0; i < missing; i++) {
            int e = order[i];
            int block = blockOfExpert != null ? blockOfExpert[e] : blockOf(slots, e);
            for (; have[e] < counts[e]; have[e]++) {
                int best = -1;
                double bestLoad = 0;
                for (int f = 0; f < remaining; f++) {
                    // The lighter-than-best test first: it rejects most free slots without the division and the
                    // scan of the GPU's slots (the conditions are pure, so their order does not change the choice).
                    int g = freeGpu[f];
                    double gpu = gpuLoad[g];
                    if ((best < 0 || gpu < bestLoad) && g / gpusPerBlock == block
                            && !GpuSlots.holds(slots, slotsPerGpu, g, e)) {
                        best = f;
                        bestLoad = gpu;
                    }
                }
                if (best < 0) {
                    // Every free slot of the block is on a GPU that holds the expert already: a replica of another
                    // expert moves into the free slot and the missing one takes its place (two moves, not one).
                    if (!relocate(slots, e, block, remaining)) {
                        return null;
                    }
                    remaining--;
                    continue;
                }
                int s = free[best];
                slots[s] = e;
                gpuLoad[s / slotsPerGpu] += perReplica[e];
                free[best] = free[--remaining];
                freeGpu[best] = freeGpu[remaining];
            }
        }
        for (int round = 0; round < replicas; round++) {
            int top = 0;
            for (int g = 1; g < gpus; g++) {
                if (gpuLoad[g] > gpuLoad[top]) {
                    top = g;
                }
            }
            if (gpuLoad[top] <= target) {
                return slots;
            }
            if (!swapDown(slots, top)) {
                return null;
            }
        }
        return null;
    }

    /**
     * Fills a free slot of {@code block} with a replica {@code x} from another GPU of the block that does not hold
     * {@code e}, and puts {@code e} where {@code x} was, choosing the pair that leaves the two GPUs' larger load
     * smallest. The used free slot is swapped to position {@code remaining - 1}.
     */
    private boolean relocate(int[] slots, int e, int block, int remaining) {
        double bestMax = Double.POSITIVE_INFINITY;
        int bestFree = -1;
        int bestSlot = -1;
        for (int f = 0; f < remaining; f++) {
            int a = free[f] / slotsPerGpu;
            if (a / gpusPerBlock != block) {
                continue;
            }
            for (int b = block * gpusPerBlock; b < (block + 1) * gpusPerBlock; b++) {
                if (b == a || GpuSlots.holds(slots, slotsPerGpu, b, e)) {
                    continue;
                }
                for (int t = b * slotsPerGpu; t < (b + 1) * slotsPerGpu; t++) {
                    int x = slots[t];
                    if (x < 0 || GpuSlots.holds(slots, slotsPerGpu, a, x)) {
                        continue;
                    }
                    double max = Math.max(gpuLoad[a] + perReplica[x], gpuLoad[b] - perReplica[x] + perReplica[e]);
                    if (max < bestMax) {
                        bestMax = max;
                        bestFree = f;
                        bestSlot = t;
                    }
                }
            }
        }
        if (bestFree < 0) {
            return false;
        }
        int f = free[bestFree];
        int x = slots[bestSlot];
        slots[f] = x;
        slots[bestSlot] = e;
        gpuLoad[f / slotsPerGpu] += perReplica[x];
        gpuLoad[bestSlot / slotsPerGpu] += perReplica[e] - perReplica[x];
        free[bestFree] = free[remaining - 1];
        freeGpu[bestFree] = freeGpu[remaining - 1];
        return true;
    }

    /** The block (node, or the whole cluster) holding the expert's remaining replicas. */
    private int blockOf(int[] slots, int e) {
        for (int s = 0; s < replicas; s++) {
            if (slots[s] == e) {
                return s / slotsPerGpu / gpusPerBlock;
            }
        }
        return 0;
    }

    /** The slot of {@code e} to free: on a GPU holding it twice if any, else on the most loaded GPU holding it. */
    private int surplusSlot(int[] slots, int e) {
        int best = -1;
        boolean bestDuplicate = false;
        for (int s = 0; s < replicas; s++) {
            if (slots[s] != e) {
                continue;
            }
            int g = s / slotsPerGpu;
            boolean duplicate = GpuSlots.copies(slots, slotsPerGpu, g, e) > 1;
            if (best < 0 || (duplicate && !bestDuplicate)
                    || (duplicate == bestDuplicate && gpuLoad[g] > gpuLoad[best / slotsPerGpu])) {
                best = s;
                bestDuplicate = duplicate;
            }
        }
        return best;
    }

    private void sortByPerReplicaDescending(int n) {
        // Few experts change count between windows: insertion sort is enough.
        for (int i = 1; i < n; i++) {
            int e = order[i];
            int j = i - 1;
            while (j >= 0 && perReplica[order[j]] < perReplica[e]) {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = e;
        }
    }

    /**
     * Applies the best load-lowering swap between GPU {@code top} and one of the lightest GPUs. A GPU whose gap to
     * {@code top} is at most twice the gain found so far is not searched: a swap there gains at most half the gap
     * (the larger of the two loads after it is at least their mean), and the search accepts only a larger gain,
     * so it could not change the choice (rounding is monotone: {@code gap - d} rounds to at most the gain when it
     * is below it).
     */
    private boolean swapDown(int[] slots, int top) {
        int found = lightest(top);
        best.reset(1e-12 * gpuLoad[top]);
        for (int p = 0; p < found; p++) {
            double gap = gpuLoad[top] - gpuLoad[partners[p]];
            if (gap > 2 * best.gain) {
                GpuSlots.bestSwap(slots, slotsPerGpu, perReplica, top, partners[p], gap, best);
            }
        }
        if (!best.found()) {
            // The lightest GPUs may hold no replica light enough (two slots per GPU: a hot expert wants the
            // coldest replica, which may sit beside a warm one): try every GPU of the block.
            // The partners are passed over: they found nothing at the lowest gain, so they find nothing at a higher.
            for (int p = 0; p < found; p++) {
                searched[partners[p]] = true;
            }
            int first = top / gpusPerBlock * gpusPerBlock;
            GpuSlots.bestSwapAmong(slots, slotsPerGpu, perReplica, gpuLoad, top, first, first + gpusPerBlock,
                    searched, best);
            for (int p = 0; p < found; p++) {
                searched[partners[p]] = false;
            }
        }
        if (!best.found()) {
            return false;
        }
        GpuSlots.swap(slots, slotsPerGpu, perReplica, gpuLoad, best.from, best.to);
        return true;
    }

    private int lightest(int exclude) {
        int first = exclude / gpusPerBlock * gpusPerBlock;
        return lightest(gpuLoad, first, first + gpusPerBlock, exclude, partners, partnerHeap, partnerKey);
    }

    /**
     * The {@code partners.length} least loaded GPUs of {@code first..end} but {@code exclude} (all of them when
     * fewer), in the order of a scan that fills {@code partners} with the first ones and lets each later lighter
     * GPU replace the most loaded partner (on ties the lowest position). A heap of the positions, most loaded
     * first, finds that partner in O(log k): the scan that looked for it among all k took O(M² / 16) per swap
     * on clusters of M GPUs, most of a migration-aware rebalance of 1152 GPUs. The heap keeps each entry's load
     * beside its position, so that a sift compares loads without reading them through two indices (the heap's
     * sifts were a third of the search for partners on DeepSeek-V3 decode).
     *
     * @param heap scratch of at least {@code partners.length}
     * @param keys scratch of at least {@code partners.length}: the load of each heap entry
     * @return partners found
     */
    static int lightest(double[] load, int first, int end, int exclude, int[] partners, int[] heap, double[] keys) {
        int k = partners.length;
        int found = 0;
        int g = first;
        for (; g < end && found < k; g++) {
            if (g != exclude) {
                partners[found++] = g;
            }
        }
        if (found < k) {
            return found;
        }
        for (int i = 0; i < k; i++) {
            heap[i] = i;
            keys[i] = load[partners[i]];
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(heap, keys, k, i, heap[i], keys[i]);
        }
        // The most loaded partner's load: most GPUs of a scan are heavier.
        for (; g < end; g++) {
            double v = load[g];
            if (v < keys[0] && g != exclude) {
                partners[heap[0]] = g;
                siftDown(heap, keys, k, 0, heap[0], v);
            }
        }
        return found;
    }

    /** Whether an entry (load a, position p) is replaced before (load b, position q): more loaded, or earlier. */
    private static boolean worse(double a, int p, double b, int q) {
        return a > b || (a == b && p < q);
    }

    /** Sifts the entry (position {@code p}, load {@code v}) down from heap index {@code i}. */
    private static void siftDown(int[] heap, double[] keys, int size, int i, int p, double v) {
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && worse(keys[child + 1], heap[child + 1], keys[child], heap[child])) {
                child++;
            }
            if (!worse(keys[child], heap[child], v, p)) {
                break;
            }
            heap[i] = heap[child];
            keys[i] = keys[child];
            i = child;
        }
        heap[i] = p;
        keys[i] = v;
    }
}
