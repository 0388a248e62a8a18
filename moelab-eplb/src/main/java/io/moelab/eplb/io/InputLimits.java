package io.moelab.eplb.io;

import io.moelab.eplb.Topology;

/**
 * The largest arrays the rebalance input and placement files may hold, checked as the numbers are parsed: a file
 * of a few hundred MB can state more numbers than the heap holds, which ran out of memory (exit 1) instead of being
 * refused. The bounds are those of a trace's step: no layer has more than {@link Topology#MAX_REPLICAS} slots, so
 * none can be planned with more experts or placed with more slots; and no array, whatever its depth, holds more than
 * {@link #MAX_MATRIX} numbers (a placement's {@code log2phy} bounded per layer only, or an array nested deeper than
 * its field allows, could add up without end). A rebalance input's history windows together hold at most
 * {@link #MAX_HISTORY}.
 */
public final class InputLimits {
    /** Most numbers in a row: a layer's experts or slots, or an expert's replicas. */
    public static final int MAX_ROW = Topology.MAX_REPLICAS;
    /** Most numbers in a matrix (the two innermost levels), e.g. a window's layers x experts: 2^24. */
    public static final int MAX_MATRIX = 1 << 24;
    /** Most numbers in all the windows of a rebalance input's {@code history}: 2^24, as in one array. */
    public static final int MAX_HISTORY = MAX_MATRIX;

    /** A {@code [layers][experts]} matrix of loads ({@code weight}, a {@code history} window). */
    static final NumericArray.Limits LOADS = limits("experts per layer", "loads (layers x experts)");
    /** A placement's {@code [layers][slots]} expert ids. */
    static final NumericArray.Limits SLOTS = limits("slots per layer", "slots (layers x slots)");
    /** A placement's {@code [layers][experts]} replica counts. */
    static final NumericArray.Limits COUNTS = limits("experts per layer", "counts (layers x experts)");
    /** A placement's {@code [layers][experts][replicas]} slot numbers; the matrix is one layer's. */
    static final NumericArray.Limits REPLICA_SLOTS = limits("replicas per expert", "slot numbers in a layer");

    private InputLimits() {
    }

    private static NumericArray.Limits limits(String row, String matrix) {
        return new NumericArray.Limits(MAX_ROW, MAX_MATRIX, MAX_MATRIX,
                "has more than " + MAX_ROW + " " + row + ", the most read (a layer has at most " + Topology.MAX_REPLICAS
                        + " slots)",
                "has more than " + MAX_MATRIX + " " + matrix + ", the most read (2^24, far above any model: "
                        + "DeepSeek-V3 has 61 x 256)",
                "has more than " + MAX_MATRIX + " numbers in all, the most read (2^24, far above any model: "
                        + "DeepSeek-V3 has 61 x 256 loads)");
    }

    /** The problem with a history window that takes the history past {@link #MAX_HISTORY}. */
    static final String HISTORY_EXCESS = "brings the history's windows past " + MAX_HISTORY + " numbers in all, the "
            + "most read (2^24: 1,074 windows of DeepSeek-V3's 61 x 256)";

    /**
     * {@link #LOADS} for a window of a history whose earlier windows held {@code before} numbers, fewer than
     * {@link #MAX_HISTORY}: the window may hold what is left.
     */
    static NumericArray.Limits historyWindow(long before) {
        long left = MAX_HISTORY - before;
        return left >= MAX_MATRIX ? LOADS : LOADS.withTotal(left, HISTORY_EXCESS);
    }
}
