package io.moelab.bench;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.eval.BenchmarkShape;
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
 * One rebalance (all layers, single thread) per operation, per algorithm and shape. Run with
 * {@code bin/bench EplbBenchmark}; add algorithms with {@code -p algorithm=deepseek,static}.
 *
 * <p>Three forks: where a launch's compiled code lands (address-space randomization, compile order) moves the
 * planners' speed by up to 15% from one JVM to the next on the same build (docs/BENCHMARKS.md, twelfth session), so
 * one fork is one draw of it; the score averages three, and its error includes the spread between them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"-XX:+UseCompactObjectHeaders"})
public class EplbBenchmark {
    /** Algorithm name as on the command line. */
    @Param({"moelab:global", "moelab:hierarchical", "deepseek", "snake"})
    public String algorithm;

    /** Problem shape, see {@link BenchmarkShape}. */
    @Param({"dsv3-prefill", "adrs"})
    public String shape;

    private BalancerAlgorithm balancer;
    private BalancingRequest request;

    /** Loads the shape and the algorithm. */
    @Setup
    public void setUp() {
        BenchmarkShape s = BenchmarkShape.parse(shape);
        LoadMatrix load = s.load();
        Topology topology = s.topology();
        balancer = Algorithms.byName(algorithm);
        request = BalancingRequest.of(load, topology);
    }

    /**
     * One rebalance of every layer.
     *
     * @return the placement, returned so that JMH consumes it and the JIT cannot drop the work
     */
    @Benchmark
    public Placement rebalance() {
        return balancer.rebalance(request);
    }
}
