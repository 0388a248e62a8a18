package io.moelab.eplb.eval;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Scores placements against load, and counts the migration between two placements. */
public final class PlacementEvaluator {
    private PlacementEvaluator() {
    }

    /**
     * Scores {@code placement} on {@code load}.
     *
     * @throws InvalidInputException if the load's shape differs from the placement's
     */
    public static PlacementScore score(Placement placement, LoadMatrix load) {
        load.requireShape(placement.layers(), placement.experts(), "load");
        Topology topology = placement.topology();
        int layers = placement.layers();
        int replicas = topology.replicas();
        int slotsPerGpu = topology.slotsPerGpu();
        double[][] gpuLoads = new double[layers][topology.gpus()];
        double[][] nodeLoads = new double[layers][topology.nodes()];
        double[] layerBalancedness = new double[layers];
        double sumGpuMean = 0;
        double sumGpuMax = 0;
        double sumSlotMean = 0;
        double sumSlotMax = 0;
        double sumNodeMean = 0;
        double sumNodeMax = 0;
        List<Colocation> colocations = new ArrayList<>();
        double[] share = new double[placement.experts()];
        int[] gpuOf = new int[placement.experts()];
        int[] copies = new int[placement.experts()];
        int gpusPerNode = topology.gpusPerNode();
        for (int l = 0; l < layers; l++) {
            // Each expert's load split over its replicas, once per expert rather than once per slot.
            for (int e = 0; e < share.length; e++) {
                share[e] = load.load(l, e) / placement.replicaCount(l, e);
            }
            double total = 0;
            double slotMax = 0;
            double gpuMax = 0;
            // Walk GPUs and their slots in order: no division per slot (slow on some CPUs).
            for (int g = 0, slot = 0; g < topology.gpus(); g++) {
                double sum = 0;
                for (int end = slot + slotsPerGpu; slot < end; slot++) {
                    double v = share[placement.expertAt(l, slot)];
                    sum += v;
                    slotMax = Math.max(slotMax, v);
                }
                gpuLoads[l][g] = sum;
                total += sum;
                gpuMax = Math.max(gpuMax, sum);
            }
            double nodeMax = 0;
            for (int n = 0, g = 0; n < topology.nodes(); n++) {
                double sum = 0;
                for (int end = g + gpusPerNode; g < end; g++) {
                    sum += gpuLoads[l][g];
                }
                nodeLoads[l][n] = sum;
                nodeMax = Math.max(nodeMax, sum);
            }
            double gpuMean = total / topology.gpus();
            layerBalancedness[l] = ratio(gpuMean, gpuMax);
            sumGpuMean += gpuMean;
            sumGpuMax += gpuMax;
            sumSlotMean += total / replicas;
            sumSlotMax += slotMax;
            sumNodeMean += total / topology.nodes();
            sumNodeMax += nodeMax;
            findColocations(placement, l, gpuOf, copies, colocations);
        }
        return new PlacementScore(ratio(sumGpuMean, sumGpuMax), ratio(sumSlotMean, sumSlotMax),
                ratio(sumNodeMean, sumNodeMax), layerBalancedness, gpuLoads, nodeLoads, List.copyOf(colocations));
    }

    /**
     * mean / max, with an unloaded layer counting as perfectly balanced. Capped at 1: the mean and the max are
     * summed in different orders, and rounding must not report better than perfect.
     */
    private static double ratio(double mean, double max) {
        return max > 0 ? Math.min(1.0, mean / max) : 1.0;
    }

    /**
     * Adds the layer's colocations in slot order. {@code gpuOf[e]} and {@code copies[e]} are scratch arrays of
     * one entry per expert: the GPU last counted for e (-1 initially) and how many replicas it holds there.
     */
    private static void findColocations(Placement placement, int layer, int[] gpuOf, int[] copies,
                                        List<Colocation> out) {
        Arrays.fill(gpuOf, -1);
        int slotsPerGpu = placement.topology().slotsPerGpu();
        for (int g = 0, first = 0; g < placement.topology().gpus(); g++, first += slotsPerGpu) {
            for (int s = first; s < first + slotsPerGpu; s++) {
                int e = placement.expertAt(layer, s);
                if (gpuOf[e] != g) {
                    gpuOf[e] = g;
                    copies[e] = 0;
                }
                copies[e]++;
            }
            for (int s = first; s < first + slotsPerGpu; s++) {
                int e = placement.expertAt(layer, s);
                if (copies[e] > 1) {
                    out.add(new Colocation(layer, g, e, copies[e]));
                    copies[e] = 0; // reported once, at its first slot
                }
            }
        }
    }

    /**
     * What moving from {@code previous} to {@code next} costs. An expert moves when a GPU holds it in
     * {@code next} but held no replica of it in {@code previous}, in that layer.
     *
     * @throws InvalidInputException if the placements differ in slots, nodes, GPUs or shape (expert groups may differ)
     */
    public static Migration migration(Placement previous, Placement next) {
        if (!previous.topology().sameHardware(next.topology()) || previous.layers() != next.layers()
                || previous.experts() != next.experts()) {
            throw new InvalidInputException("previous", "placement (" + previous + ") does not match " + next);
        }
        Topology topology = next.topology();
        int slotsPerGpu = topology.slotsPerGpu();
        int moved = 0;
        int changed = 0;
        int touched = 0;
        for (int l = 0; l < next.layers(); l++) {
            int movedInLayer = 0;
            for (int first = 0; first < topology.replicas(); first += slotsPerGpu) {
                for (int p = first; p < first + slotsPerGpu; p++) {
                    int e = next.expertAt(l, p);
                    if (e != previous.expertAt(l, p)) {
                        changed++;
                    }
                    if (!holds(previous, l, first, slotsPerGpu, e) && !heldEarlier(next, l, first, p, e)) {
                        movedInLayer++;
                    }
                }
            }
            moved += movedInLayer;
            touched += movedInLayer > 0 ? 1 : 0;
        }
        return new Migration(moved, changed, touched);
    }

    private static boolean holds(Placement placement, int layer, int first, int count, int expert) {
        for (int q = first; q < first + count; q++) {
            if (placement.expertAt(layer, q) == expert) {
                return true;
            }
        }
        return false;
    }

    /** Whether an earlier slot on the same GPU already brings {@code expert}: one copy serves both. */
    private static boolean heldEarlier(Placement placement, int layer, int first, int slot, int expert) {
        return holds(placement, layer, first, slot - first, expert);
    }
}
