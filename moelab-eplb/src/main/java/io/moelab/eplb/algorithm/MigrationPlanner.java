package io.moelab.eplb.algorithm;

import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Makes a fresh plan cheap to deploy over the placement in service.
 *
 * <ol>
 *   <li><b>Relabel</b> (free): which GPU gets which planned bin does not change balance, so bins are matched
 *       to GPUs greedily by how many of their experts each GPU already holds (nodes first in hierarchical
 *       mode, then GPUs within nodes), and within a GPU every expert that stays keeps its slot.</li>
 *   <li><b>Repair or keep</b> (bounded): per layer, the previous placement repaired toward the new replica
 *       counts with as few changes as reach nearly the new plan's balance ({@link LayerRepair}), or kept
 *       whole (not where it holds an expert twice on a GPU that the packer would spread), in place of the fresh
 *       plan (hierarchically also a plan on the previous split of groups over
 *       nodes, and the previous layer with one exchange of groups between two nodes, repaired), in order of
 *       experts saved per unit of predicted max load added, while the GPU balancedness
 *       {@code Σ mean / Σ max} falls by at most the tolerance, both on the loads planned on and on the latest
 *       window as observed.</li>
 * </ol>
 * The second check is there because a repaired layer that only fits the smoothed forecast has many GPUs just
 * under the predicted maximum, and the next window's noise lifts the largest of them: judged on the forecast
 * alone, repairs that cost 0.002 of predicted balancedness cost up to 0.005 of realized balancedness on
 * DeepSeek-V3 decode. The observed window carries that noise.
 *
 * <p>With {@code parallel}, the layers' relabeling and options are worked out on the common pool
 * ({@link LayerWorkers}), each layer with scratch no other uses meanwhile; the options are then taken in the same
 * order as one thread would take them, so the result is the same bits.
 */
final class MigrationPlanner {
    private final Topology topology;
    private final int experts;
    private final boolean hierarchical;
    private final int gpus;
    private final int slotsPerGpu;
    private final int blocks;
    private final int gpusPerBlock;
    private final Supplier<LayerPlanner> planners;
    /** Scratch lent to each layer's work, kept for the reconcile's three passes over the layers. */
    private final LayerWorkers<Scratch> workers;

    /**
     * @param planners makes a planner of layers on a given split of groups over nodes (hierarchical mode), one per
     *                 scratch that works on layers, so that the previous split can be kept when regrouping would move
     *                 many experts for little balance
     * @param parallel work out the layers' options on the common pool
     */
    MigrationPlanner(Topology topology, int experts, boolean hierarchical, Supplier<LayerPlanner> planners,
                     boolean parallel) {
        this.planners = planners;
        this.workers = new LayerWorkers<>(parallel, Scratch::new);
        this.topology = topology;
        this.experts = experts;
        this.hierarchical = hierarchical;
        this.gpus = topology.gpus();
        this.slotsPerGpu = topology.slotsPerGpu();
        this.blocks = hierarchical ? topology.nodes() : 1;
        this.gpusPerBlock = gpus / blocks;
    }

    /** What the work on one layer needs: every part holds arrays it overwrites. */
    private final class Scratch {
        final Relabeler relabeler = new Relabeler();
        final LayerRepair repair = new LayerRepair(topology, experts, hierarchical);
        final int[] counts = new int[experts];
        /** Per expert, the stamp of the GPU that holds it (previously or earlier in a row): {@link #moved}'s. */
        final int[] movedMark = new int[experts];
        int movedStamp;
        /** Made on first use: only hierarchical mode plans on a given split. */
        private LayerPlanner planner;

        LayerPlanner planner() {
            if (planner == null) {
                planner = planners.get();
            }
            return planner;
        }
    }

    /**
     * Rewrites {@code phy2log} in place.
     *
     * @param load      {@code [layer][expert]} loads the plan was made for (the prediction)
     * @param observed  {@code [layer][expert]} loads of the latest window, or {@code load} itself when the plan
     *                  was made on that window
     * @param tolerance GPU balancedness that keeping previous layers may cost, on each of the two
     */
    void reconcile(Placement previous, int[][] phy2log, double[][] load, double[][] observed, double tolerance) {
        workers.forEach(phy2log.length, (scratch, l) -> scratch.relabeler.relabel(previous, l, phy2log[l]));
        keepWithinTolerance(previous, phy2log, load, observed, tolerance);
    }

