package io.moelab.eplb;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where every replica of every expert lives, for every MoE layer: the output of a load balancer.
 *
 * <p>It carries the three arrays of DeepSeek's EPLB interface: {@code phy2log[layer][slot]} (the logical
 * expert in each physical slot), {@code logcnt[layer][expert]} (replicas per expert) and
 * {@code log2phy[layer][expert][rank]} (the slots of each expert, padded with -1 to the largest replica count
 * over all layers and experts). Each replica has a rank 0..logcnt-1 within its expert, which orders
 * {@code log2phy}. Instances are immutable and always valid for their {@link Topology}: every slot holds an
 * expert in range, every expert has at least one replica and ranks are a permutation of 0..logcnt-1.
 */
public final class Placement {
    private final Topology topology;
    private final int experts;
    private final int[][] phy2log;
    /**
     * Replica ranks; null until first asked for when they follow slot order ({@link #of}, {@link #ofOwned}):
     * only placement files need them, and balancers build placements on every rebalance. Written once, whole,
     * through the volatile field, so racing readers compute equal arrays and never see a partial one.
     */
    private volatile int[][] rank;
    /**
     * Replicas per expert; null until first asked for in a placement from {@link #ofOwned}, whose validation
     * needs no counts (balancers build placements on every rebalance, and most callers read only slots). Written
     * once, whole, through the volatile field, as {@link #rank}.
     */
    private volatile int[][] logcnt;

    private Placement(Topology topology, int experts, int[][] phy2log, int[][] rank, int[][] logcnt) {
        this.topology = topology;
        this.experts = experts;
        this.phy2log = phy2log;
        this.rank = rank;
        this.logcnt = logcnt;
    }

    /**
     * A placement from {@code phy2log}; replicas of an expert are ranked in ascending slot order.
     *
     * @param topology the cluster; not null
     * @param experts  logical experts per layer, at most {@code topology.replicas()}
     * @param phy2log  {@code [layers][replicas]}: the logical expert in each slot; copied, not kept
     * @throws NullPointerException  if {@code topology} or {@code phy2log} is null
     * @throws InvalidInputException naming {@code phy2log[layer][slot]} or the expert without a replica
     */
    public static Placement of(Topology topology, int experts, int[][] phy2log) {
        requireNonNull(topology, phy2log);
        int[][] copy = copyRows(phy2log, topology, experts);
        int[][] counts = countReplicas(copy, experts);
        requireEveryExpertPlaced(counts);
        return new Placement(topology, experts, copy, null, counts);
    }

    /**
     * A placement that takes ownership of {@code phy2log} (no copy): for balancers that build fresh arrays and
     * never touch them again. Validated like {@link #of} (the same errors), without counting replicas: counts are
     * computed when first asked for. The caller must not change {@code phy2log} (or its rows) afterwards: the
     * placement would no longer be valid nor immutable.
     *
     * @throws NullPointerException  as {@link #of}
     * @throws InvalidInputException as {@link #of}
     */
    public static Placement ofOwned(Topology topology, int experts, int[][] phy2log) {
        requireNonNull(topology, phy2log);
        topology.requireFits(experts);
        if (phy2log.length == 0) {
            throw new InvalidInputException("phy2log", "is empty");
        }
        int replicas = topology.replicas();
        // stamp[e] == l + 1 once layer l has placed expert e: plain stores, where counting is a load, an add and
        // a store per slot (validation in about half the time on DeepSeek-V3 prefill); counts wait until asked for.
        int[] stamp = new int[experts];
        for (int l = 0; l < phy2log.length; l++) {
            int[] row = phy2log[l];
            if (row.length != replicas) {
                throw new InvalidInputException("phy2log[" + l + "]",
                        "has " + row.length + " slots, expected num_replicas=" + replicas);
            }
            int mark = l + 1;
            for (int p = 0; p < replicas; p++) {
                int e = row[p];
                if (e < 0 || e >= experts) {
                    throw new InvalidInputException("phy2log[" + l + "][" + p + "]",
                            "expert " + e + " is out of range 0.." + (experts - 1));
                }
                stamp[e] = mark;
            }
            for (int e = 0; e < experts; e++) {
                if (stamp[e] != mark) {
                    throw noReplica(l, e);
                }
            }
        }
        return new Placement(topology, experts, phy2log, null, null);
    }

