package io.moelab.eplb.eval;

/**
 * What it costs to go from one placement to the next: expert weights that must be copied onto a GPU that
 * did not already hold that expert in that layer.
 *
 * @param expertsMoved    (layer, GPU, expert) triples present after but not before: expert copies to transfer
 * @param slotsChanged    (layer, slot) pairs whose expert changed
 * @param layersTouched   layers with at least one expert moved
 */
public record Migration(int expertsMoved, int slotsChanged, int layersTouched) {
    /** No change. */
    public static final Migration NONE = new Migration(0, 0, 0);
}
