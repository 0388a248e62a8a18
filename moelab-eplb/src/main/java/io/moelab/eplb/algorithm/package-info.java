/**
 * The load balancers behind {@link io.moelab.eplb.algorithm.BalancerAlgorithm}: moelab's own
 * ({@link io.moelab.eplb.algorithm.MoelabBalancer}: forecast, apportion, pack, and repair toward the placement in
 * service), a port of DeepSeek's EPLB and a load-oblivious baseline, made from command-line specs by
 * {@link io.moelab.eplb.algorithm.Algorithms}.
 */
package io.moelab.eplb.algorithm;