    /**
     * A placement from {@code phy2log} and the rank of each slot's replica within its expert, as DeepSeek's
     * EPLB produces it.
     *
     * @param ranks {@code [layers][replicas]}: each slot's replica rank within its expert; copied, as
     *              {@code phy2log} is
     * @throws NullPointerException  if {@code topology}, {@code phy2log} or {@code ranks} is null
     * @throws InvalidInputException if a slot is out of range, an expert has no replica, or the ranks of an
     *                               expert's replicas are not 0..count-1
     */
    public static Placement withRanks(Topology topology, int experts, int[][] phy2log, int[][] ranks) {
        requireNonNull(topology, phy2log);
        Objects.requireNonNull(ranks, "ranks");
        int[][] copy = copyRows(phy2log, topology, experts);
        if (ranks.length != copy.length) {
            throw new InvalidInputException("phyrank", "has " + ranks.length + " layers, expected " + copy.length);
        }
        int[][] counts = new int[copy.length][experts];
        int[][] rankCopy = new int[copy.length][];
        int[] offset = new int[experts];
        boolean[] seen = new boolean[topology.replicas()];
        for (int l = 0; l < copy.length; l++) {
            for (int e : copy[l]) {
                counts[l][e]++;
            }
            if (ranks[l].length != copy[l].length) {
                throw new InvalidInputException("phyrank[" + l + "]",
                        "has " + ranks[l].length + " slots, expected " + copy[l].length);
            }
            rankCopy[l] = ranks[l].clone();
            // Each expert's ranks must be exactly 0..count-1: expert e owns seen[offset[e] .. offset[e]+count).
            for (int e = 0, sum = 0; e < experts; e++) {
                offset[e] = sum;
                sum += counts[l][e];
            }
            Arrays.fill(seen, false);
            for (int p = 0; p < copy[l].length; p++) {
                int e = copy[l][p];
                int r = rankCopy[l][p];
                if (r < 0 || r >= counts[l][e] || seen[offset[e] + r]) {
                    throw new InvalidInputException("phyrank[" + l + "][" + p + "]",
                            "rank " + r + " of expert " + e + " is out of range or repeated");
                }
                seen[offset[e] + r] = true;
            }
        }
        requireEveryExpertPlaced(counts);
        return new Placement(topology, experts, copy, rankCopy, counts);
    }

    private static void requireNonNull(Topology topology, int[][] phy2log) {
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(phy2log, "phy2log");
    }

    private static int[][] copyRows(int[][] phy2log, Topology topology, int experts) {
        if (phy2log.length == 0) {
            throw new InvalidInputException("phy2log", "is empty");
        }
        topology.requireFits(experts);
        int[][] copy = new int[phy2log.length][];
        for (int l = 0; l < phy2log.length; l++) {
            if (phy2log[l].length != topology.replicas()) {
                throw new InvalidInputException("phy2log[" + l + "]",
                        "has " + phy2log[l].length + " slots, expected num_replicas=" + topology.replicas());
            }
            copy[l] = phy2log[l].clone();
            for (int p = 0; p < copy[l].length; p++) {
                if (copy[l][p] < 0 || copy[l][p] >= experts) {
                    throw new InvalidInputException("phy2log[" + l + "][" + p + "]",
                            "expert " + copy[l][p] + " is out of range 0.." + (experts - 1));
                }
            }
        }
        return copy;
    }

    /** The error for a layer that places no replica of an expert, the same whichever factory finds it. */
    private static InvalidInputException noReplica(int layer, int expert) {
        return new InvalidInputException("phy2log[" + layer + "]", "expert " + expert + " has no replica");
    }

    private static void requireEveryExpertPlaced(int[][] counts) {
        for (int l = 0; l < counts.length; l++) {
            for (int e = 0; e < counts[l].length; e++) {
                if (counts[l][e] == 0) {
                    throw noReplica(l, e);
                }
            }
        }
    }

    /** The cluster this placement is for. */
    public Topology topology() {
        return topology;
    }

    /** MoE layers. */
    public int layers() {
        return phy2log.length;
    }