    /** Scratch for relabeling one layer at a time. */
    private final class Relabeler {
        private final int[] firstPrevGpu = new int[experts]; // per expert: index into prevGpuList, or -1
        private final int[] prevGpuList = new int[topology.replicas()];
        private final int[] prevGpuNext = new int[topology.replicas()];
        private final int[] binToGpu = new int[gpus];
        private final boolean[] gpuTaken = new boolean[gpus];
        private final int[] seen = new int[experts];
        private final int[] fresh = new int[topology.replicas()];
        private final int[] blockOf = new int[blocks];
        private final boolean[] blockTaken = new boolean[blocks];
        private final boolean[] freshUsed = new boolean[slotsPerGpu];
        private final boolean[] slotFilled = new boolean[slotsPerGpu];
        /** Per GPU: distinct experts of the bin being indexed that the GPU already holds (zero between bins). */
        private final int[] rowOverlap = new int[gpus];
        /** Per block: the same summed over a block of bins (zero between blocks). */
        private final int[] blockRowOverlap = new int[blocks];
        /**
         * The nonzero overlaps of planned bins with GPUs, in row-major order (bin, then GPU): a bin shares experts
         * with few GPUs (on DeepSeek-V3 decode about 3 of 144). A table of all bins x GPUs took 12 bytes per
         * pair (4 GB on 18,432 GPUs, more than an int counts from 46,341 on) and its scan half of a rebalance.
         */
        private final Entries gpuEntries = new Entries(topology.replicas());
        /** The nonzero overlaps of planned blocks with previous blocks, in row-major order. */
        private final Entries blockEntries = new Entries(blocks);
        private int[] sorted = new int[topology.replicas()];
        private int[] bucketStart = new int[slotsPerGpu + 2];
        private int stamp;

        void relabel(Placement previous, int layer, int[] slots) {
            indexPrevious(previous, layer);
            gpuEntries.clear();
            for (int b = 0; b < gpus; b++) {
                stamp++;
                int rowStart = gpuEntries.count;
                for (int s = b * slotsPerGpu; s < (b + 1) * slotsPerGpu; s++) {
                    int e = slots[s];
                    if (seen[e] == stamp) {
                        continue;
                    }
                    seen[e] = stamp;
                    for (int i = firstPrevGpu[e]; i >= 0; i = prevGpuNext[i]) {
                        int g = prevGpuList[i];
                        if (rowOverlap[g]++ == 0) {
                            gpuEntries.insertInRow(rowStart, b, g); // a few entries a row: insertion
                        }
                    }
                }
                for (int i = rowStart; i < gpuEntries.count; i++) {
                    gpuEntries.value[i] = rowOverlap[gpuEntries.col[i]];
                    rowOverlap[gpuEntries.col[i]] = 0;
                }
            }
            matchBlocks();
            Arrays.fill(gpuTaken, false);
            Arrays.fill(binToGpu, -1);
            for (int blk = 0; blk < blocks; blk++) {
                matchGpus(blk, blockOf[blk]);
            }
            System.arraycopy(slots, 0, fresh, 0, slots.length);
            for (int b = 0; b < gpus; b++) {
                placeBin(previous, layer, b, binToGpu[b], slots);
            }
        }

        /** Links each expert to the GPUs that held it in the previous layer (each GPU once). */
        private void indexPrevious(Placement previous, int layer) {
            Arrays.fill(firstPrevGpu, -1);
            int n = 0;
            for (int g = 0; g < gpus; g++) {
                stamp++;
                for (int s = g * slotsPerGpu; s < (g + 1) * slotsPerGpu; s++) {
                    int e = previous.expertAt(layer, s);
                    if (seen[e] != stamp) {
                        seen[e] = stamp;
                        prevGpuList[n] = g;
                        prevGpuNext[n] = firstPrevGpu[e];
                        firstPrevGpu[e] = n++;
                    }
                }
            }
        }

