package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Topology;
import io.moelab.eplb.io.InputLimits;
import io.moelab.eplb.io.NumericArray;

/**
 * The largest step a trace file may hold, checked by every reader as soon as the shape is known and before the
 * loads are read: a few hundred KiB of gzip or deflate can state 2^28 loads (2 GB as doubles), which ran out of
 * memory after a minute instead of being refused.
 */
final class TraceLimits {
    /**
     * Most experts per layer: a placement has at most {@link Topology#MAX_REPLICAS} slots per layer and every expert
     * needs one, so no trace of more can be planned or simulated.
     */
    static final int MAX_EXPERTS = InputLimits.MAX_ROW;
    /** Most loads (layers x experts) in one step: 2^24, 128 MiB as doubles; DeepSeek-V3 has 61 x 256. */
    static final int MAX_LOADS_PER_STEP = InputLimits.MAX_MATRIX;
    /** The JSON forms' bounds, checked as the numbers are parsed: a row is a layer's experts, a matrix a step. */
    static final NumericArray.Limits JSON = new NumericArray.Limits(MAX_EXPERTS, MAX_LOADS_PER_STEP,
            "has more than " + MAX_EXPERTS + " experts per layer, the most read" + whyExperts(),
            "has more than " + MAX_LOADS_PER_STEP + " loads per step (layers x experts), the most read" + whyLoads());

    private TraceLimits() {
    }

    /**
     * Refuses a step of {@code layers} x {@code experts} past the limits, naming {@code field}; {@code what} names
     * one of the second dimension (expert, or a per_pass dump's physical slot).
     */
    static void requireShape(String field, long layers, long experts, String what) {
        if (experts > MAX_EXPERTS) {
            throw new InvalidInputException(field, "has " + experts + " " + what + "s per layer, more than the "
                    + MAX_EXPERTS + " read" + whyExperts());
        }
        if (layers * experts > MAX_LOADS_PER_STEP) {
            throw new InvalidInputException(field, "has " + Nouns.count(layers, "layer") + " x "
                    + Nouns.count(experts, what) + " = " + layers * experts + " loads per step, more than the "
                    + MAX_LOADS_PER_STEP + " read" + whyLoads());
        }
    }

    private static String whyExperts() {
        return " (a placement has at most " + Topology.MAX_REPLICAS + " slots per layer, so no trace of more can be "
                + "planned)";
    }

    private static String whyLoads() {
        return " (2^24, far above any model: DeepSeek-V3 has 61 x 256)";
    }
}
