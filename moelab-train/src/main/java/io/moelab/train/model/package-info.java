/**
 * The trainable MoE transformer in DJL tensors: parameters, attention, the MoE layer with replaceable router and
 * experts.
 */
package io.moelab.train.model;