        /** Planned node blocks to previous node blocks, greedily by overlap (one block in global mode). */
        private void matchBlocks() {
            if (blocks == 1) {
                blockOf[0] = 0;
                return;
            }
            // The GPU entries summed per (bin block, GPU block); bins come in order, so block rows do too.
            blockEntries.clear();
            int i = 0;
            while (i < gpuEntries.count) {
                int rowBlock = gpuEntries.row[i] / gpusPerBlock;
                int rowStart = blockEntries.count;
                for (; i < gpuEntries.count && gpuEntries.row[i] / gpusPerBlock == rowBlock; i++) {
                    int colBlock = gpuEntries.col[i] / gpusPerBlock;
                    if (blockRowOverlap[colBlock] == 0) {
                        blockEntries.insertInRow(rowStart, rowBlock, colBlock);
                    }
                    blockRowOverlap[colBlock] += gpuEntries.value[i];
                }
                for (int j = rowStart; j < blockEntries.count; j++) {
                    blockEntries.value[j] = blockRowOverlap[blockEntries.col[j]];
                    blockRowOverlap[blockEntries.col[j]] = 0;
                }
            }
            Arrays.fill(blockOf, -1);
            Arrays.fill(blockTaken, false);
            greedyMatch(blockEntries, blockOf, blockTaken, 0, 0, blocks, blocks);
        }

        /** Bins of planned block {@code from} to GPUs of previous block {@code to}, greedily by overlap. */
        private void matchGpus(int from, int to) {
            greedyMatch(gpuEntries, binToGpu, gpuTaken, from * gpusPerBlock, to * gpusPerBlock, gpusPerBlock,
                    gpusPerBlock);
        }

        /**
         * Greedy maximum-overlap matching of rows {@code rowStart..+rows} to columns {@code colStart..+cols},
         * whose nonzero overlaps are {@code entries} (row-major): largest overlap first, lowest (row, column) on
         * ties; unmatched rows take the free columns in order. Overlaps are small counts, so the entries are
         * bucketed by value (a counting sort, row-major within a value) rather than scanned for the maximum again
         * and again.
         */
        private void greedyMatch(Entries entries, int[] rowToCol, boolean[] colTaken, int rowStart, int colStart,
                                 int rows, int cols) {
            // Entries are row-major: the rows asked for are one run of them, found by bisection (a scan of every
            // entry per block of bins, three times, cost hierarchical relabeling O(blocks x entries)).
            int lo = entries.firstOfRow(rowStart);
            int hi = entries.firstOfRow(rowStart + rows);
            int maxValue = 0;
            for (int i = lo; i < hi; i++) {
                if (entries.inRange(i, rowStart, colStart, rows, cols)) {
                    maxValue = Math.max(maxValue, entries.value[i]);
                }
            }
            if (bucketStart.length < maxValue + 2) {
                bucketStart = new int[maxValue + 2];
            }
            Arrays.fill(bucketStart, 0, maxValue + 2, 0);
            for (int i = lo; i < hi; i++) {
                if (entries.inRange(i, rowStart, colStart, rows, cols)) {
                    bucketStart[maxValue - entries.value[i] + 1]++;
                }
            }
            for (int v = 0; v <= maxValue; v++) {
                bucketStart[v + 1] += bucketStart[v];
            }
            if (sorted.length < entries.count) {
                sorted = new int[entries.row.length];
            }
            int found = 0;
            for (int i = lo; i < hi; i++) {
                if (entries.inRange(i, rowStart, colStart, rows, cols)) {
                    sorted[bucketStart[maxValue - entries.value[i]]++] = i;
                    found++;
                }
            }
            for (int i = 0; i < found; i++) {
                int r = entries.row[sorted[i]];
                int c = entries.col[sorted[i]];
                if (rowToCol[r] < 0 && !colTaken[c]) {
                    rowToCol[r] = c;
                    colTaken[c] = true;
                }
            }
            int c = colStart;
            for (int r = rowStart; r < rowStart + rows; r++) {
                if (rowToCol[r] < 0) {
                    while (colTaken[c]) {
                        c++;
                    }
                    rowToCol[r] = c;
                    colTaken[c] = true;
                }
            }
        }

