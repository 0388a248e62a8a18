package io.moelab.runtime.model;

/** Hears which experts each token is routed to, for expert-load traces. */
@FunctionalInterface
public interface RoutingListener {

    /**
     * One token's routing in one MoE layer.
     *
     * @param layer   the decoder layer
     * @param experts the chosen experts, most probable first (do not keep the array)
     */
    void routed(int layer, int[] experts);

    /** Hears nothing. */
    RoutingListener NONE = (layer, experts) -> { };
}
