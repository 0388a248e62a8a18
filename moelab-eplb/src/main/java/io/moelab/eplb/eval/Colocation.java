package io.moelab.eplb.eval;

/**
 * Two or more replicas of one expert on the same GPU in one layer: a slot that adds no balance, since the
 * GPU serves the expert's traffic share either way.
 *
 * @param layer    MoE layer
 * @param gpu      GPU holding the replicas
 * @param expert   logical expert
 * @param replicas how many of its replicas that GPU holds (at least 2)
 */
public record Colocation(int layer, int gpu, int expert, int replicas) {
}