        /** Writes planned bin {@code bin} onto GPU {@code gpu}, experts that stay keeping their slots. */
        private void placeBin(Placement previous, int layer, int bin, int gpu, int[] slots) {
            int from = bin * slotsPerGpu;
            int to = gpu * slotsPerGpu;
            Arrays.fill(freshUsed, false);
            Arrays.fill(slotFilled, false);
            for (int j = 0; j < slotsPerGpu; j++) {
                int kept = previous.expertAt(layer, to + j);
                for (int i = 0; i < slotsPerGpu; i++) {
                    if (!freshUsed[i] && fresh[from + i] == kept) {
                        slots[to + j] = kept;
                        freshUsed[i] = true;
                        slotFilled[j] = true;
                        break;
                    }
                }
            }
            int j = 0;
            for (int i = 0; i < slotsPerGpu; i++) {
                if (!freshUsed[i]) {
                    while (slotFilled[j]) {
                        j++;
                    }
                    slots[to + j] = fresh[from + i];
                    slotFilled[j] = true;
                }
            }
        }
    }

    /** Nonzero entries (row, column, value) of an overlap matrix, in row-major order; grows as needed. */
    private static final class Entries {
        int[] row;
        int[] col;
        int[] value;
        int count;

        Entries(int capacity) {
            row = new int[Math.max(1, capacity)];
            col = new int[row.length];
            value = new int[row.length];
        }

        void clear() {
            count = 0;
        }

        /** Adds column {@code c} to the last row {@code r} (which starts at {@code rowStart}), keeping it sorted. */
        void insertInRow(int rowStart, int r, int c) {
            if (count == row.length) {
                int length = Math.max(count + 1, (int) Math.min(Integer.MAX_VALUE - 8, 2L * count));
                row = Arrays.copyOf(row, length);
                col = Arrays.copyOf(col, length);
                value = Arrays.copyOf(value, length);
            }
            int j = count++;
            while (j > rowStart && col[j - 1] > c) {
                col[j] = col[j - 1];
                j--;
            }
            col[j] = c;
            row[count - 1] = r; // every entry of the row has row r
        }

        /** The index of the first entry whose row is at least {@code r} ({@link #count} when none). */
        int firstOfRow(int r) {
            int lo = 0;
            int hi = count;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (row[mid] < r) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        boolean inRange(int i, int rowStart, int colStart, int rows, int cols) {
            int r = row[i] - rowStart;
            int c = col[i] - colStart;
            return r >= 0 && r < rows && c >= 0 && c < cols;
        }
    }

    /**
     * Per layer, the cheapest option that the budget allows: the fresh plan (relabeled), the previous layer
     * repaired toward the fresh plan's replica counts ({@link LayerRepair}), or the previous layer kept whole;
     * hierarchically also the plan on the previous split and one exchange of groups ({@link #exchangeGroups}).
     * Upgrades away from the fresh plan are taken in order of experts saved per unit of predicted max
     * load added, while GPU balancedness {@code Σ mean / Σ max} falls by at most the tolerance on every view of
     * the loads (planned, observed).
     */
    private void keepWithinTolerance(Placement previous, int[][] phy2log, double[][] load, double[][] observed,
                                     double tolerance) {
        int layers = phy2log.length;
        Budget[] budgets = observed == load ? new Budget[] {new Budget(load, layers)}
                : new Budget[] {new Budget(load, layers), new Budget(observed, layers)};
        int[] freshMoves = new int[layers];
        workers.forEach(layers, (scratch, l) -> {
            freshMoves[l] = moved(previous, l, phy2log[l], scratch);
            countReplicas(phy2log[l], scratch.counts);
            for (Budget b : budgets) {
                b.fresh(l, phy2log[l], scratch.counts);
            }
        });
        for (Budget b : budgets) {
            b.sumFresh();
        }
        Budget planned = budgets[0];
        // Slack for a repaired layer: the relative max increase that costs about `tolerance` of balancedness.
        // Without any planned load every option is free (nothing to balance): the previous layers stay whole.
        double slack = planned.maxSum > 0 ? tolerance / Math.max(planned.meanSum / planned.maxSum, 1e-9) : 0;
        @SuppressWarnings("unchecked")
        List<Option>[] byLayer = new List[layers];
        workers.forEach(layers, (scratch, l) -> byLayer[l] = layerOptions(previous, phy2log[l], load[l], l,
                freshMoves[l], budgets, slack, scratch));
        // Layer after layer, as a serial run adds them: the sort below is stable, so ties keep this order.
        List<Option> options = new ArrayList<>();
        for (List<Option> layerOptions : byLayer) {
            options.addAll(layerOptions);
        }
        // Most experts saved per unit of max load added first; free options (nothing added) before all.
        options.sort((x, y) -> Double.compare(y.value(), x.value()));
        int[] chosenSaved = new int[layers];
        for (Option o : options) {
            if (o.saved <= chosenSaved[o.layer]) {
                continue; // the layer already has an option that saves at least as much
            }
            boolean allowed = true;
            for (int v = 0; v < budgets.length && allowed; v++) {
                allowed = budgets[v].allows(o.layer, o.added[v], tolerance);
            }
            if (allowed) {
                for (int v = 0; v < budgets.length; v++) {
                    budgets[v].take(o.layer, o.added[v]);
                }
                chosenSaved[o.layer] = o.saved;
                phy2log[o.layer] = o.slots;
            }
        }
    }

