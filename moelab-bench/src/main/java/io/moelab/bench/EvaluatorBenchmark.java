package io.moelab.bench;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.eval.BenchmarkShape;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.eplb.eval.PlacementScore;
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

/** Scoring one placement on one window: the inner loop of every evaluation and simulation. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseCompactObjectHeaders"})
public class EvaluatorBenchmark {
    /** Problem shape, see {@link BenchmarkShape}. */
    @Param({"dsv3-prefill"})
    public String shape;

    private Placement placement;
    private LoadMatrix load;

    /** Plans the placement to score. */
    @Setup
    public void setUp() {
        BenchmarkShape s = BenchmarkShape.parse(shape);
        load = s.load();
        placement = Algorithms.byName("deepseek").rebalance(BalancingRequest.of(load, s.topology()));
    }

    /**
     * One score, colocations included.
     *
     * @return the score, returned so that JMH consumes it and the JIT cannot drop the work
     */
    @Benchmark
    public PlacementScore score() {
        return PlacementEvaluator.score(placement, load);
    }
}
