/**
 * {@code moelab sim}: replays a trace through an expert-parallel deployment under each policy, and
 * {@code sim sweep} varies the rebalance interval and the redundant experts; tables, JSON and charts of the results.
 */
package io.moelab.cli.sim;