    /**
     * Layer {@code l}'s options in the order they are offered: the previous layer kept whole, hierarchically the
     * plan on the previous split and one exchange of groups, and the previous layer repaired toward the plan.
     *
     * @param fresh      the layer's fresh plan, relabeled
     * @param freshMoves experts the fresh plan moves
     */
    private List<Option> layerOptions(Placement previous, int[] fresh, double[] load, int l, int freshMoves,
                                      Budget[] budgets, double slack, Scratch scratch) {
        if (freshMoves == 0 || (hierarchical && !respectsGroups(previous, l))) {
            return List.of(); // nothing to save, or reusing the previous layer would break the groups
        }
        List<Option> options = new ArrayList<>(4);
        int[] counts = scratch.counts;
        int[] prev = previous.layerPhy2log(l);
        if (!colocatesNeedlessly(prev)) {
            options.add(option(l, prev, freshMoves, budgets, counts));
        }
        // The plan to repair toward: the fresh one, or hierarchically a plan that keeps the previous split
        // of groups over nodes (regrouping a node moves whole groups).
        int[] goal = fresh;
        if (hierarchical) {
            int[] split = previousSplit(prev);
            goal = scratch.planner().planOnNodes(load, split, new int[prev.length]);
            scratch.relabeler.relabel(previous, l, goal);
            options.add(option(l, goal, freshMoves - moved(previous, l, goal, scratch), budgets, counts));
            int[] exchanged = exchangeGroups(prev, split, load, scratch, slack);
            if (exchanged != null) {
                options.add(option(l, exchanged, freshMoves - moved(previous, l, exchanged, scratch), budgets,
                        counts));
            }
        }
        countReplicas(goal, counts);
        double target = maxGpuLoad(goal, load, counts) * (1 + slack);
        int[] repaired = scratch.repair.repair(prev, counts, load, target);
        if (repaired != null) {
            options.add(option(l, repaired, freshMoves - moved(previous, l, repaired, scratch), budgets, counts));
        }
        return options;
    }

    /** An option for layer {@code l}: the max load it adds on each view ({@code counts} is scratch). */
    private Option option(int l, int[] slots, int saved, Budget[] budgets, int[] counts) {
        countReplicas(slots, counts);
        double[] added = new double[budgets.length];
        for (int v = 0; v < budgets.length; v++) {
            added[v] = budgets[v].added(l, slots, counts);
        }
        return new Option(l, slots, saved, added);
    }

    /**
     * One view of the loads: {@code Σ mean} and {@code Σ max} GPU load over layers with the fresh plan, and the
     * max load that the options taken so far add on top.
     */
    private final class Budget {
        private final double[][] load;
        private final double[] freshMean;
        private final double[] freshMax;
        private final double[] takenAdded;
        private double meanSum;
        private double maxSum;
        private double extra;

        Budget(double[][] load, int layers) {
            this.load = load;
            this.freshMean = new double[layers];
            this.freshMax = new double[layers];
            this.takenAdded = new double[layers];
        }

        /** Layer {@code l}'s mean and max GPU load with the fresh plan (each layer by one thread). */
        void fresh(int l, int[] slots, int[] counts) {
            double total = 0;
            for (double v : load[l]) {
                total += v;
            }
            freshMean[l] = total / gpus;
            freshMax[l] = maxGpuLoad(slots, load[l], counts);
        }

