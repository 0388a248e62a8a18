package io.moelab.bench;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.eval.EplbSuite;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One rebalance in service per operation: the suite's drifting traffic ({@link EplbSuite#drifting()}), its last
 * {@value #REQUESTS} windows in turn, each with up to 32 earlier windows as history and the placement the window
 * before produced in service, as {@code eplb report}'s windowed evaluation plans them (forecast, hedge and migration
 * included, which {@link EplbBenchmark} leaves out). Run with {@code bin/bench EplbHistoryBenchmark}.
 *
 * <p>The windows are taken in turn rather than one request repeated: the balancer keeps the last forecast's
 * per-window shares, so a repeated request would time a forecast with nothing new to read.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"-XX:+UseCompactObjectHeaders"})
public class EplbHistoryBenchmark {
    /** Windows taken in turn. */
    static final int REQUESTS = 12;
    /** Earlier windows each request carries, at most (as {@code eplb report}). */
    static final int HISTORY = 32;

    /**
     * Algorithm name as on the command line ({@code moelab}: hierarchical where groups divide nodes; with
     * {@code parallel=on} the layers' plans and migration options on all cores).
     */
    @Param({"moelab", "moelab:global", "moelab:parallel=on", "deepseek"})
    public String algorithm;

    /** A drifting case of {@link EplbSuite}: {@code adrs-26x64}, {@code dsv3-prefill} or {@code dsv3-decode}. */
    @Param({"adrs-26x64", "dsv3-prefill", "dsv3-decode"})
    public String shape;

    private BalancerAlgorithm balancer;
    private BalancingRequest[] requests;
    private int next;

    /** Builds the trace's windows and plans them in order, keeping the last requests with their placements. */
    @Setup
    public void setUp() {
        EplbSuite.Case c = EplbSuite.drifting().stream().filter(k -> k.name().equals(shape)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no drifting case " + shape));
        List<LoadMatrix> windows = c.trace().get().windows(c.window());
        balancer = Algorithms.byName(algorithm);
        List<BalancingRequest> kept = new ArrayList<>();
        Placement previous = null;
        for (int i = 0; i < windows.size(); i++) {
            BalancingRequest request = new BalancingRequest(windows.get(i),
                    windows.subList(Math.max(0, i - HISTORY), i), c.topology(), previous);
            if (i >= windows.size() - REQUESTS) {
                kept.add(request);
            }
            previous = balancer.rebalance(request);
        }
        requests = kept.toArray(BalancingRequest[]::new);
    }

    /**
     * The next window's rebalance.
     *
     * @return the placement, returned so that JMH consumes it and the JIT cannot drop the work
     */
    @Benchmark
    public Placement rebalance() {
        BalancingRequest request = requests[next];
        next = next + 1 == requests.length ? 0 : next + 1;
        return balancer.rebalance(request);
    }
}
