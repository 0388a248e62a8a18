package io.moelab.eplb.eval;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.ArrayList;
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
        for (int l = 0; l < layers; l++) {
            double total = 0;
            double slotMax = 0;
            for (int p = 0; p < replicas; p++) {
                int e = placement.expertAt(l, p);
                double share = load.load(l, e) / placement.replicaCount(l, e);
                gpuLoads[l][p / slotsPerGpu] += share;
                total += share;
                slotMax = Math.max(slotMax, share);
            }
            double gpuMax = 0;
            for (int g = 0; g < topology.gpus(); g++) {
                gpuMax = Math.max(gpuMax, gpuLoads[l][g]);
                nodeLoads[l][topology.nodeOfGpu(g)] += gpuLoads[l][g];
            }
            double nodeMax = 0;
            for (double v : nodeLoads[l]) {
                nodeMax = Math.max(nodeMax, v);
            }
            double gpuMean = total / topology.gpus();
            layerBalancedness[l] = ratio(gpuMean, gpuMax);
            sumGpuMean += gpuMean;
            sumGpuMax += gpuMax;
            sumSlotMean += total / replicas;
            sumSlotMax += slotMax;
            sumNodeMean += total / topology.nodes();
            sumNodeMax += nodeMax;
            findColocations(placement, l, colocations);
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

    private static void findColocations(Placement placement, int layer, List<Colocation> out) {
        int slotsPerGpu = placement.topology().slotsPerGpu();
        for (int g = 0; g < placement.topology().gpus(); g++) {
            int first = g * slotsPerGpu;
            for (int i = first; i < first + slotsPerGpu; i++) {
                int e = placement.expertAt(layer, i);
                boolean seenBefore = false;
                int copies = 1;
                for (int j = first; j < first + slotsPerGpu; j++) {
                    if (j != i && placement.expertAt(layer, j) == e) {
                        if (j < i) {
                            seenBefore = true;
                            break;
                        }
                        copies++;
                    }
                }
                if (!seenBefore && copies > 1) {
                    out.add(new Colocation(layer, g, e, copies));
                }
            }
        }
    }

    /**
     * What moving from {@code previous} to {@code next} costs. An expert moves when a GPU holds it in
     * {@code next} but held no replica of it in {@code previous}, in that layer.
     *
     * @throws InvalidInputException if the placements differ in topology or shape
     */
    public static Migration migration(Placement previous, Placement next) {
        if (!previous.topology().equals(next.topology()) || previous.layers() != next.layers()
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
            for (int p = 0; p < topology.replicas(); p++) {
                int e = next.expertAt(l, p);
                if (e != previous.expertAt(l, p)) {
                    changed++;
                }
                int first = topology.gpuOfSlot(p) * slotsPerGpu;
                if (!holds(previous, l, first, slotsPerGpu, e) && !heldEarlier(next, l, first, p, e)) {
                    movedInLayer++;
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
