package io.moelab.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.runtime.bench.ModelBench.Options;
import io.moelab.runtime.bench.ModelBench.Result;
import io.moelab.runtime.bench.SyntheticCheckpoint.Shape;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark on a tiny synthetic model returns positive, self-consistent figures (no speed targets here). */
class ModelBenchTest {
    @TempDir
    Path dir;

    @Test
    void storedF32() throws Exception {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 2);
        Result r = ModelBench.run(d, new Options(WeightFormat.STORED, 6, 4, 2, 0, 3, 9, 0, 0));
        assertThat(r.prefillRuns()).hasSize(3).allSatisfy(v -> assertThat(v).isPositive().isFinite());
        assertThat(r.decodeRuns()).hasSize(3).allSatisfy(v -> assertThat(v).isPositive().isFinite());
        assertThat(r.prefillTokensPerSecond()).isEqualTo(ModelBench.median(r.prefillRuns()));
        assertThat(r.decodeTokensPerSecond()).isEqualTo(ModelBench.median(r.decodeRuns()));
        // Every tensor as F32, the layers' norms included: 4 bytes per parameter.
        assertThat(r.residentWeightBytes()).isEqualTo(r.accountedResidentBytes()).isEqualTo(527_616)
                .isEqualTo(4 * Shape.tiny().parameters());
        assertThat(r.activeBytesPerToken()).isEqualTo(313_600);
        assertThat(r.parameters()).isEqualTo(Shape.tiny().parameters());
        long file = Files.size(d.resolve("model.safetensors"));
        assertThat(r.mappedBytes()).isEqualTo(file);
        assertThat(r.quantizedBytes()).isZero();
        assertThat(r.offHeapBytes()).isEqualTo(file);
        assertThat(r.peakHeapBytes()).isPositive();
        assertThat(r.loadSeconds()).isPositive();
        assertThat(r.achievedGBps()).isCloseTo(313_600 * r.decodeTokensPerSecond() / 1e9, within(1e-12));
        assertThat(r.bandwidthGBps()).isEmpty();
        assertThat(r.rooflineFraction()).isEmpty();
        assertThat(r.rooflineTokensPerSecond()).isEmpty();
        assertThat(r.runBandwidthGBps()).isEmpty();
        assertThat(r.pairedRooflineFraction()).isEmpty();
    }

    @Test
    void randomDecodeInputsAreTheSeededDrawsAndGreedyCountsItsOwn() {
        // Random inputs: timed run r feeds the draws of SplittableRandom(seed + 1 + r) over the vocabulary (64 ids),
        // so the distinct inputs of 3 runs x 12 steps are known without the model.
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 2);
        long seed = 9;
        Result random = ModelBench.run(d, new Options(WeightFormat.STORED, 3, 12, 0, 0, 3, seed, 0, 0,
                ModelBench.DecodeInputs.RANDOM));
        java.util.Set<Integer> drawn = new java.util.HashSet<>();
        for (int r = 0; r < 3; r++) {
            java.util.SplittableRandom draws = new java.util.SplittableRandom(seed + 1 + r);
            for (int i = 0; i < 12; i++) {
                drawn.add(draws.nextInt(Shape.tiny().vocab()));
            }
        }
        assertThat(random.distinctDecodeInputs()).isEqualTo(drawn.size()).isGreaterThan(12);
        assertThat(random.decodeTokenMicros()).hasSize(36);
        // Greedy: the argmaxes, at most one id per step; a tiny random model settles into a short loop.
        Result greedy = ModelBench.run(d, new Options(WeightFormat.STORED, 3, 12, 0, 0, 3, seed, 0, 0));
        assertThat(greedy.options().decodeInputs()).isEqualTo(ModelBench.DecodeInputs.GREEDY);
        assertThat(greedy.distinctDecodeInputs()).isBetween(1, 12);
    }

    @Test
    void int4WithBandwidth() {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.BF16, 2);
        Result r = ModelBench.run(d, new Options(WeightFormat.INT4, 3, 2, 0, 0, 1, 9, 2L << 20, 1));
        WeightAccounting a = WeightAccounting.of(d, WeightFormat.INT4);
        assertThat(r.residentWeightBytes()).isEqualTo(a.residentBytes());
        assertThat(r.quantizedBytes()).isEqualTo(a.quantizedBytes()).isPositive();
        assertThat(r.offHeapBytes()).isEqualTo(r.mappedBytes() + r.quantizedBytes());
        // The embedding (64·64), routers (2·4·64) and norms (final, and two per layer, 5·64·4 bytes as floats) stay
        // BF16 / F32; everything else is quantized.
        assertThat(r.residentWeightBytes()).isEqualTo(r.quantizedBytes() + 64 * 64 * 2 + 2 * 4 * 64 * 2 + 5 * 256);
        double bw = r.bandwidthGBps().orElseThrow();
        assertThat(bw).isPositive();
        assertThat(r.rooflineFraction().orElseThrow()).isCloseTo(r.achievedGBps() / bw, within(1e-12));
        assertThat(r.rooflineTokensPerSecond().orElseThrow() * r.activeBytesPerToken() / 1e9)
                .isCloseTo(bw, within(1e-9 * bw));
        // One run: its reading, taken right after it, pairs with its decode rate.
        assertThat(r.runBandwidthGBps()).hasSize(1).allSatisfy(v -> assertThat(v).isPositive().isFinite());
        assertThat(r.pairedRooflineFraction().orElseThrow()).isCloseTo(
                r.activeBytesPerToken() * r.decodeRuns().get(0) / 1e9 / r.runBandwidthGBps().get(0), within(1e-12));
    }

    @Test
    void warmupRunsStopOnceTheJitSettlesAndStayOutOfTheResults() {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 2);
        Result none = ModelBench.run(d, new Options(WeightFormat.STORED, 3, 2, 0, 0, 2, 9, 0, 0));
        assertThat(none.warmupRunsDone()).isZero();
        assertThat(none.jitSettled()).isFalse();
        Result r = ModelBench.run(d, new Options(WeightFormat.STORED, 3, 2, 0, 25, 2, 9, 0, 0));
        // Settled needs two quiet runs in a row; a JIT still compiling after 25 runs uses them all.
        assertThat(r.warmupRunsDone()).isBetween(JitSettling.QUIET_RUNS, 25);
        // Stopped early only because it settled.
        if (r.warmupRunsDone() < 25) {
            assertThat(r.jitSettled()).isTrue();
        }
        // Only the timed runs are reported: two runs of two decoded tokens.
        assertThat(r.decodeRuns()).hasSize(2);
        assertThat(r.prefillRuns()).hasSize(2);
        assertThat(r.decodeTokenMicros()).hasSize(4);
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 1, 1, 0, -1, 1, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void phasesAreToldInOrderBetweenTheTimedParts() {
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 2);
        java.util.List<String> phases = new java.util.ArrayList<>();
        // 2 warm-up tokens, no warm-up runs, 3 timed runs, a 2 MiB bandwidth reading before and after.
        ModelBench.run(d, new Options(WeightFormat.STORED, 3, 2, 2, 0, 3, 9, 2L << 20, 1), phases::add);
        assertThat(phases).containsExactly("measuring memory bandwidth", "loading", "warm-up: 2 tokens", "run 1 of 3",
                "run 2 of 3", "run 3 of 3", "measuring memory bandwidth");
        // Without a bandwidth reading or warm-up tokens, those phases are not told; warm-up runs are, one by one.
        phases.clear();
        Result r = ModelBench.run(d, new Options(WeightFormat.STORED, 3, 2, 0, 40, 1, 9, 0, 0), phases::add);
        assertThat(phases.getFirst()).isEqualTo("loading");
        assertThat(phases.getLast()).isEqualTo("run 1 of 1");
        assertThat(phases.subList(1, phases.size() - 1)).hasSize(r.warmupRunsDone());
        for (int k = 1; k <= r.warmupRunsDone(); k++) {
            assertThat(phases.get(k)).isEqualTo("warm-up run " + k + " of at most 40 (until the JIT settles)");
        }
    }

    @Test
    void pairedRooflineIsTheMedianOfEachRunAgainstItsOwnReading() {
        // 1 GB per token; runs at 10, 20 and 30 tokens/s read 20, 25 and 60 GB/s right after: 0.5, 0.8 and 0.5 of
        // the bandwidth, median 0.5, where the median decode (20) against the best reading (60) gives 1/3.
        Result r = new Result(Options.defaults(WeightFormat.STORED), 1, 1, 20, List.of(1.0, 1.0, 1.0),
                List.of(10.0, 20.0, 30.0), 1, 1, 1_000_000_000L, 1, 1, 1, 0, 0, 1, OptionalDouble.of(60),
                List.of(20.0, 25.0, 60.0), List.of(50_000.0, 20_000.0, 25_000.0, 400_000.0, 30_000.0), 5, 0, false);
        assertThat(r.pairedRooflineFraction().orElseThrow()).isCloseTo(0.5, within(1e-12));
        assertThat(r.rooflineFraction().orElseThrow()).isCloseTo(1.0 / 3, within(1e-12));
        // Token times of 20, 25, 30, 50 and 400 ms: median 30 ms, 1 GB in 30 ms is 33.3 GB/s, 5/9 of 60 GB/s; the
        // 90th percentile by nearest rank is the fifth of five.
        assertThat(r.medianTokenMicros()).isEqualTo(30_000.0);
        assertThat(r.p90TokenMicros()).isEqualTo(400_000.0);
        assertThat(r.tokenRooflineFraction().orElseThrow()).isCloseTo(5.0 / 9, within(1e-12));
    }

    @Test
    void helpersAndValidation() {
        assertThat(ModelBench.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
        assertThat(ModelBench.median(List.of(4.0, 1.0, 2.0, 3.0))).isEqualTo(2.5);
        assertThat(Options.defaults(WeightFormat.Q8).promptTokens()).isEqualTo(64);
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 0, 1, 0, 0, 1, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 1, 1, 0, 0, 0, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Options(null, 1, 1, 0, 0, 1, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void optionsAtTheirSmallestAreAccepted() {
        Options o = new Options(WeightFormat.STORED, 1, 1, 0, 0, 1, 1, 1, 1);
        assertThat(o.promptTokens()).isEqualTo(1);
        assertThat(new Options(WeightFormat.STORED, 1, 1, 0, 0, 1, 1, 0, 0).bandwidthBytes()).isZero();
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 1, 0, 0, 0, 1, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 1, 1, -1, 0, 1, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 1, 1, 0, 0, 1, 1, -1, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 1, 1, 0, 0, 1, 1, 1, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Options(WeightFormat.STORED, 1, 1, 0, 0, 1, 1, 0, 0, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void eachRunsDecodeRateIsItsTokensOverTheirTimes() {
        // The decode phase is timed once as a whole and once token by token, back to back: the two agree.
        Path d = SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F32, 2);
        Result r = ModelBench.run(d, new Options(WeightFormat.STORED, 3, 5, 0, 0, 3, 9, 0, 0));
        assertThat(r.decodeTokenMicros()).hasSize(15);
        for (int run = 0; run < 3; run++) {
            double micros = 0;
            for (int i = 0; i < 5; i++) {
                micros += r.decodeTokenMicros().get(5 * run + i);
            }
            assertThat(r.decodeRuns().get(run)).as("run %d", run).isCloseTo(5 * 1e6 / micros,
                    within(1e-9 * r.decodeRuns().get(run)));
        }
    }

    @Test
    void offHeapPoolsCountADirectBuffer() {
        // A direct buffer of 8 MiB grows the figure by 8 MiB. (A buffer of an earlier test collected in between
        // would hide part of it: a few tries, any of which must see it.)
        long grown = 0;
        for (int attempt = 0; attempt < 3 && grown < 8 << 20; attempt++) {
            long before = ModelBench.offHeapPools();
            java.nio.ByteBuffer held = java.nio.ByteBuffer.allocateDirect(8 << 20);
            grown = ModelBench.offHeapPools() - before;
            java.lang.ref.Reference.reachabilityFence(held);
        }
        assertThat(grown).isGreaterThanOrEqualTo(8 << 20);
    }

    @Test
    void offHeapPoolsCountAMappedFile() throws Exception {
        // A file of 4 MiB mapped whole grows the JVM's "mapped" pool, which the figure counts, by 4 MiB.
        Path file = Files.write(dir.resolve("mapped.bin"), new byte[4 << 20]);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            long grown = 0;
            for (int attempt = 0; attempt < 3 && grown < 4 << 20; attempt++) {
                long before = ModelBench.offHeapPools();
                java.nio.MappedByteBuffer held = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 4 << 20);
                grown = ModelBench.offHeapPools() - before;
                java.lang.ref.Reference.reachabilityFence(held);
            }
            assertThat(grown).isGreaterThanOrEqualTo(4 << 20);
        }
    }
}
