/**
 * Expert-parallel load balancing (EPLB): the data a balancer reads and writes. {@link io.moelab.eplb.LoadMatrix}
 * holds one window's per-layer, per-expert load, {@link io.moelab.eplb.Topology} the cluster a plan targets, and
 * {@link io.moelab.eplb.Placement} where every replica of every expert lives. Bad input is reported as an
 * {@link io.moelab.eplb.InvalidInputException} whose message starts with the field at fault.
 */
package io.moelab.eplb;
