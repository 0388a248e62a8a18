/**
 * The MoE transformer: {@link io.moelab.runtime.model.MoeModel} reads a Hugging Face directory of one of the
 * {@link io.moelab.runtime.model.Family families} ({@code config.json}, normalized into
 * {@link io.moelab.runtime.model.ModelConfig}, and safetensors), holds its projections in a
 * {@link io.moelab.runtime.model.WeightFormat}, and computes logits token by token over a
 * {@link io.moelab.runtime.model.KvCache} or for a whole prompt at once. A
 * {@link io.moelab.runtime.model.RoutingListener} hears which experts each token is routed to.
 */
package io.moelab.runtime.model;