        /** Sums the layers' means and maxima in layer order, so that the sums' bits do not depend on the threads. */
        void sumFresh() {
            for (int l = 0; l < freshMax.length; l++) {
                meanSum += freshMean[l];
                maxSum += freshMax[l];
            }
        }

        double added(int l, int[] slots, int[] counts) {
            return maxGpuLoad(slots, load[l], counts) - freshMax[l];
        }

        /** Whether replacing layer {@code l}'s option taken so far by one adding {@code added} stays in budget. */
        boolean allows(int l, double added, double tolerance) {
            if (maxSum <= 0) {
                return true; // a view without load cannot lose balance
            }
            double grown = extra - takenAdded[l] + Math.max(0, added);
            return meanSum / maxSum - meanSum / (maxSum + grown) <= tolerance;
        }

        void take(int l, double added) {
            extra += Math.max(0, added) - takenAdded[l];
            takenAdded[l] = Math.max(0, added);
        }
    }

    /**
     * One alternative for a layer: its slots, experts it saves moving, and the max load it adds on each view of
     * the loads ({@code added[0]}: the loads planned on).
     */
    private record Option(int layer, int[] slots, int saved, double[] added) {
        double value() {
            return added[0] <= 0 ? Double.POSITIVE_INFINITY : saved / added[0];
        }
    }

    /**
     * The previous layer with one pair of groups exchanged between two nodes, the exchange that lowers the
     * largest node load the most, then repaired toward the plan on that split: regrouping often buys a few percent
     * of max load (the fresh plan's split differs from the previous one in most layers of DeepSeek-V3 prefill),
     * and one exchange moves two groups' replicas instead of re-packing every node. Null when no exchange lowers
     * the largest node load or the repair fails.
     *
     * @param scratch the thread's planner, repair and counts
     */
    private int[] exchangeGroups(int[] prev, int[] split, double[] load, Scratch scratch, double slack) {
        int[] counts = scratch.counts;
        int groups = topology.groups();
        int nodes = topology.nodes();
        int perNode = groups / nodes;
        int groupSize = experts / groups;
        double[] groupLoad = new double[groups];
        for (int e = 0; e < experts; e++) {
            groupLoad[e / groupSize] += load[e];
        }
        double[] nodeLoad = new double[nodes];
        for (int i = 0; i < groups; i++) {
            nodeLoad[i / perNode] += groupLoad[split[i]];
        }
        double current = 0;
        for (double v : nodeLoad) {
            current = Math.max(current, v);
        }
        double bestMax = current;
        int bestI = -1;
        int bestJ = -1;
        for (int i = 0; i < groups; i++) {
            for (int j = (i / perNode + 1) * perNode; j < groups; j++) {
                int a = i / perNode;
                int b = j / perNode;
                double d = groupLoad[split[j]] - groupLoad[split[i]];
                double max = Math.max(nodeLoad[a] + d, nodeLoad[b] - d);
                for (int n = 0; n < nodes && max < bestMax; n++) {
                    if (n != a && n != b) {
                        max = Math.max(max, nodeLoad[n]);
                    }
                }
                if (max < bestMax) {
                    bestMax = max;
                    bestI = i;
                    bestJ = j;
                }
            }
        }
        if (bestI < 0) {
            return null;
        }
        int[] newSplit = split.clone();
        newSplit[bestI] = split[bestJ];
        newSplit[bestJ] = split[bestI];
        int[] goal = scratch.planner().planOnNodes(load, newSplit, new int[prev.length]);
        countReplicas(goal, counts);
        double target = maxGpuLoad(goal, load, counts) * (1 + slack);
        int[] blockOfExpert = new int[experts];
        for (int i = 0; i < groups; i++) {
            for (int e = newSplit[i] * groupSize; e < (newSplit[i] + 1) * groupSize; e++) {
                blockOfExpert[e] = i / perNode;
            }
        }
        // The two groups leave their old slots; the repair places their replicas on their new nodes.
        int[] start = prev.clone();
        int gi = split[bestI];
        int gj = split[bestJ];
        for (int s = 0; s < start.length; s++) {
            int g = start[s] / groupSize;
            if (g == gi || g == gj) {
                start[s] = -1;
            }
        }
        return scratch.repair.repair(start, counts, load, target, blockOfExpert);
    }

