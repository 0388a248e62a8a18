package io.moelab.runtime.bench;

import io.moelab.runtime.generate.Sampler;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.tensor.WeightSlabs;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Prefill and decode throughput of a {@link MoeModel} on this machine, with its memory and, optionally, the
 * fraction of the measured memory bandwidth that decoding achieves.
 *
 * <p><b>Procedure.</b> Optionally measure the read bandwidth ({@link MemoryBandwidth}, before the model is
 * loaded, its buffer freed again, and once more after the timed runs; the result keeps the higher reading; and
 * once right after each run's decode, for a roofline fraction paired run by run).
 * Reset the heap pools' peaks, note the off-heap buffer pools, load the model.
 * Warm up: {@code warmupTokens} forward passes on a scratch cache and one prefill, then untimed runs shaped as the
 * timed ones (paired bandwidth reading included) until the JIT has settled ({@link JitSettling}: two runs in a row
 * without compilation) or {@code warmupRuns} have run. Then {@code runs} times, each
 * on a fresh KV cache: <i>prefill</i> the same {@code promptTokens} random token ids (drawn from {@code seed}),
 * with one {@link MoeModel#prefill} (batched: layer by layer over the whole prompt, each weight read once); then
 * <i>decode</i> {@code decodeTokens}
 * tokens greedily (each the argmax of the previous logits), or, with {@link DecodeInputs#RANDOM}, each step fed a
 * random token id instead of that argmax (still computed, so a step does the same work): a model with random
 * weights decodes greedily into loops of one token, whose experts then stay in cache (m100 from seed 1 repeats
 * one token ten times), which flatters the token time against memory. Rates are tokens divided by wall time of each
 * phase; the result holds every run's rates and their medians, and every decoded token's own time.
 *
 * <p><b>Token times.</b> On a shared host a run's rate counts every stall of the machine: the same build's per-token
 * times on m100 ranged from 0.39 ms to 5.4 ms within one run (the host taking the vCPU away for milliseconds),
 * and runs from 1000 to 2260 tokens/s. The median token time is what a token costs when the host lets the process
 * run, the figure to hold against the bandwidth reading, which is itself the best of its passes:
 * {@link Result#tokenRooflineFraction}. The rate-based fractions stay beside it.
 *
 * <p><b>Memory.</b> {@code peakHeapBytes} is the sum over heap memory pools of their peak usage since the reset
 * before loading (an upper bound of the peak of the whole heap, as the pools need not peak together; garbage
 * counts until collected, so it reflects the collector's sizing as well as live data). {@code offHeapBytes} is
 * {@code mappedBytes + quantizedBytes} from {@link WeightAccounting}: the checkpoint files are mapped whole
 * (address space backed by the page cache, resident once touched) and quantized weights live in native memory.
 * {@code offHeapPoolBytes} cross-checks it: the growth of the JVM's {@code mapped} and {@code direct} buffer pools'
 * total capacity, plus the {@link WeightSlabs} mapped, from before loading to the end of the last run (native
 * segments of automatic arenas and file mappings are counted in the pools); other allocations or frees in the
 * process during the run distort it.
 */
public final class ModelBench {
    /**
     * Most warm-up runs by default: m100's JIT settled after 8-18 (runs of 64 prompt and 64 decoded tokens, 3-5 s
     * in all); the cap bounds a JVM that never stops compiling.
     */
    public static final int DEFAULT_WARMUP_RUNS = 40;
    /** Timed passes of the bandwidth reading after each run: few, so that it stays close in time to the run. */
    static final int PAIRED_REPEATS = 2;

    private ModelBench() {
    }

    /**
     * What to run.
     *
     * @param format            how projection weights are held
     * @param promptTokens      prompt length (one batched prefill)
     * @param decodeTokens      tokens decoded after the prompt
     * @param warmupTokens      untimed forward passes before the first run
     * @param warmupRuns        most untimed runs after those passes, stopped early once the JIT settles; 0 for none
     * @param runs              timed prefill + decode runs
     * @param seed              seed of the prompt's token ids
     * @param bandwidthBytes    bytes for {@link MemoryBandwidth#measureGBps}, or 0 not to measure
     * @param bandwidthRepeats  timed passes of the bandwidth measurement
     * @param decodeInputs      what each decode step is fed: the previous step's argmax, or a random token id
     */
    public record Options(WeightFormat format, int promptTokens, int decodeTokens, int warmupTokens, int warmupRuns,
                          int runs, long seed, long bandwidthBytes, int bandwidthRepeats, DecodeInputs decodeInputs) {
        /** Checks the values. */
        public Options {
            if (format == null || decodeInputs == null || promptTokens < 1 || decodeTokens < 1 || warmupTokens < 0
                    || warmupRuns < 0 || runs < 1 || bandwidthBytes < 0
                    || (bandwidthBytes > 0 && bandwidthRepeats < 1)) {
                throw new IllegalArgumentException("invalid benchmark options: " + this);
            }
        }

        /** The options with greedy decoding ({@link DecodeInputs#GREEDY}). */
        public Options(WeightFormat format, int promptTokens, int decodeTokens, int warmupTokens, int warmupRuns,
                       int runs, long seed, long bandwidthBytes, int bandwidthRepeats) {
            this(format, promptTokens, decodeTokens, warmupTokens, warmupRuns, runs, seed, bandwidthBytes,
                    bandwidthRepeats, DecodeInputs.GREEDY);
        }

        /**
         * The defaults: 64 prompt tokens, 32 decoded, 256 warm-up passes, at most {@value #DEFAULT_WARMUP_RUNS}
         * warm-up runs, 3 runs, seed 1, bandwidth over 1 GiB, best of 5, greedy decoding.
         */
        public static Options defaults(WeightFormat format) {
            return new Options(format, 64, 32, 256, DEFAULT_WARMUP_RUNS, 3, 1, 1L << 30, 5);
        }
    }

    /** What each decode step is fed. */
    public enum DecodeInputs {
        /** The argmax of the previous step's logits: greedy decoding. */
        GREEDY,
        /**
         * A token id drawn at random (timed run {@code r}'s from {@code new SplittableRandom(seed + 1 + r)}, warm-up
         * runs' from other seeds), after the argmax is computed as in greedy decoding: the same work per step, with
         * the experts varying from step to step as in serving.
         */
        RANDOM
    }

    /**
     * What was measured.
     *
     * @param options                 what was run
     * @param parameters              values of all tensors in the checkpoint
     * @param prefillTokensPerSecond  median over runs of prompt tokens / prefill time (batched prefill)
     * @param decodeTokensPerSecond   median over runs of decoded tokens / decode time
     * @param prefillRuns             each run's prefill rate
     * @param decodeRuns              each run's decode rate
     * @param residentWeightBytes     {@link MoeModel#weightBytes()}
     * @param accountedResidentBytes  the same, from {@link WeightAccounting} (they agree for a model the accounting
     *                                understands)
     * @param activeBytesPerToken     weight bytes read per decoded token ({@link WeightAccounting})
     * @param peakHeapBytes           sum of the heap pools' peaks since before loading
     * @param offHeapBytes            {@code mappedBytes + quantizedBytes}
     * @param mappedBytes             bytes of the mapped checkpoint files
     * @param quantizedBytes          bytes of the load-time quantized weights (native memory)
     * @param offHeapPoolBytes        growth of the JVM's mapped and direct buffer pools plus the {@link WeightSlabs}
     *                                mapped, over the benchmark
     * @param loadSeconds             time to load (map, and quantize when asked)
     * @param bandwidthGBps           measured read bandwidth, if asked
     * @param runBandwidthGBps        when the bandwidth is measured: one reading right after each run's decode (best
     *                                of {@value #PAIRED_REPEATS} passes), in run order; otherwise empty
     * @param decodeTokenMicros       every decoded token's time (its forward pass), in microseconds, runs in order
     * @param distinctDecodeInputs    distinct token ids fed to the timed runs' decode steps (greedy decoding of a
     *                                model with random weights repeats a few)
     * @param warmupRunsDone          untimed runs made before the timed ones
     * @param jitSettled              whether the warm-up runs ended because the JIT had settled (false when they ran
     *                                their full count, or there were none)
     */
    public record Result(Options options, long parameters, double prefillTokensPerSecond,
                         double decodeTokensPerSecond, List<Double> prefillRuns, List<Double> decodeRuns,
                         long residentWeightBytes, long accountedResidentBytes, long activeBytesPerToken,
                         long peakHeapBytes, long offHeapBytes, long mappedBytes, long quantizedBytes,
                         long offHeapPoolBytes, double loadSeconds, OptionalDouble bandwidthGBps,
                         List<Double> runBandwidthGBps, List<Double> decodeTokenMicros, int distinctDecodeInputs,
                         int warmupRunsDone, boolean jitSettled) {
        /** Copies the lists. */
        public Result {
            prefillRuns = List.copyOf(prefillRuns);
            decodeRuns = List.copyOf(decodeRuns);
            runBandwidthGBps = List.copyOf(runBandwidthGBps);
            decodeTokenMicros = List.copyOf(decodeTokenMicros);
        }

        /** The median of {@link #decodeTokenMicros}: a decoded token's typical time. */
        public double medianTokenMicros() {
            return median(decodeTokenMicros);
        }

        /** The 90th percentile of {@link #decodeTokenMicros} (nearest rank). */
        public double p90TokenMicros() {
            double[] v = decodeTokenMicros.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return v[Math.max(0, (int) Math.ceil(0.9 * v.length) - 1)];
        }

        /**
         * Active bytes per token over the median token time, as a fraction of the measured bandwidth, if measured:
         * the typical token against the best bandwidth reading, each robust to the host's stalls in its own way.
         */
        public OptionalDouble tokenRooflineFraction() {
            return bandwidthGBps.isPresent()
                    ? OptionalDouble.of(activeBytesPerToken / (medianTokenMicros() * 1e3) / bandwidthGBps.getAsDouble())
                    : OptionalDouble.empty();
        }

        /**
         * The median over runs of each run's achieved bandwidth (active bytes × its decode tokens/s) as a fraction of
         * the reading taken right after it, if measured: decode and bandwidth side by side, so that a host whose
         * bandwidth drifts (by 2x within minutes on a shared one) is compared with itself. {@link #rooflineFraction}
         * is the conservative reading: a median decode against the best bandwidth seen before or after.
         */
        public OptionalDouble pairedRooflineFraction() {
            if (runBandwidthGBps.isEmpty()) {
                return OptionalDouble.empty();
            }
            List<Double> fractions = new ArrayList<>();
            for (int r = 0; r < decodeRuns.size(); r++) {
                fractions.add(activeBytesPerToken * decodeRuns.get(r) / 1e9 / runBandwidthGBps.get(r));
            }
            return OptionalDouble.of(median(fractions));
        }

        /** Bandwidth decoding achieves: active bytes per token × decode tokens/s, in GB/s (10^9 bytes/s). */
        public double achievedGBps() {
            return activeBytesPerToken * decodeTokensPerSecond / 1e9;
        }

        /** {@link #achievedGBps} as a fraction of the measured bandwidth, if measured. */
        public OptionalDouble rooflineFraction() {
            return bandwidthGBps.isPresent() ? OptionalDouble.of(achievedGBps() / bandwidthGBps.getAsDouble())
                    : OptionalDouble.empty();
        }

        /** Decode tokens/s if every active byte streamed at the measured bandwidth, if measured. */
        public OptionalDouble rooflineTokensPerSecond() {
            return bandwidthGBps.isPresent()
                    ? OptionalDouble.of(bandwidthGBps.getAsDouble() * 1e9 / activeBytesPerToken)
                    : OptionalDouble.empty();
        }
    }

    /**
     * Runs the benchmark on the model in {@code dir}.
     *
     * @throws io.moelab.runtime.ModelFormatException if the model cannot be read
     * @throws IllegalArgumentException               if prompt and decode exceed what a KV cache can hold
     */
    public static Result run(Path dir, Options o) {
        return run(dir, o, phase -> { });
    }

    /**
     * Runs the benchmark on the model in {@code dir}, telling {@code phases} what it starts next: "measuring memory
     * bandwidth", "loading", "warm-up: N tokens", "warm-up run K of at most M (until the JIT settles)", "run R of N",
     * and "measuring memory bandwidth" again. It is told between the timed parts only, never during one, so that
     * showing them costs the measurement nothing (a large model on a small machine takes minutes to get through the
     * warm-up alone).
     *
     * @throws io.moelab.runtime.ModelFormatException if the model cannot be read
     * @throws IllegalArgumentException               if prompt and decode exceed what a KV cache can hold
     */
    public static Result run(Path dir, Options o, Consumer<String> phases) {
        if (o.bandwidthBytes() > 0) {
            phases.accept("measuring memory bandwidth");
        }
        double bandwidthBefore = o.bandwidthBytes() > 0
                ? MemoryBandwidth.measureGBps(o.bandwidthBytes(), o.bandwidthRepeats()) : 0;
        WeightAccounting accounting = WeightAccounting.of(dir, o.format());
        List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).toList();
        heap.forEach(MemoryPoolMXBean::resetPeakUsage);
        long poolsBefore = offHeapPools();
        phases.accept("loading");
        long loadStart = System.nanoTime();
        try (MoeModel model = MoeModel.load(dir, o.format())) {
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            int vocab = model.config().vocabSize();
            SplittableRandom random = new SplittableRandom(o.seed());
            int[] prompt = new int[o.promptTokens()];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = random.nextInt(vocab);
            }
            if (o.warmupTokens() > 0) {
                phases.accept("warm-up: " + o.warmupTokens() + " tokens");
                KvCache scratch = model.newCache(o.warmupTokens());
                for (int i = 0; i < o.warmupTokens(); i++) {
                    model.forward(prompt[i % prompt.length], i, scratch);
                }
                // The batched path too, so that its kernels are compiled before timing.
                model.prefill(prompt, 0, model.newCache(prompt.length), false);
            }
            JitSettling jit = JitSettling.ofThisJvm();
            Runs warmup = new Runs();
            boolean settled = false;
            while (!settled && warmup.count() < o.warmupRuns()) {
                phases.accept("warm-up run " + (warmup.count() + 1) + " of at most " + o.warmupRuns()
                        + " (until the JIT settles)");
                warmup.run(model, prompt, o, -1 - warmup.count());
                settled = jit.runDone();
            }
            Runs timed = new Runs();
            for (int r = 0; r < o.runs(); r++) {
                phases.accept("run " + (r + 1) + " of " + o.runs());
                timed.run(model, prompt, o, r);
            }
            long pools = offHeapPools() - poolsBefore;
            long peakHeap = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
            // Measured again after the runs: a shared host's bandwidth drifts by 2x within minutes, and the higher
            // of the two readings keeps the roofline fraction from flattering a run made in a slow spell.
            if (o.bandwidthBytes() > 0) {
                phases.accept("measuring memory bandwidth");
            }
            OptionalDouble bandwidth = o.bandwidthBytes() > 0 ? OptionalDouble.of(Math.max(bandwidthBefore,
                    MemoryBandwidth.measureGBps(o.bandwidthBytes(), o.bandwidthRepeats()))) : OptionalDouble.empty();
            return new Result(o, accounting.parameters(), median(timed.prefill), median(timed.decode), timed.prefill,
                    timed.decode,
                    model.weightBytes(), accounting.residentBytes(), accounting.activeBytesPerToken(), peakHeap,
                    accounting.mappedBytes() + accounting.quantizedBytes(), accounting.mappedBytes(),
                    accounting.quantizedBytes(), pools, loadSeconds, bandwidth, timed.bandwidth, timed.tokenMicros,
                    (int) timed.inputs.stream().distinct().count(),
                    warmup.count(), settled);
        }
    }

    /** What runs measured, in run order: one prefill, then decoding, then the paired bandwidth reading. */
    private static final class Runs {
        final List<Double> prefill = new ArrayList<>();
        final List<Double> decode = new ArrayList<>();
        final List<Double> bandwidth = new ArrayList<>();
        final List<Double> tokenMicros = new ArrayList<>();
        /** The token ids fed to the decode steps. */
        final List<Integer> inputs = new ArrayList<>();
        /** The argmaxes of random-input runs, summed: stored, so that their computation is never dropped. */
        long argmaxSum;

        int count() {
            return prefill.size();
        }

        /** One run on a fresh KV cache; {@code index} seeds its random inputs (timed runs from 0, warm-up below). */
        void run(MoeModel model, int[] prompt, Options o, int index) {
            KvCache cache = model.newCache(o.promptTokens() + o.decodeTokens());
            boolean random = o.decodeInputs() == DecodeInputs.RANDOM;
            SplittableRandom draws = new SplittableRandom(o.seed() + 1 + index);
            int vocab = model.config().vocabSize();
            int[] fed = new int[o.decodeTokens()];
            long start = System.nanoTime();
            float[] logits = model.prefill(prompt, 0, cache, false)[0];
            long mid = System.nanoTime();
            long before = mid;
            for (int i = 0; i < o.decodeTokens(); i++) {
                int token = Sampler.argmax(logits);
                if (random) {
                    argmaxSum += token;
                    token = draws.nextInt(vocab);
                }
                fed[i] = token;
                logits = model.forward(token, prompt.length + i, cache);
                long after = System.nanoTime();
                tokenMicros.add((after - before) / 1e3);
                before = after;
            }
            for (int token : fed) {
                inputs.add(token);
            }
            prefill.add(prompt.length * 1e9 / Math.max(1, mid - start));
            decode.add(o.decodeTokens() * 1e9 / Math.max(1, before - mid));
            if (o.bandwidthBytes() > 0) {
                bandwidth.add(MemoryBandwidth.measureGBps(o.bandwidthBytes(), PAIRED_REPEATS));
            }
        }
    }

    /**
     * Total capacity of the {@code mapped} and {@code direct} buffer pools, plus the {@link WeightSlabs} mapped now
     * (load-time weights' native memory, which the pools do not see).
     */
    static long offHeapPools() {
        long total = WeightSlabs.mappedBytes();
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("mapped") || b.getName().equals("direct")) {
                total += b.getTotalCapacity();
            }
        }
        return total;
    }

    /** The median (the mean of the middle two for an even count). */
    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
