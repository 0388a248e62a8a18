package io.moelab.eplb;

import java.util.Objects;

/**
 * The expert-parallel cluster a placement targets: {@code replicas} physical expert slots per MoE layer
 * spread evenly over {@code gpus} GPUs on {@code nodes} nodes, and {@code groups} expert groups (DeepSeek-V3's
 * group-limited routing; 1 when the model has none).
 *
 * <p>Slot {@code p} lives on GPU {@code p / (replicas / gpus)}; GPU {@code g} on node {@code g / (gpus / nodes)}.
 * Field names in error messages follow the JSON input of {@code eplb rebalance} ({@code num_replicas}, ...).
 *
 * @param replicas physical expert slots per layer (R)
 * @param groups   expert groups (G)
 * @param nodes    nodes (N)
 * @param gpus     GPUs in total (M)
 */
public record Topology(int replicas, int groups, int nodes, int gpus) {

    /**
     * Most physical slots per layer a topology may have, over 200 times DeepSeek-V3's 288. The degenerate extreme,
     * two experts on 65,536 slots, plans in about a second; two billion slots ran the planner out of heap.
     */
    public static final int MAX_REPLICAS = 1 << 16;

    /**
     * Validates the shape that every placement needs: positive counts, R at most {@link #MAX_REPLICAS} and a
     * multiple of M, M of N.
     */
    public Topology {
        requirePositive(replicas, "num_replicas");
        if (replicas > MAX_REPLICAS) {
            throw new InvalidInputException("num_replicas",
                    "R=" + replicas + " slots per layer is more than this tool plans (at most " + MAX_REPLICAS + ")");
        }
        requirePositive(groups, "num_groups");
        requirePositive(nodes, "num_nodes");
        requirePositive(gpus, "num_gpus");
        if (replicas % gpus != 0) {
            throw new InvalidInputException("num_replicas",
                    "R=" + replicas + " is not a multiple of num_gpus M=" + gpus + " (every GPU holds R/M slots)");
        }
        if (gpus % nodes != 0) {
            throw new InvalidInputException("num_gpus",
                    "M=" + gpus + " is not a multiple of num_nodes N=" + nodes + " (every node holds M/N GPUs)");
        }
    }

    private static void requirePositive(int value, String field) {
        if (value <= 0) {
            throw new InvalidInputException(field, "must be at least 1, got " + value);
        }
    }

    /** Slots on each GPU (R / M). */
    public int slotsPerGpu() {
        return replicas / gpus;
    }

    /** GPUs on each node (M / N). */
    public int gpusPerNode() {
        return gpus / nodes;
    }

    /** Slots on each node (R / N). */
    public int slotsPerNode() {
        return replicas / nodes;
    }

    /**
     * The GPU that holds physical slot {@code slot}.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= slot < replicas()}
     */
    public int gpuOfSlot(int slot) {
        // Checked: slot R was GPU M and slot -1 GPU 0, a GPU for a slot that does not exist.
        return Objects.checkIndex(slot, replicas) / slotsPerGpu();
    }

    /**
     * The node that holds GPU {@code gpu}.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= gpu < gpus()}
     */
    public int nodeOfGpu(int gpu) {
        return Objects.checkIndex(gpu, gpus) / gpusPerNode();
    }

    /** Whether DeepSeek's hierarchical policy applies: expert groups divide evenly over nodes. */
    public boolean groupsDivideNodes() {
        return groups % nodes == 0;
    }

    /**
     * Whether a placement made for {@code other} can be served here: the same slots, nodes and GPUs. Expert groups
     * may differ, since they are the model's routing, not the hardware (a global plan made without groups is the
     * placement in service when hierarchical mode starts).
     */
    public boolean sameHardware(Topology other) {
        return replicas == other.replicas && nodes == other.nodes && gpus == other.gpus;
    }

    /**
     * Checks that {@code experts} logical experts fit: at least one slot per expert.
     *
     * @throws InvalidInputException naming {@code num_replicas} when R &lt; E
     */
    public void requireFits(int experts) {
        if (replicas < experts) {
            throw new InvalidInputException("num_replicas",
                    "R=" + replicas + " is less than the number of experts E=" + experts
                            + " (every expert needs at least one slot)");
        }
    }

    /**
     * Checks that {@code experts} split into {@link #groups()} equal groups, as a group-aware (hierarchical)
     * policy requires.
     *
     * @throws InvalidInputException naming {@code num_groups}
     */
    public void requireEqualGroups(int experts) {
        if (experts % groups != 0) {
            throw new InvalidInputException("num_groups",
                    "E=" + experts + " experts do not split into G=" + groups
                            + " equal groups (hierarchical placement needs E to be a multiple of G)");
        }
    }

    @Override
    public String toString() {
        return "R=" + replicas + " G=" + groups + " N=" + nodes + " M=" + gpus;
    }
}