    /** The groups on each node of a hierarchical layer, node after node ({@link LayerPlanner#planOnNodes}). */
    private int[] previousSplit(int[] slots) {
        int groupSize = experts / topology.groups();
        int groupsPerNode = topology.groups() / topology.nodes();
        int[] split = new int[topology.groups()];
        int[] filled = new int[topology.nodes()];
        boolean[] seen = new boolean[topology.groups()];
        int slotsPerNode = topology.slotsPerNode();
        for (int s = 0; s < slots.length; s++) {
            int g = slots[s] / groupSize;
            if (!seen[g]) {
                seen[g] = true;
                int n = s / slotsPerNode;
                split[n * groupsPerNode + filled[n]++] = g;
            }
        }
        return split;
    }

    private void countReplicas(int[] slots, int[] counts) {
        Arrays.fill(counts, 0);
        for (int e : slots) {
            counts[e]++;
        }
    }

    private double maxGpuLoad(int[] slots, double[] load, int[] counts) {
        double max = 0;
        for (int g = 0, s = 0; g < gpus; g++) {
            double sum = 0;
            for (int end = s + slotsPerGpu; s < end; s++) {
                sum += load[slots[s]] / counts[slots[s]];
            }
            max = Math.max(max, sum);
        }
        return max;
    }

    /**
     * (GPU, expert) pairs of {@code slots} that the previous layer did not have: per GPU, its previous experts are
     * marked, and each slot whose expert is unmarked counts and marks it (a second copy counts once). Linear in the
     * slots; the pairwise scan of each GPU's slots it replaces took 3% of a hierarchical rebalance in service.
     */
    private int moved(Placement previous, int layer, int[] slots, Scratch scratch) {
        int[] movedMark = scratch.movedMark;
        int moved = 0;
        for (int g = 0; g < gpus; g++) {
            int first = g * slotsPerGpu;
            int stamp = ++scratch.movedStamp;
            for (int q = first; q < first + slotsPerGpu; q++) {
                movedMark[previous.expertAt(layer, q)] = stamp;
            }
            for (int s = first; s < first + slotsPerGpu; s++) {
                int e = slots[s];
                if (movedMark[e] != stamp) {
                    movedMark[e] = stamp;
                    moved++;
                }
            }
        }
        return moved;
    }

    /**
     * Whether a GPU holds some expert twice where the packer would not: the expert has no more replicas than its
     * domain (node, or the cluster) has GPUs, or the domain's slots fit every expert on that many GPUs (then the
     * apportionment gives none more). Such a layer is repaired, not kept whole.
     */
    private boolean colocatesNeedlessly(int[] slots) {
        int[] counts = new int[experts];
        for (int e : slots) {
            counts[e]++;
        }
        boolean spreadable = (long) (slots.length / blocks) <= (long) (experts / blocks) * gpusPerBlock;
        for (int first = 0; first < slots.length; first += slotsPerGpu) {
            for (int s = first; s < first + slotsPerGpu; s++) {
                for (int q = first; q < s; q++) {
                    if (slots[q] == slots[s] && (spreadable || counts[slots[s]] <= gpusPerBlock)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Whether every group's replicas sit on one node in the previous layer, G/N groups on each node. */
    private boolean respectsGroups(Placement previous, int layer) {
        int groupSize = experts / topology.groups();
        int[] nodeOfGroup = new int[topology.groups()];
        int[] groupsOnNode = new int[topology.nodes()];
        Arrays.fill(nodeOfGroup, -1);
        for (int s = 0; s < topology.replicas(); s++) {
            int g = previous.expertAt(layer, s) / groupSize;
            int node = topology.nodeOfGpu(topology.gpuOfSlot(s));
            if (nodeOfGroup[g] < 0) {
                nodeOfGroup[g] = node;
                groupsOnNode[node]++;
            } else if (nodeOfGroup[g] != node) {
                return false;
            }
        }
        for (int n : groupsOnNode) {
            if (n != topology.groups() / topology.nodes()) {
                return false;
            }
        }
        return true;
    }
}
