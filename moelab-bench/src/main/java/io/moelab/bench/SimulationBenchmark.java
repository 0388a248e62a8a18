package io.moelab.bench;

import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.sim.Policy;
import io.moelab.sim.Simulation;
import io.moelab.sim.SimulationReport;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
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
 * The serving simulator's target (issue 4): a 1,200-step DeepSeek-V3 trace (58 x 256) on 4 x 8 H100 for three
 * policies, rebalancing every 100 steps with measured planning time (the algorithms' JIT warm-up included, as
 * on the command line). One operation is the whole simulation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseCompactObjectHeaders"})
public class SimulationBenchmark {
    /** Comma-separated policies. */
    @Param({"none,deepseek,moelab"})
    public String policies;

    /** Trace steps. */
    @Param({"1200"})
    public int steps;

    private ExpertLoadTrace trace;

    /** Generates the trace (not timed). */
    @Setup
    public void setUp() {
        trace = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(58, 256, steps, 3));
    }

    /**
     * The whole simulation, every policy.
     *
     * @return the report, returned so that JMH consumes it and the JIT cannot drop the work
     */
    @Benchmark
    public SimulationReport simulate() {
        return new Simulation(trace, ModelSpec.preset("deepseek-v3"), ClusterSpec.preset("4x8-h100"),
                Simulation.Options.of(100, 100)).run(Policy.parseAll(List.of(policies.split(","))),
                Simulation.Progress.NONE);
    }
}
