package io.moelab.sim;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.StaticBalancer;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.sim.cost.MigrationCost;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.cost.Transfer;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulation as it was before it read traces step by step, written plainly as a reference: the whole trace
 * held, rescaled into a second copy up front, each policy run over it in turn, and every window summed afresh from
 * the held steps. Planning time must be given (measured times differ from run to run). With {@code sharedLinks}
 * false, an overlapped transfer is as it was before it shared the links: done once the serving time since the
 * rebalance covers planning and {@link MigrationCost#seconds(ClusterSpec)}, slowing no step.
 */
final class HeldTraceReference {
    private HeldTraceReference() {
    }

    static PolicyResult run(ExpertLoadTrace raw, ModelSpec model, ClusterSpec cluster, Simulation.Options options,
                            Policy policy) {
        return run(raw, model, cluster, options, policy, true);
    }

    static PolicyResult run(ExpertLoadTrace raw, ModelSpec model, ClusterSpec cluster, Simulation.Options options,
                            Policy policy, boolean sharedLinks) {
        List<LoadMatrix> steps = new ArrayList<>();
        for (int t = 0; t < raw.steps(); t++) {
            steps.add(options.tokensPerStep() > 0 ? rescale(raw.step(t), options.tokensPerStep(), model.topK(), t)
                    : raw.step(t));
        }
        Topology topology = new Topology(Simulation.replicas(model.experts(), cluster.gpus(), options.redundant()),
                model.groups(), cluster.nodes(), cluster.gpus());
        Placement initial = new StaticBalancer().rebalance(BalancingRequest.of(raw.step(0), topology));
        BalancerAlgorithm algorithm = policy.balancer();
        int k = options.rebalanceEvery();
        int w = options.window();
        int n = steps.size();
        StepModel stepModel = new StepModel(model, cluster, options.step());
        double[] stepSeconds = new double[n];
        double[] balancedness = new double[n];
        double[] dispatch = new double[n];
        double[] expert = new double[n];
        double[] combine = new double[n];
        double tokens = 0;
        double serving = 0;
        double stalls = 0;
        double compute = 0;
        double planningTotal = 0;
        double migrationTotal = 0;
        double bytes = 0;
        long copies = 0;
        int rebalances = 0;
        int skipped = 0;
        Placement current = initial;
        Placement pending = null;
        double pendingSeconds = 0;
        MigrationCost pendingMigration = null;
        Transfer transfer = null;
        for (int t = 0; t < n; t++) {
            double stall = 0;
            if (algorithm != null && t > 0 && t % k == 0) {
                if (pending != null) {
                    skipped++;
                } else {
                    LoadMatrix latest = LoadMatrix.sum(steps.subList(Math.max(0, t - w), t));
                    List<LoadMatrix> history = new ArrayList<>();
                    for (int j = Math.min(options.historyWindows(), t / w - 1); j >= 1; j--) {
                        int start = t - (j + 1) * w;
                        history.add(LoadMatrix.sum(steps.subList(start, start + w)));
                    }
                    Placement plan = algorithm.rebalance(new BalancingRequest(latest, history, topology, current));
                    double planning = options.planningSeconds();
                    MigrationCost migration = MigrationCost.between(current, plan, model, cluster);
                    rebalances++;
                    planningTotal += planning;
                    if (options.overlapMigration()) {
                        pending = plan;
                        pendingSeconds = planning + migration.seconds(cluster);
                        transfer = sharedLinks ? new Transfer(migration, planning, cluster) : null;
                        pendingMigration = migration;
                    } else {
                        stall = planning + migration.seconds(cluster);
                        current = plan;
                        migrationTotal += migration.seconds(cluster);
                        bytes += migration.bytes();
                        copies += migration.copies();
                    }
                }
            }
            StepModel.StepCost cost = stepModel.step(current, steps.get(t), pending != null ? transfer : null);
            stepSeconds[t] = cost.seconds() + stall;
            balancedness[t] = cost.balancedness();
            dispatch[t] = cost.dispatch();
            expert[t] = cost.compute();
            combine[t] = cost.combine();
            tokens += cost.tokens();
            serving += cost.seconds();
            stalls += stall;
            compute += cost.computeBusy();
            if (pending != null) {
                pendingSeconds -= cost.seconds();
                if (transfer != null ? transfer.done() : pendingSeconds <= 0) {
                    current = pending;
                    pending = null;
                    migrationTotal += transfer != null ? transfer.seconds() : pendingMigration.seconds(cluster);
                    bytes += pendingMigration.bytes();
                    copies += pendingMigration.copies();
                }
            }
        }
        return new PolicyResult(policy.name(), tokens, serving, stalls, compute, rebalances, skipped,
                pending != null ? 1 : 0, planningTotal, migrationTotal, bytes, copies, stepSeconds, balancedness,
                dispatch, expert, combine);
    }

    private static LoadMatrix rescale(LoadMatrix m, double tokensPerStep, int topK, int t) {
        double[] cells = new double[m.layers() * m.experts()];
        m.copyTo(cells);
        double routed = 0;
        for (double v : cells) {
            routed += v;
        }
        double tokens = routed / topK / m.layers();
        double factor = tokens > 0 ? tokensPerStep / tokens : 0;
        for (int i = 0; i < cells.length; i++) {
            cells[i] *= factor;
        }
        return LoadMatrix.ofFlat(m.layers(), m.experts(), cells, "step " + t);
    }
}
