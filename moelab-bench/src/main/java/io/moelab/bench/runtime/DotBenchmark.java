package io.moelab.bench.runtime;

import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.Int4Matrix;
import io.moelab.runtime.tensor.Q8Matrix;
import io.moelab.runtime.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One matrix-vector product per operation, on one thread, in each weight format: the decode kernel of the runtime.
 * The primary score is products per second; the {@code gigabytes} counter is the weight and scale bytes read per
 * second (GB/s, 10^9), comparable with the machine's read bandwidth.
 *
 * <p>The product is {@code dotRows} over all rows, which is what each thread of {@code MatVec.multiply}'s product team
 * runs on its chunks; calling it directly keeps every shape single-threaded, so the score is the kernel's.
 * Float weights live off-heap like a mapped checkpoint; quantized ones are quantized from them at setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseCompactObjectHeaders"})
public class DotBenchmark {
    /** Weight format: F32, BF16, Q8 (groups of 32) or INT4 (groups of 64). */
    @Param({"F32", "BF16", "Q8", "INT4"})
    public String format;

    /** {@code rows x cols}: an m100 expert's down projection, and a larger FFN-sized matrix. */
    @Param({"512x448", "1024x2816"})
    public String shape;

    private Arena arena;
    private WeightMatrix w;
    private float[] x;
    private float[] out;

    /** Bytes read, reported by JMH as a rate (GB/s) next to the product rate. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Traffic {
        /** Gigabytes (10^9) of weights and scales read. */
        public double gigabytes;

        /** Starts every iteration from zero. */
        @Setup(Level.Iteration)
        public void reset() {
            gigabytes = 0;
        }
    }

    /** Builds the matrix from seeded Gaussian weights. */
    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        RandomWeights r = RandomWeights.of(shape, arena);
        WeightMatrix source = WeightMatrix.of(DType.F32, r.f32(), r.rows(), r.cols());
        w = switch (format) {
            case "F32" -> source;
            case "BF16" -> WeightMatrix.of(DType.BF16, r.bf16(), r.rows(), r.cols());
            case "Q8" -> Q8Matrix.quantize(source, arena);
            case "INT4" -> Int4Matrix.quantize(source, 64, arena);
            default -> throw new IllegalArgumentException("unknown format " + format);
        };
        x = r.x();
        out = new float[r.rows()];
    }

    /** Frees the off-heap weights. */
    @TearDown
    public void tearDown() {
        arena.close();
    }

    /**
     * One product over every row.
     *
     * @param traffic where the bytes read are counted
     * @return the product, returned so that JMH consumes it and the JIT cannot drop the work
     */
    @Benchmark
    public float[] product(Traffic traffic) {
        w.dotRows(0, w.rows(), x, out);
        traffic.gigabytes += w.bytes() * 1e-9;
        return out;
    }
}