    /** Logical experts per layer. */
    public int experts() {
        return experts;
    }

    /** Physical slots per layer (R). */
    public int replicas() {
        return topology.replicas();
    }

    /**
     * The logical expert in physical slot {@code slot} of {@code layer}.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= layer < layers()} and {@code 0 <= slot < replicas()}
     */
    public int expertAt(int layer, int slot) {
        return phy2log[layer][slot];
    }

    /**
     * The rank (0-based) of the replica in {@code slot} among its expert's replicas.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= layer < layers()} and {@code 0 <= slot < replicas()}
     */
    public int rankAt(int layer, int slot) {
        return ranks()[layer][slot];
    }

    /** The ranks, computed in slot order on first use when none were given. */
    private int[][] ranks() {
        int[][] r = rank;
        if (r == null) {
            r = new int[phy2log.length][];
            int[] seen = new int[experts];
            for (int l = 0; l < phy2log.length; l++) {
                Arrays.fill(seen, 0);
                int[] row = phy2log[l];
                int[] ranks = new int[row.length];
                for (int p = 0; p < row.length; p++) {
                    ranks[p] = seen[row[p]]++;
                }
                r[l] = ranks;
            }
            rank = r;
        }
        return r;
    }

    /** Replicas per expert, counted from the slots on first use when none were given. */
    private int[][] counts() {
        int[][] c = logcnt;
        if (c == null) {
            c = countReplicas(phy2log, experts);
            logcnt = c;
        }
        return c;
    }

    private static int[][] countReplicas(int[][] phy2log, int experts) {
        int[][] counts = new int[phy2log.length][experts];
        for (int l = 0; l < phy2log.length; l++) {
            int[] count = counts[l];
            for (int e : phy2log[l]) {
                count[e]++;
            }
        }
        return counts;
    }

    /**
     * Replicas of {@code expert} in {@code layer}.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= layer < layers()} and {@code 0 <= expert < experts()}
     */
    public int replicaCount(int layer, int expert) {
        return counts()[layer][expert];
    }

    /** The largest replica count over all layers and experts: the width of {@link #log2phy()}. */
    public int maxReplicaCount() {
        int max = 0;
        for (int[] row : counts()) {
            for (int c : row) {
                max = Math.max(max, c);
            }
        }
        return max;
    }

    /** {@code [layers][replicas]}: the logical expert in each slot (a copy). */
    public int[][] phy2log() {
        return deepCopy(phy2log);
    }

    /** {@code [replicas]}: the logical expert in each slot of one layer (a copy). */
    public int[] layerPhy2log(int layer) {
        return phy2log[layer].clone();
    }

    /** {@code [layers][replicas]}: each slot's replica rank within its expert (a copy). */
    public int[][] phyRank() {
        return deepCopy(ranks());
    }

    /** {@code [layers][experts]}: replicas per expert (a copy). */
    public int[][] logcnt() {
        return deepCopy(counts());
    }

    /**
     * {@code [layers][experts][maxReplicaCount]}: the slots of each expert ordered by replica rank, padded
     * with -1.
     */
    public int[][][] log2phy() {
        int width = maxReplicaCount();
        int[][] rank = ranks();
        int[][][] out = new int[phy2log.length][experts][width];
        for (int l = 0; l < phy2log.length; l++) {
            for (int[] slots : out[l]) {
                Arrays.fill(slots, -1);
            }
            for (int p = 0; p < phy2log[l].length; p++) {
                out[l][phy2log[l][p]][rank[l][p]] = p;
            }
        }
        return out;
    }

    private static int[][] deepCopy(int[][] a) {
        int[][] c = new int[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    /** Equal when the topology, the expert in every slot and every replica rank are equal. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Placement p && p.topology.equals(topology) && p.experts == experts
                && Arrays.deepEquals(p.phy2log, phy2log) && Arrays.deepEquals(p.ranks(), ranks());
    }

    @Override
    public int hashCode() {
        return 31 * topology.hashCode() + Arrays.deepHashCode(phy2log);
    }

    @Override
    public String toString() {
        return "Placement[" + layers() + " layers, " + experts + " experts, " + topology + "]";
    }
}
