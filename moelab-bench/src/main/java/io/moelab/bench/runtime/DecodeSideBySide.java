package io.moelab.bench.runtime;

import io.moelab.bench.BuildLoader;
import io.moelab.eplb.eval.Stats;
import io.moelab.runtime.generate.Sampler;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Greedy decode of one model by two or more builds of moelab-runtime side by side in one JVM: each build gets its
 * own class loader (and so its own product team), loads the model in the given weight format, and the builds take
 * turns decoding {@code TOKENS} tokens on a fresh KV cache, so that a shared host's drifting load and bandwidth hit
 * them alike. Separate launches of {@code moelab bench}, alternated, spread by 2x on such a host; this compares
 * within a few percent. Prints each build's median and 10th-percentile tokens/s over the rounds and its median
 * relative to the first build.
 *
 * <p>Greedy decode from one token repeats the same tokens, and so the same experts, every turn: those weights stay
 * in the last-level cache. With {@code random}, each step's input token is drawn at random (the same draws for
 * every build in a round), so the experts vary as in serving and the weights come from memory.
 *
 * <p>Usage: {@code DecodeSideBySide CLASSES[,CLASSES...] MODEL_DIR WEIGHTS [TOKENS] [ROUNDS] [greedy|random]}
 * (each CLASSES a classes directory or a jar of moelab-runtime), e.g.
 * {@code /tmp/base/classes,moelab-runtime/target/classes /tmp/m100 INT4_I8 32 40}; WEIGHTS is a
 * {@code WeightFormat} name (STORED, PACKED, Q8, INT4, INT4_I8). Needs {@code --add-modules jdk.incubator.vector}
 * (and {@code --enable-native-access=ALL-UNNAMED} to load weights onto huge-page slabs without a warning);
 * {@code -Dmoelab.threads=N} sets every build's team size. Idle teams' workers spin for up to half a millisecond
 * after their build's turn, a small fraction of a turn (tens of milliseconds).
 */
public final class DecodeSideBySide {
    private static final int WARMUP_TOKENS = 256;

    private DecodeSideBySide() {
    }

    /** One build's loaded model and the handles that decode with it. */
    private record Decoder(Object model, MethodHandle newCache, MethodHandle forward) {
        static Decoder load(String build, Path modelDir, String weights) throws Throwable {
            ClassLoader loader = BuildLoader.of(build, DecodeSideBySide.class);
            Class<?> modelClass = loader.loadClass("io.moelab.runtime.model.MoeModel");
            Class<?> format = loader.loadClass("io.moelab.runtime.model.WeightFormat");
            Class<?> cache = loader.loadClass("io.moelab.runtime.model.KvCache");
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Object value = format.getMethod("valueOf", String.class).invoke(null, weights);
            Object model = modelClass.getMethod("load", Path.class, format).invoke(null, modelDir, value);
            MethodHandle newCache = lookup.findVirtual(modelClass, "newCache", MethodType.methodType(cache, int.class))
                    .bindTo(model).asType(MethodType.methodType(Object.class, int.class));
            MethodHandle forward = lookup.findVirtual(modelClass, "forward",
                            MethodType.methodType(float[].class, int.class, int.class, cache)).bindTo(model)
                    .asType(MethodType.methodType(float[].class, int.class, int.class, Object.class));
            return new Decoder(model, newCache, forward);
        }

        /**
         * Decodes {@code tokens} tokens on a fresh cache, greedily from token 1, or each step's input drawn from
         * {@code random} where given; returns tokens per second.
         */
        double decode(int tokens, SplittableRandom random) throws Throwable {
            Object cache = newCache.invokeExact(tokens);
            int token = 1;
            long start = System.nanoTime();
            for (int i = 0; i < tokens; i++) {
                float[] logits = (float[]) forward.invokeExact(token, i, cache);
                token = random == null ? Sampler.argmax(logits) : random.nextInt(logits.length);
            }
            return tokens * 1e9 / (System.nanoTime() - start);
        }
    }

    /** The formats {@code WEIGHTS} may name: {@code WeightFormat}'s values. */
    static final List<String> FORMATS = List.of("STORED", "PACKED", "Q8", "INT4", "INT4_I8");
    private static final String USAGE = "DecodeSideBySide CLASSES[,CLASSES...] MODEL_DIR WEIGHTS [TOKENS] [ROUNDS]"
            + " [greedy|random]";

    /** The arguments, checked. */
    record Options(String[] builds, Path modelDir, String weights, int tokens, int rounds, boolean random) {
        /**
         * Reads the arguments of the class comment.
         *
         * @throws HarnessArgs.BadArgument the usage line for a wrong count, else a line naming the bad argument
         */
        static Options parse(String[] args) {
            if (args.length < 3 || args.length > 6) {
                throw HarnessArgs.usage(USAGE);
            }
            String[] builds = HarnessArgs.classDirectories("CLASSES", args[0]);
            Path modelDir = HarnessArgs.directory("MODEL_DIR", args[1]);
            String weights = HarnessArgs.oneOf("WEIGHTS", args[2], FORMATS);
            int tokens = args.length > 3 ? HarnessArgs.count("TOKENS", args[3]) : 32;
            int rounds = args.length > 4 ? HarnessArgs.count("ROUNDS", args[4]) : 40;
            boolean random = args.length > 5
                    && HarnessArgs.oneOf("mode", args[5], List.of("greedy", "random")).equals("random");
            return new Options(builds, modelDir, weights, tokens, rounds, random);
        }
    }

    /**
     * Runs the comparison; see the class comment for the arguments. Bad arguments print one line and exit 2.
     *
     * @param args the arguments of the class comment
     * @throws Throwable what the build's code throws, passed on unwrapped through its method handles
     */
    public static void main(String[] args) throws Throwable {
        run(HarnessArgs.parseOrExit(args, Options::parse));
    }

    private static void run(Options options) throws Throwable {
        String[] builds = options.builds();
        Path modelDir = options.modelDir();
        int tokens = options.tokens();
        int rounds = options.rounds();
        boolean random = options.random();
        Decoder[] decoders = new Decoder[builds.length];
        for (int b = 0; b < builds.length; b++) {
            decoders[b] = Decoder.load(builds[b], modelDir, options.weights());
        }
        for (Decoder d : decoders) {
            for (int done = 0; done < WARMUP_TOKENS; done += tokens) {
                d.decode(tokens, random ? new SplittableRandom(done) : null);
            }
        }
        double[][] rates = new double[builds.length][rounds];
        for (int round = 0; round < rounds; round++) {
            // Alternate which build goes first, so neither always follows the other's team.
            for (int k = 0; k < builds.length; k++) {
                int b = (round + k) % builds.length;
                // Both builds get the same tokens in a round; each round new ones, so the experts vary.
                rates[b][round] = decoders[b].decode(tokens, random ? new SplittableRandom(1000 + round) : null);
            }
        }
        System.out.printf(Locale.ROOT, "%s decode, %d tokens per turn (%s), %d rounds; tokens/s:%n",
                options.weights(), tokens, random ? "random inputs" : "greedy", rounds);
        double first = Stats.median(rates[0]);
        for (int b = 0; b < builds.length; b++) {
            double[] sorted = rates[b].clone();
            Arrays.sort(sorted);
            double median = Stats.median(rates[b]);
            System.out.printf(Locale.ROOT, "%-40s median %8.1f  p10 %8.1f  x%.2f%n", builds[b], median,
                    sorted[rounds / 10], median / first);
        }
        for (Decoder d : decoders) {
            ((AutoCloseable) d.model()).close();
        }
    }
}
