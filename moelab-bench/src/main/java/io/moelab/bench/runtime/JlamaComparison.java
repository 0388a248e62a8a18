package io.moelab.bench.runtime;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.functions.Generator;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import com.github.tjake.jlama.util.PhysicalCoreExecutor;
import io.moelab.eplb.eval.Stats;
import io.moelab.runtime.generate.Sampler;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.ProductTeam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Decode speed of moelab's runtime side by side with Jlama (com.github.tjake:jlama-core 0.8.4, pure Java, Vector
 * API) on one random Mixtral-layout checkpoint that both engines load from the same directory.
 *
 * <p>For each stored type (F32, BF16) it writes the model ({@code config.json}, a byte-fallback BPE
 * {@code tokenizer.json} that Jlama's {@code LlamaTokenizer} requires, sharded safetensors with an index), loads
 * it in both engines, warms both up, then runs {@code --rounds} rounds that alternate which engine goes first.
 * Every run processes the same prompt and then decodes {@code --tokens} tokens greedily; only the decode steps
 * are timed. Three runs per round:
 * <ul>
 *   <li>{@code moelab}: {@link MoeModel#forward} per token plus an argmax over the logits, timed with
 *       {@link System#nanoTime()};</li>
 *   <li>{@code jlama generate}: Jlama's own API, {@code AbstractModel.generate(session, PromptContext, 0f,
 *       promptTokens + N, callback)}, temperature 0 (argmax); decode speed is its {@code Response.generatedTokens
 *       / generateTimeMs}, which Jlama times itself after the prompt batch (millisecond clock);</li>
 *   <li>{@code jlama loop}: the decode steps of {@code generate} driven directly, the exact analogue of the
 *       moelab loop: the prompt token by token (untimed), then per token {@code forward(token, pos, kvBuffer,
 *       Optional.empty())} and {@code sample(out, 0f, 0f, logits)}, with an in-memory ("ephemeral") KV buffer
 *       from {@code new KvBufferCache(model)}, timed with {@code nanoTime}.</li>
 * </ul>
 * The table reports the median tokens/s of each and the ratio of moelab's median to that row's. Both engines
 * use every core: moelab's matrix-vector products run on the common fork/join pool plus the calling thread, and
 * Jlama's {@code PhysicalCoreExecutor} is set to {@code availableProcessors()} threads.
 *
 * <p>Run (after {@code ./mvnw -q -B -DskipTests package}) with a JDK 25:
 * <pre>
 * "$JAVA_HOME"/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx12g \
 *     -cp moelab-bench/target/benchmarks.jar io.moelab.bench.runtime.JlamaComparison \
 *     [--out DIR] [--tokens 64] [--rounds 5] [--dtypes F32,BF16] [--weights stored|packed] [--keep]
 *     [--hidden 1024] [--layers 8] [--heads 16] [--kv-heads 8] [--experts 8] [--top-k 2]
 *     [--intermediate 2048] [--vocab 32000]
 * </pre>
 * Both engines need {@code --add-modules jdk.incubator.vector} (the JVM prints an incubator warning); Jlama needs
 * no {@code --enable-preview} or {@code --enable-native-access} (JDK 25 warns once that its
 * {@code UnsafeDirectByteBuffer} calls the terminally deprecated {@code sun.misc.Unsafe::objectFieldOffset}). Jlama
 * loads {@code config.json} ({@code model_type} picks {@code MixtralModel}; it also reads {@code hidden_act},
 * {@code bos_token_id}, {@code eos_token_id}, {@code max_position_embeddings}), {@code tokenizer.json} (required by
 * its {@code LlamaTokenizer}) and {@code model.safetensors} or {@code model.safetensors.index.json} with shards;
 * F32 and BF16 checkpoints both load and run.
 *
 * <p>Two Jlama 0.8.4 behaviours matter when reading the output. Its {@code MoEBlock} adds the outputs of the
 * selected experts without weighting them by the router probabilities, so with top-2 routing its greedy tokens
 * differ from moelab's (and from Hugging Face Mixtral); with {@code --top-k 1}, where the weight is 1, the F32
 * tokens agree (for BF16 only the first few: Jlama rounds activations to BF16, moelab keeps them F32, and the
 * random model's top logits are close), which checks that both engines read the same checkpoint the same way.
 * And its batched prompt path writes
 * the first expert's output of every batch row into row 0, so {@code generate} starts decoding from a wrong KV
 * cache; this changes its tokens, not its decode speed. Both do the same work per decode token as moelab.
 *
 * <p>Jlama logs
 * through slf4j-api without a provider, so its log lines are dropped (slf4j prints one notice). Without
 * {@code --out} the model goes to a temporary directory that is deleted at the end unless {@code --keep}.
 */
public final class JlamaComparison {
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final String PROMPT = "The quick brown fox";

    private JlamaComparison() {
    }

    /** Model shape. */
    record Shape(int vocab, int hidden, int layers, int heads, int kvHeads, int experts, int topK, int intermediate) {
        long activeParams() {
            int headDim = hidden / heads;
            long attn = (long) hidden * heads * headDim * 2 + (long) hidden * kvHeads * headDim * 2;
            long moe = (long) topK * 3 * hidden * intermediate + (long) experts * hidden;
            return layers * (attn + moe) + (long) vocab * hidden;
        }

        long totalParams() {
            int headDim = hidden / heads;
            long attn = (long) hidden * heads * headDim * 2 + (long) hidden * kvHeads * headDim * 2;
            long moe = (long) experts * 3 * hidden * intermediate + (long) experts * hidden;
            return layers * (attn + moe + 2L * hidden) + 2L * vocab * hidden + hidden;
        }
    }

    /** One row of the result table. */
    private record Row(String engine, String dtype, double[] tokensPerSecond, String note) {
    }

    /**
     * Runs the comparison and prints the table; the options are those of the class comment. Bad options print one
     * line and exit 2.
     *
     * @param args the options of the class comment
     * @throws Exception from writing the checkpoint or from either engine
     */
    public static void main(String[] args) throws Exception {
        run(HarnessArgs.parseOrExit(args, Options::parse));
    }

    /** The options, checked. */
    record Options(int tokens, int rounds, boolean keep, WeightFormat weights, Shape shape, List<DType> dtypes,
                   String out) {
        /** The options that take a value, with their defaults ({@code out}: none, a temporary directory). */
        private static final Map<String, String> DEFAULTS = defaults();

        private static Map<String, String> defaults() {
            Map<String, String> m = new LinkedHashMap<>();
            for (String[] kv : new String[][] {{"out", ""}, {"tokens", "64"}, {"rounds", "5"}, {"dtypes", "F32,BF16"},
                {"weights", "stored"}, {"hidden", "1024"}, {"layers", "8"}, {"heads", "16"}, {"kv-heads", "8"},
                {"experts", "8"}, {"top-k", "2"}, {"intermediate", "2048"}, {"vocab", "32000"}}) {
                m.put(kv[0], kv[1]);
            }
            return m;
        }

        /**
         * Reads the options of the class comment.
         *
         * @throws HarnessArgs.BadArgument a line naming the bad option (unknown, without its value, or a bad value)
         */
        static Options parse(String[] args) {
            Map<String, String> opt = JlamaComparison.parse(args);
            for (String key : opt.keySet()) {
                if (!key.equals("keep") && !DEFAULTS.containsKey(key)) {
                    // A mistyped option (--token 8) ran the default for minutes.
                    throw new HarnessArgs.BadArgument("error: unknown option --" + key + " (options: --"
                            + String.join(", --", DEFAULTS.keySet()) + ", --keep)");
                }
            }
            java.util.function.Function<String, Integer> count =
                    key -> HarnessArgs.count("--" + key, opt.getOrDefault(key, DEFAULTS.get(key)));
            // moelab's weight layout: as stored (memory-mapped), or packed at load (F32 only; others stay stored).
            List<String> formats = Arrays.stream(WeightFormat.values()).map(f -> f.name().toLowerCase(Locale.ROOT))
                    .toList();
            WeightFormat weights = WeightFormat.valueOf(HarnessArgs.oneOf("--weights", opt.getOrDefault("weights",
                    "stored").toLowerCase(Locale.ROOT), formats).toUpperCase(Locale.ROOT));
            Shape shape = new Shape(count.apply("vocab"), count.apply("hidden"), count.apply("layers"),
                    count.apply("heads"), count.apply("kv-heads"), count.apply("experts"), count.apply("top-k"),
                    count.apply("intermediate"));
            List<String> types = Arrays.stream(DType.values()).map(DType::name).toList();
            List<DType> dtypes = Arrays.stream(opt.getOrDefault("dtypes", "F32,BF16").split(","))
                    .map(t -> DType.valueOf(HarnessArgs.oneOf("--dtypes", t.strip().toUpperCase(Locale.ROOT),
                            types))).toList();
            return new Options(count.apply("tokens"), count.apply("rounds"), opt.containsKey("keep"), weights, shape,
                    dtypes, opt.get("out"));
        }
    }

    private static void run(Options options) throws Exception {
        int tokens = options.tokens();
        int rounds = options.rounds();
        boolean keep = options.keep();
        WeightFormat weights = options.weights();
        Shape shape = options.shape();
        List<DType> dtypes = options.dtypes();
        Path root = options.out() != null ? Path.of(options.out()) : Files.createTempDirectory("moelab-vs-jlama");
        boolean deleteRoot = options.out() == null && !keep;

        int cpus = Runtime.getRuntime().availableProcessors();
        PhysicalCoreExecutor.overrideThreadCount(cpus);
        System.out.printf(Locale.ROOT, "JDK %s, %d CPUs (moelab: product team of %d threads, caller included, weights "
                        + "%s; Jlama: %d threads), Jlama tensor ops: %s%n", Runtime.version(), cpus,
                ProductTeam.shared().threads(), weights.name().toLowerCase(Locale.ROOT), cpus,
                TensorOperationsProvider.get().name());
        System.out.printf(Locale.ROOT, "model: Mixtral layout, vocab %d, hidden %d, %d layers, %d heads / %d KV "
                        + "heads, %d experts top-%d, intermediate %d: %.0fM parameters, %.0fM active per token%n",
                shape.vocab, shape.hidden, shape.layers, shape.heads, shape.kvHeads, shape.experts, shape.topK,
                shape.intermediate, shape.totalParams() / 1e6, shape.activeParams() / 1e6);
        System.out.printf(Locale.ROOT, "prompt %s, %d decode tokens per run, %d rounds (alternating order), "
                + "greedy%n", PROMPT.length() + 1 + " tokens", tokens, rounds);

        List<Row> rows = new ArrayList<>();
        try {
            for (DType dtype : dtypes) {
                Path dir = root.resolve(dtype.name().toLowerCase(Locale.ROOT));
                long t0 = System.nanoTime();
                writeModel(dir, shape, dtype);
                System.out.printf(Locale.ROOT, "%n[%s] wrote %s in %.1f s%n", dtype, dir,
                        (System.nanoTime() - t0) / 1e9);
                rows.addAll(compare(dir, dtype, tokens, rounds, weights));
                if (!keep) {
                    deleteTree(dir);
                }
            }
        } finally {
            if (deleteRoot) {
                deleteTree(root);
            }
        }

        System.out.println();
        System.out.println("| engine | dtype | median decode tok/s | runs (tok/s) | moelab / this |");
        System.out.println("|---|---|---:|---|---:|");
        for (Row r : rows) {
            double moelab = rows.stream().filter(x -> x.dtype.equals(r.dtype) && x.engine.equals("moelab"))
                    .mapToDouble(x -> Stats.median(x.tokensPerSecond)).findFirst().orElse(Double.NaN);
            StringBuilder runs = new StringBuilder();
            for (double v : r.tokensPerSecond) {
                runs.append(runs.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", v));
            }
            double median = Stats.median(r.tokensPerSecond);
            System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %s | %s |%n", r.engine, r.dtype, median, runs,
                    r.engine.equals("moelab") ? "1.00" : String.format(Locale.ROOT, "%.2f", moelab / median));
        }
        for (Row r : rows) {
            if (r.note != null) {
                System.out.println(r.dtype + " " + r.engine + ": " + r.note);
            }
        }
    }

    private static List<Row> compare(Path dir, DType dtype, int tokens, int rounds, WeightFormat weights) {
        MoeModel moelab = MoeModel.load(dir, weights);
        int topK = moelab.config().topK();
        // Working memory F32 and Jlama's default working quantization I8; for an F32 or BF16 checkpoint Jlama
        // itself switches the quantized working type to the checkpoint's (see AbstractModel's constructor).
        AbstractModel jlama = ModelSupport.loadModel(dir.toFile(), null,
                com.github.tjake.jlama.safetensors.DType.F32, com.github.tjake.jlama.safetensors.DType.I8,
                Optional.empty(), Optional.empty());
        int[] prompt = jlama.encodePrompt(PromptContext.of(PROMPT));
        System.out.printf(Locale.ROOT, "[%s] prompt token ids %s%n", dtype, Arrays.toString(prompt));

        // Warm-up: JIT both engines' decode paths.
        int[] moelabTokens = null;
        int[] jlamaTokens = null;
        for (int i = 0; i < 2; i++) {
            Result m = moelabDecode(moelab, prompt, tokens);
            Result j = jlamaLoop(jlama, prompt, tokens);
            Result g = jlamaGenerate(jlama, prompt, tokens);
            moelabTokens = m.tokens;
            jlamaTokens = j.tokens;
            System.out.printf(Locale.ROOT, "[%s] warm-up %d: moelab %.1f, jlama loop %.1f, jlama generate %.1f tok/s%n",
                    dtype, i + 1, m.tokensPerSecond, j.tokensPerSecond, g.tokensPerSecond);
        }
        int agree = 0;
        while (agree < tokens && moelabTokens[agree] == jlamaTokens[agree]) {
            agree++;
        }
        String agreement = String.format(Locale.ROOT, "greedy tokens agree with moelab for the first %d of %d "
                + "(moelab %s..., jlama %s...)", agree, tokens, head(moelabTokens), head(jlamaTokens));
        if (topK > 1) {
            agreement += "; with top-k > 1 they are expected to differ: Jlama 0.8.4's MoEBlock adds the selected "
                    + "experts' outputs without weighting them by the router probabilities (with --top-k 1 the "
                    + "two engines agree)";
        }
        System.out.printf(Locale.ROOT, "[%s] %s%n", dtype, agreement);

        double[] m = new double[rounds];
        double[] j = new double[rounds];
        double[] g = new double[rounds];
        String generateNote = null;
        for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
                m[r] = moelabDecode(moelab, prompt, tokens).tokensPerSecond;
                j[r] = jlamaLoop(jlama, prompt, tokens).tokensPerSecond;
                Result gr = jlamaGenerate(jlama, prompt, tokens);
                g[r] = gr.tokensPerSecond;
                generateNote = gr.note == null ? generateNote : gr.note;
            } else {
                Result gr = jlamaGenerate(jlama, prompt, tokens);
                g[r] = gr.tokensPerSecond;
                generateNote = gr.note == null ? generateNote : gr.note;
                j[r] = jlamaLoop(jlama, prompt, tokens).tokensPerSecond;
                m[r] = moelabDecode(moelab, prompt, tokens).tokensPerSecond;
            }
            System.out.printf(Locale.ROOT, "[%s] round %d: moelab %.2f, jlama loop %.2f, jlama generate %.2f tok/s%n",
                    dtype, r + 1, m[r], j[r], g[r]);
        }
        Optional<java.io.File> kvDir = jlama.getConfig().workingDirectory();
        jlama.close();
        moelab.close();
        // generate() keeps its KV pages in files under a temporary working directory that Jlama leaves behind.
        kvDir.ifPresent(d -> deleteTree(d.toPath()));
        return List.of(new Row("moelab", dtype.name(), m, agreement), new Row("jlama loop", dtype.name(), j, null),
                new Row("jlama generate", dtype.name(), g, generateNote));
    }

    private static String head(int[] t) {
        return Arrays.toString(Arrays.copyOf(t, Math.min(8, t.length)));
    }

    /** Decode speed and the greedy tokens decoded. */
    private record Result(double tokensPerSecond, int[] tokens, String note) {
    }

    private static Result moelabDecode(MoeModel model, int[] prompt, int n) {
        KvCache cache = model.newCache(prompt.length + n + 1);
        float[] logits = null;
        int pos = 0;
        for (int t : prompt) {
            logits = model.forward(t, pos++, cache);
        }
        int next = Sampler.argmax(logits);
        int[] out = new int[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            logits = model.forward(next, pos++, cache);
            next = Sampler.argmax(logits);
            out[i] = next;
        }
        long ns = System.nanoTime() - start;
        return new Result(n / (ns / 1e9), out, null);
    }


    private static Result jlamaLoop(AbstractModel model, int[] prompt, int n) {
        KvBufferCache kvCache = new KvBufferCache(model);
        try (KvBufferCache.KvBuffer kv = kvCache.getEphemeralKvBuffer();
             AbstractTensor<?, ?> logits = model.makeDenseTensor(model.getConfig().vocabularySize)) {
            // The prompt one token at a time, as Jlama's own batchForwardSlow does: its batched path,
            // batchForward, is wrong for MoE models in 0.8.4 (MoEBlock writes the first expert's output of every
            // batch row into row 0), which would make the greedy tokens useless as a cross-check. Untimed.
            AbstractTensor<?, ?> last = null;
            for (int p = 0; p < prompt.length; p++) {
                if (last != null) {
                    last.close();
                }
                last = model.forward(prompt[p], p, kv, Optional.empty());
                kv.incrementContextPosition();
            }
            int next = model.sample(last, 0f, 0f, logits);
            last.close();
            int[] out = new int[n];
            int pos = prompt.length;
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                AbstractTensor<?, ?> output = model.forward(next, pos++, kv, Optional.empty());
                next = model.sample(output, 0f, 0f, logits);
                output.close();
                kv.incrementContextPosition();
                out[i] = next;
            }
            long ns = System.nanoTime() - start;
            return new Result(n / (ns / 1e9), out, null);
        }
    }

    private static Result jlamaGenerate(AbstractModel model, int[] prompt, int n) {
        Generator.Response r = model.generate(UUID.randomUUID(), PromptContext.of(PROMPT), 0f, prompt.length + n,
                (text, ms) -> { });
        String note = null;
        if (r.generatedTokens != n) {
            note = "generate stopped after " + r.generatedTokens + " of " + n + " tokens (" + r.finishReason + ")";
        }
        return new Result(r.generatedTokens / (r.generateTimeMs / 1e3), null, note);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The checkpoint

    /**
     * Writes a random Mixtral-layout model: config.json, tokenizer.json (Llama-style: {@code <unk>}, {@code <s>},
     * {@code </s>}, the 256 byte-fallback tokens {@code <0x00>}..{@code <0xFF>}, then filler pieces), and one
     * safetensors shard per layer plus one for the embeddings, final norm and output head, with an index.
     */
    static void writeModel(Path dir, Shape s, DType dtype) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "vocab_size": %d,
                 "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d,
                 "intermediate_size": %d, "num_local_experts": %d, "num_experts_per_tok": %d, "rms_norm_eps": 1e-5,
                 "rope_theta": 1000000.0, "max_position_embeddings": 4096, "hidden_act": "silu",
                 "bos_token_id": %d, "eos_token_id": %d, "tie_word_embeddings": false, "torch_dtype": "%s"}
                """.formatted(s.vocab, s.hidden, s.layers, s.heads, s.kvHeads, s.intermediate, s.experts, s.topK,
                BOS, EOS, dtype == DType.F32 ? "float32" : dtype == DType.BF16 ? "bfloat16" : "float16"));
        writeTokenizer(dir.resolve("tokenizer.json"), s.vocab);

        int headDim = s.hidden / s.heads;
        int shards = s.layers + 1;
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (int shard = 0; shard < shards; shard++) {
            String file = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", shard + 1, shards);
            SafetensorsWriter w = new SafetensorsWriter();
            List<String> names = new ArrayList<>();
            if (shard == 0) {
                add(w, names, dtype, "model.embed_tokens.weight", 1.0, s.vocab, s.hidden);
                ones(w, names, dtype, "model.norm.weight", s.hidden);
                add(w, names, dtype, "lm_head.weight", 1.0 / Math.sqrt(s.hidden), s.vocab, s.hidden);
            } else {
                int l = shard - 1;
                String p = "model.layers." + l + ".";
                ones(w, names, dtype, p + "input_layernorm.weight", s.hidden);
                ones(w, names, dtype, p + "post_attention_layernorm.weight", s.hidden);
                double in = 1.0 / Math.sqrt(s.hidden);
                add(w, names, dtype, p + "self_attn.q_proj.weight", in, s.heads * headDim, s.hidden);
                add(w, names, dtype, p + "self_attn.k_proj.weight", in, s.kvHeads * headDim, s.hidden);
                add(w, names, dtype, p + "self_attn.v_proj.weight", in, s.kvHeads * headDim, s.hidden);
                add(w, names, dtype, p + "self_attn.o_proj.weight", 1.0 / Math.sqrt(s.heads * headDim), s.hidden,
                        s.heads * headDim);
                add(w, names, dtype, p + "block_sparse_moe.gate.weight", in, s.experts, s.hidden);
                for (int e = 0; e < s.experts; e++) {
                    String x = p + "block_sparse_moe.experts." + e + ".";
                    add(w, names, dtype, x + "w1.weight", in, s.intermediate, s.hidden);
                    add(w, names, dtype, x + "w3.weight", in, s.intermediate, s.hidden);
                    add(w, names, dtype, x + "w2.weight", 1.0 / Math.sqrt(s.intermediate), s.hidden, s.intermediate);
                }
            }
            w.write(dir.resolve(file));
            for (String n : names) {
                weightMap.put(n, file);
            }
        }
        SafetensorsWriter.writeIndex(dir, weightMap);
    }

    /** Adds a tensor of uniform values with standard deviation {@code std}, seeded by its name. */
    private static void add(SafetensorsWriter w, List<String> names, DType dtype, String name, double std, int rows,
                            int cols) {
        SplittableRandom r = new SplittableRandom(name.hashCode() * 0x9E3779B97F4A7C15L);
        float[] v = new float[Math.multiplyExact(rows, cols)];
        double a = std * Math.sqrt(3.0);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((2 * r.nextDouble() - 1) * a);
        }
        w.add(name, dtype, new long[] {rows, cols}, v);
        names.add(name);
    }

    private static void ones(SafetensorsWriter w, List<String> names, DType dtype, String name, int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        w.add(name, dtype, new long[] {n}, v);
        names.add(name);
    }

    /** A Hugging Face BPE tokenizer.json with byte fallback and no merges, {@code vocab} entries. */
    static void writeTokenizer(Path file, int vocab) throws IOException {
        if (vocab < 3 + 256) {
            throw new IllegalArgumentException("vocab must be at least 259 for the byte-fallback tokens");
        }
        StringBuilder sb = new StringBuilder(vocab * 16);
        sb.append("{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [");
        String[] special = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < special.length; i++) {
            sb.append(i == 0 ? "" : ", ").append("{\"id\": ").append(i).append(", \"content\": \"").append(special[i])
                    .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
                            + "\"special\": true}");
        }
        sb.append("], \"normalizer\": null, \"pre_tokenizer\": null, \"post_processor\": null, \"decoder\": null, ");
        sb.append("\"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": \"<unk>\", ");
        sb.append("\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": true, ");
        sb.append("\"byte_fallback\": true, \"vocab\": {");
        for (int i = 0; i < vocab; i++) {
            String piece = i < 3 ? special[i] : i < 259 ? String.format(Locale.ROOT, "<0x%02X>", i - 3) : "piece" + i;
            sb.append(i == 0 ? "" : ", ").append('"').append(piece).append("\": ").append(i);
        }
        sb.append("}, \"merges\": []}}\n");
        Files.writeString(file, sb);
    }

    // ---------------------------------------------------------------------------------------------------------

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new HarnessArgs.BadArgument("error: unexpected argument " + a + " (options are --NAME VALUE)");
            }
            String k = a.substring(2);
            if (k.equals("keep")) {
                m.put(k, "true");
            } else if (i + 1 < args.length) {
                m.put(k, args[++i]);
            } else {
                throw new HarnessArgs.BadArgument("error: " + a + " needs a value");
            }
        }
        return m;
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
