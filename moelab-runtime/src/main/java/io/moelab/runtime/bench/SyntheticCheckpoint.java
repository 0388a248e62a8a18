package io.moelab.runtime.bench;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.AtomicWrite;
import io.moelab.runtime.safetensors.HalfFloats;
import io.moelab.runtime.safetensors.SafetensorsFile;
import io.moelab.runtime.model.ModelConfig;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a random checkpoint in Mixtral's Hugging Face layout ({@code config.json} and one
 * {@code model.safetensors}) of a chosen {@link Shape}, for benchmarks that need a model of a given size and no
 * download. Every layer is MoE; embeddings are untied.
 *
 * <p>Weights are uniform with the standard deviation of a typical initialization ({@code 1/sqrt(cols)} for
 * projections, 1 for the embedding, {@code 1 ± 0.1} for norms), drawn from one {@link SplittableRandom} in tensor
 * order, so the same shape, type and seed give the same bytes. The data is streamed to disk tensor by tensor in
 * bounded chunks (no whole-checkpoint buffer), to a temporary file renamed over {@code model.safetensors}.
 */
public final class SyntheticCheckpoint {
    /** What a directory holds, as far as writing a synthetic checkpoint into it goes: see {@link #inspect}. */
    public enum Contents {
        /** Exactly the checkpoint {@link #write} would write for the arguments, and nothing else: reuse it. */
        SAME,
        /**
         * Nothing (or no directory yet), or only part of that checkpoint, as an interrupted write leaves it:
         * writing it there replaces nothing else.
         */
        NONE,
        /** Anything else (another model, other files, or not a directory): writing there would replace or mix. */
        OTHER
    }

    /** The safetensors metadata key that records what wrote the file (shape, type, seed). */
    public static final String METADATA_KEY = "moelab.synthetic";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int CHUNK = 1 << 20;
    /** Temporary files of a write, left behind only by a killed one: {@code .model.safetensors<...>.tmp}. */
    private static final Pattern TEMPORARY = Pattern.compile("\\.(model\\.safetensors|config\\.json).*\\.tmp");

    private SyntheticCheckpoint() {
    }

    /**
     * The dimensions of a Mixtral-layout model.
     *
     * @param vocab        vocabulary size
     * @param hidden       hidden size
     * @param layers       decoder layers (all MoE)
     * @param heads        attention heads
     * @param kvHeads      key/value heads
     * @param headDim      dimension of one head
     * @param intermediate expert FFN size
     * @param experts      experts per layer
     * @param topK         experts per token
     */
    public record Shape(int vocab, int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate,
                        int experts, int topK) {
        /** Checks the dimensions. */
        public Shape {
            for (int d : new int[] {vocab, hidden, layers, heads, kvHeads, headDim, intermediate, experts, topK}) {
                if (d < 1) {
                    throw new IllegalArgumentException("dimensions must be positive: " + this);
                }
            }
            if (heads % kvHeads != 0 || headDim % 2 != 0 || topK > experts) {
                throw new IllegalArgumentException("heads must be a multiple of kvHeads, headDim even and topK at most"
                        + " experts: " + this);
            }
        }

        /**
         * About 100M parameters (102.8M): vocabulary 8192, hidden 512, 8 layers, 8 heads over 4 KV heads of 64, 16
         * experts of 448 (7 × 64, so INT4's groups of 64 divide every row), top-2; 21.6M parameters active per
         * token.
         */
        public static Shape m100() {
            return new Shape(8192, 512, 8, 8, 4, 64, 448, 16, 2);
        }

        /** A few hundred kilobytes, for tests: every row length a multiple of 64. */
        public static Shape tiny() {
            return new Shape(64, 64, 2, 4, 2, 16, 64, 4, 2);
        }

        /**
         * A preset by name: {@code m100} or {@code tiny}.
         *
         * @throws IllegalArgumentException for another name
         */
        public static Shape named(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "m100" -> m100();
                case "tiny" -> tiny();
                default -> throw new IllegalArgumentException("unknown synthetic shape '" + name
                        + "' (known: m100, tiny)");
            };
        }

