package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * {@link BalancerAlgorithm} promises that one instance may serve concurrent requests. MoelabBalancer keeps a planner
 * between calls (its scratch) and hands it to whichever call takes it; a planner shared by two calls at once, or one
 * kept for another shape, would show as a placement that differs from the one planned alone.
 */
class ConcurrentRebalanceTest {

    private static LoadMatrix random(Random r, int layers, int experts) {
        double[][] w = new double[layers][experts];
        for (double[] row : w) {
            for (int e = 0; e < experts; e++) {
                row[e] = r.nextInt(4) == 0 ? 0 : r.nextDouble() * (1 + r.nextInt(1000));
            }
        }
        return LoadMatrix.of(w, "w");
    }

    /** Requests of several shapes, so the kept planner often does not fit; with and without history and previous. */
    private static List<BalancingRequest> requests() {
        Random r = new Random(7);
        Topology[] topologies = {new Topology(64, 4, 2, 8), new Topology(48, 4, 2, 4), new Topology(36, 3, 3, 12),
            new Topology(16, 1, 1, 4)};
        int[] experts = {32, 40, 24, 16};
        List<BalancingRequest> out = new ArrayList<>();
        // Most of one larger shape, planned on the latest window (the path that reuses the kept planner): calls long
        // enough to overlap, and a planner that fits the next call.
        Topology large = new Topology(288, 8, 4, 32);
        for (int i = 0; i < 8; i++) {
            out.add(BalancingRequest.of(random(r, 58, 256), large));
        }
        for (int i = 0; i < 16; i++) {
            int t = i % topologies.length;
            int layers = 1 + r.nextInt(5);
            LoadMatrix weight = random(r, layers, experts[t]);
            List<LoadMatrix> history = new ArrayList<>();
            for (int h = 0, n = i % 3 == 0 ? 6 : 0; h < n; h++) {
                history.add(random(r, layers, experts[t]));
            }
            Placement previous = i % 4 == 1
                    ? new DeepSeekBalancer().rebalance(BalancingRequest.of(random(r, layers, experts[t]),
                            topologies[t]))
                    : null;
            out.add(new BalancingRequest(weight, history, topologies[t], previous));
        }
        return out;
    }

    @Test
    void oneBalancerServesConcurrentRequestsAsItServesThemOneByOne() throws Exception {
        List<BalancingRequest> requests = requests();
        List<BalancerAlgorithm> balancers = List.of(new MoelabBalancer(), Algorithms.byName("moelab:parallel=on"),
                new DeepSeekBalancer(), Algorithms.byName("snake"), new StaticBalancer());
        for (BalancerAlgorithm balancer : balancers) {
            List<Placement> alone = requests.stream().map(balancer::rebalance).toList();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Callable<Boolean>> tasks = new ArrayList<>();
                CountDownLatch start = new CountDownLatch(8);
                for (int worker = 0; worker < 8; worker++) {
                    int first = worker;
                    tasks.add(() -> {
                        start.countDown();
                        start.await(); // all at once
                        boolean same = true;
                        for (int round = 0; round < 20; round++) {
                            int i = (first * 5 + round * 3) % requests.size();
                            same &= balancer.rebalance(requests.get(i)).equals(alone.get(i));
                        }
                        return same;
                    });
                }
                for (Future<Boolean> f : pool.invokeAll(tasks)) {
                    assertThat(f.get()).as(balancer.name()).isTrue();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