        /** Every tensor the checkpoint holds, in file order. */
        public List<Tensor> tensors() {
            List<Tensor> t = new ArrayList<>();
            int q = heads * headDim;
            int kv = kvHeads * headDim;
            double proj = 1 / Math.sqrt(hidden);
            t.add(new Tensor("model.embed_tokens.weight", vocab, hidden, 1.0));
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                t.add(new Tensor(p + "input_layernorm.weight", 1, hidden, -1));
                t.add(new Tensor(p + "post_attention_layernorm.weight", 1, hidden, -1));
                t.add(new Tensor(p + "self_attn.q_proj.weight", q, hidden, proj));
                t.add(new Tensor(p + "self_attn.k_proj.weight", kv, hidden, proj));
                t.add(new Tensor(p + "self_attn.v_proj.weight", kv, hidden, proj));
                t.add(new Tensor(p + "self_attn.o_proj.weight", hidden, q, 1 / Math.sqrt(q)));
                t.add(new Tensor(p + "block_sparse_moe.gate.weight", experts, hidden, proj));
                for (int e = 0; e < experts; e++) {
                    String x = p + "block_sparse_moe.experts." + e + ".";
                    t.add(new Tensor(x + "w1.weight", intermediate, hidden, proj));
                    t.add(new Tensor(x + "w3.weight", intermediate, hidden, proj));
                    t.add(new Tensor(x + "w2.weight", hidden, intermediate, 1 / Math.sqrt(intermediate)));
                }
            }
            t.add(new Tensor("model.norm.weight", 1, hidden, -1));
            t.add(new Tensor("lm_head.weight", vocab, hidden, proj));
            return t;
        }

        /**
         * All parameters: {@code 2·vocab·hidden + hidden + layers·(2·hidden + hidden·(2·heads + 2·kvHeads)·headDim
         * + experts·hidden + 3·experts·hidden·intermediate)}.
         */
        public long parameters() {
            long h = hidden;
            long attention = h * (2L * heads + 2L * kvHeads) * headDim;
            long perLayer = 2 * h + attention + (long) experts * h + 3L * experts * h * intermediate;
            return 2L * vocab * h + h + layers * perLayer;
        }

        /**
         * Parameters read per token, as {@link WeightAccounting} counts them: attention, router and the top-k
         * experts of every layer, the output projection and one embedding row (norm vectors are not counted).
         */
        public long activeParameters() {
            long h = hidden;
            long attention = h * (2L * heads + 2L * kvHeads) * headDim;
            long perLayer = attention + (long) experts * h + 3L * topK * h * intermediate;
            return (long) vocab * h + h + layers * perLayer;
        }

        /** The text recorded in the checkpoint's metadata, with the type and seed. */
        String describe(DType dtype, long seed) {
            return "mixtral " + vocab + "/" + hidden + "/" + layers + "/" + heads + "/" + kvHeads + "/" + headDim
                    + "/" + intermediate + "/" + experts + "/" + topK + " " + dtype + " seed " + seed;
        }

        /**
         * The configuration of the checkpoint {@link #write} makes, known before it is written (so that options can
         * be checked against it first).
         */
        public ModelConfig modelConfig() {
            return ModelConfig.of(config(), "synthetic " + describe(DType.F32, 0));
        }

        /** {@code config.json}. */
        ObjectNode config() {
            ObjectNode c = JSON.createObjectNode();
            c.putArray("architectures").add("MixtralForCausalLM");
            c.put("model_type", "mixtral");
            c.put("vocab_size", vocab);
            c.put("hidden_size", hidden);
            c.put("num_hidden_layers", layers);
            c.put("num_attention_heads", heads);
            c.put("num_key_value_heads", kvHeads);
            c.put("head_dim", headDim);
            c.put("intermediate_size", intermediate);
            c.put("num_local_experts", experts);
            c.put("num_experts_per_tok", topK);
            c.put("rms_norm_eps", 1e-5);
            c.put("rope_theta", 10000.0);
            c.put("tie_word_embeddings", false);
            return c;
        }
    }

    /**
     * One tensor: {@code rows × cols}, or a vector of {@code cols} when {@code rows} is 1 and {@code std} is
     * negative (a norm weight, drawn around 1).
     *
     * @param name name in the checkpoint
     * @param rows rows (1 for a vector)
     * @param cols columns
     * @param std  standard deviation of the uniform draw; negative for a norm vector
     */
    public record Tensor(String name, int rows, int cols, double std) {
        /** Number of values. */
        public long elements() {
            return (long) rows * cols;
        }

        /** The safetensors shape: {@code [cols]} for a norm vector, else {@code [rows, cols]}. */
        public long[] shape() {
            return std < 0 ? new long[] {cols} : new long[] {rows, cols};
        }
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} into {@code dir} (files of those names there are
     * replaced, each atomically; {@link #inspect} tells whether that destroys another model). A {@code dir} that does
     * not exist is written beside it under a hidden name and renamed once complete, so it appears whole or not at all.
     *
     * @throws IllegalArgumentException if {@code dtype} is F16 (only F32 and BF16 are offered)
     * @throws UncheckedIOException     if writing fails
     */
    public static Path write(Path dir, Shape shape, DType dtype, long seed) {
        Objects.requireNonNull(shape, "shape");
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new IllegalArgumentException("synthetic checkpoints are F32 or BF16, not " + dtype);
        }
        List<Tensor> tensors = shape.tensors();
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt").put(METADATA_KEY, shape.describe(dtype, seed));
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode n = header.putObject(t.name());
            n.put("dtype", dtype.name());
            ArrayNode s = n.putArray("shape");
            for (long d : t.shape()) {
                s.add(d);
            }
            long end = offset + t.elements() * dtype.bytes();
            n.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        try {
            intoNewDirectory(dir, d -> write(d, shape, tensors, json, padded, dtype, seed));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a synthetic checkpoint to " + dir, e);
        }
        return dir;
    }

    private static void write(Path dir, Shape shape, List<Tensor> tensors, byte[] json, int padded, DType dtype,
            long seed) throws IOException {
        writeAtomically(dir.resolve("model.safetensors"), ch -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) {
                head.put((byte) ' ');
            }
            writeFully(ch, head.flip());
            SplittableRandom random = new SplittableRandom(seed);
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors) {
                writeTensor(ch, buf, t, dtype, random);
            }
        });
        // Atomically too: a half-written config.json would make the directory look like another model's.
        byte[] config = (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(shape.config()) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        writeAtomically(dir.resolve("config.json"), ch -> writeFully(ch, ByteBuffer.wrap(config)));
    }

    /**
     * Writes into {@code dir} in place where it exists (empty, or holding part of this checkpoint: {@link #inspect}),
     * else through {@link AtomicWrite#directory}, so that a new directory appears only complete: Ctrl-C while
     * {@code bench --synthetic m100} wrote a new one left it behind, empty. Package-private for a test's child JVM.
     */
    static void intoNewDirectory(Path dir, AtomicWrite.DirectoryContents contents) throws IOException {
        if (Files.isDirectory(dir)) {
            contents.writeTo(dir);
        } else {
            AtomicWrite.directory(dir, contents);
        }
    }

    /**
     * Whether {@code dir} already holds what {@link #write} would write for these arguments, and nothing else:
     * {@link #inspect} says {@link Contents#SAME}.
     */
    public static boolean exists(Path dir, Shape shape, DType dtype, long seed) {
        return inspect(dir, shape, dtype, seed) == Contents.SAME;
    }

    /**
     * What {@code dir} holds compared with what {@link #write} would write there: the same checkpoint (a
     * {@code model.safetensors} with the same {@value #METADATA_KEY} record, whose weights are not re-read, and the
     * same {@code config.json}), nothing or part of it, or anything else. Temporary files a killed write left
     * behind are ignored.
     *
     * @throws UncheckedIOException if the directory cannot be listed
     */
    public static Contents inspect(Path dir, Shape shape, DType dtype, long seed) {
        if (!Files.exists(dir)) {
            return Contents.NONE;
        }
        if (!Files.isDirectory(dir)) {
            return Contents.OTHER;
        }
        boolean config = false;
        boolean weights = false;
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                String name = p.getFileName().toString();
                switch (name) {
                    case "config.json" -> config = true;
                    case "model.safetensors" -> weights = true;
                    default -> {
                        if (!TEMPORARY.matcher(name).matches()) {
                            return Contents.OTHER;
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        if (config && !sameConfig(dir.resolve("config.json"), shape)
                || weights && !sameWeights(dir.resolve("model.safetensors"), shape.describe(dtype, seed))) {
            return Contents.OTHER;
        }
        return config && weights ? Contents.SAME : Contents.NONE;
    }

    /** Whether the file holds the configuration of {@code shape} (as JSON: formatting aside). */
    private static boolean sameConfig(Path file, Shape shape) {
        try {
            return Files.isRegularFile(file) && shape.config().equals(JSON.readTree(Files.readString(file)));
        } catch (IOException | RuntimeException e) {
            return false; // not JSON, or unreadable: not ours
        }
    }

    /** Whether the file is a safetensors checkpoint whose {@value #METADATA_KEY} record is {@code description}. */
    private static boolean sameWeights(Path file, String description) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return description.equals(f.metadata().get(METADATA_KEY));
        } catch (ModelFormatException | UncheckedIOException e) {
            return false;
        }
    }

    /**
     * Writes {@code target} all-or-nothing through {@link AtomicWrite}: Ctrl-C while writing m100 left a hidden file
     * of up to 411 MB in the model directory. Package-private for a test's child JVM.
     */
    static void writeAtomically(Path target, AtomicWrite.Contents contents) throws IOException {
        AtomicWrite.write(target, contents);
    }

    private static void writeTensor(FileChannel ch, ByteBuffer buf, Tensor t, DType dtype, SplittableRandom random)
            throws IOException {
        double a = Math.sqrt(3) * Math.abs(t.std());
        long left = t.elements();
        while (left > 0) {
            int n = (int) Math.min(left, CHUNK);
            buf.clear();
            for (int i = 0; i < n; i++) {
                float v = t.std() < 0 ? (float) (1 + 0.1 * (2 * random.nextDouble() - 1))
                        : (float) (a * (2 * random.nextDouble() - 1));
                if (dtype == DType.F32) {
                    buf.putFloat(v);
                } else {
                    buf.putShort(HalfFloats.floatToBf16(v));
                }
            }
            writeFully(ch, buf.flip());
            left -= n;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
