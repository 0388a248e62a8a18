package io.moelab.sim.spec;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.MessageText;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.io.JsonReader;
import io.moelab.eplb.io.Utf8Text;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Models and clusters by preset name or from JSON files: moelab's own format, or for models a Hugging Face
 * {@code config.json} (DeepSeek, Qwen-MoE and Mixtral layouts).
 */
public final class SpecFiles {
    /** The keys of moelab's model JSON, in the order docs/SIM.md lists them. */
    private static final List<String> MODEL_KEYS = List.of("name", "moe_layers", "experts", "top_k", "hidden",
            "expert_ffn", "groups", "bytes_per_param", "shared_experts", "shared_ffn", "dense_flops_per_token");
    /** The keys of moelab's cluster JSON. */
    private static final List<String> CLUSTER_KEYS = List.of("name", "nodes", "gpus_per_node", "peak_tflops",
            "compute_efficiency", "hbm_tbps", "nvlink_gbps", "network_gbps", "nvlink_latency_us", "network_latency_us",
            "hbm_gb");

    /** The value of an object member (other than quantization_config): present, and no number or text. */
    private static final Object AN_OBJECT = new Object() {
        @Override
        public String toString() {
            return "an object";
        }
    };

    private SpecFiles() {
    }

    /**
     * A model: a preset name, or a JSON file (a Hugging Face config.json when it has {@code num_hidden_layers}).
     *
     * @throws InvalidInputException naming the file and field, or {@code model}
     */
    public static ModelSpec model(String nameOrFile) {
        Path path = Path.of(nameOrFile);
        if (!nameOrFile.endsWith(".json") && !Files.exists(path)) {
            return ModelSpec.preset(nameOrFile);
        }
        Fields f = new Fields(read(path), path.toString());
        try {
            if (f.has("num_hidden_layers")) {
                return fromHuggingFace(f, path);
            }
            f.requireOnly(MODEL_KEYS);
            return new ModelSpec(f.text("name", path.getFileName().toString()), f.integer("moe_layers"),
                    f.integer("experts"), f.integer("top_k"), f.integer("hidden"), f.integer("expert_ffn"),
                    f.integer("groups", 1), f.integer("bytes_per_param", 2), f.integer("shared_experts", 0),
                    f.integer("shared_ffn", 0), f.number("dense_flops_per_token",
                            8.0 * f.integer("hidden") * f.integer("hidden")));
        } catch (InvalidInputException e) {
            throw e.in(path.toString());
        }
    }

    private static ModelSpec fromHuggingFace(Fields f, Path path) {
        int layers = f.integer("num_hidden_layers");
        if (layers < 1) {
            throw new InvalidInputException("num_hidden_layers", "must be at least 1, got " + layers);
        }
        String expertsKey = f.first("n_routed_experts", "num_experts", "num_local_experts");
        int experts = f.integer(expertsKey);
        int hidden = f.integer("hidden_size");
        String ffnKey = f.has("moe_intermediate_size") ? "moe_intermediate_size" : "intermediate_size";
        int ffn = f.integer(ffnKey);
        int moeLayers = layers;
        String layerKeys = null; // the keys that pick the MoE layers, where some do
        if (f.has("first_k_dense_replace")) {
            // DeepSeek: the first k layers are dense, then every moe_layer_freq-th layer is MoE.
            int first = f.integer("first_k_dense_replace");
            int freq = f.integer("moe_layer_freq", 1);
            // Checked, not clamped: a negative count of dense layers counted MoE layers beyond the model's, and
            // DeepSeek's code divides by the frequency.
            if (first < 0) {
                throw new InvalidInputException("first_k_dense_replace", "must be >= 0, got " + first);
            }
            if (freq < 1) {
                throw new InvalidInputException("moe_layer_freq", "must be >= 1, got " + freq);
            }
            // Layers first..layers-1 that are multiples of freq, counted at once (a loop over 2^31 layers took
            // seconds): the multiples below layers less those below first.
            moeLayers = first >= layers ? 0
                    : (int) (Math.ceilDiv((long) layers, freq) - Math.ceilDiv((long) first, freq));
            layerKeys = "first_k_dense_replace and moe_layer_freq";
        } else if (f.has("decoder_sparse_step") || f.has("mlp_only_layers")) {
            // Qwen-MoE: layer l is sparse unless listed in mlp_only_layers, and when (l + 1) % step == 0.
            int step = f.integer("decoder_sparse_step", 1);
            if (step < 1) {
                // transformers divides by it.
                throw new InvalidInputException("decoder_sparse_step", "must be >= 1, got " + step);
            }
            List<Double> dense = f.numbers("mlp_only_layers");
            for (double d : dense) {
                // 1.5 or "3" matched no layer, so a layer listed as dense was counted as MoE without a word.
                if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                    throw new InvalidInputException("mlp_only_layers", "must be a list of layer indices, got "
                            + (Double.isNaN(d) ? "an entry that is not a number" : String.valueOf(d)));
                }
            }
            // Layers l with (l + 1) % step == 0, less the distinct dense ones among them, counted at once: a loop
            // over the layers, searching the list for each, took a minute for 2^31 layers.
            moeLayers = layers / step;
            java.util.Set<Long> denseLayers = new java.util.HashSet<>();
            for (double d : dense) {
                denseLayers.add((long) d); // whole numbers (checked above); -0 is layer 0
            }
            for (long d : denseLayers) {
                moeLayers -= d >= 0 && d < layers && (d + 1) % step == 0 ? 1 : 0;
            }
            layerKeys = "decoder_sparse_step and mlp_only_layers";
        }
        if (moeLayers < 1) {
            throw new InvalidInputException("num_hidden_layers", "none of its " + layers + " layers is MoE (by "
                    + layerKeys + ")");
        }
        int shared = 0;
        int sharedFfn = 0;
        String sharedFfnKey = ffnKey;
        if (f.has("n_shared_experts")) {
            shared = f.integer("n_shared_experts");
            sharedFfn = ffn;
        } else if (f.has("shared_expert_intermediate_size")) {
            shared = 1;
            sharedFfnKey = "shared_expert_intermediate_size";
            sharedFfn = f.integer(sharedFfnKey);
        }
        // transformers 4.56 and later write "dtype" where earlier versions wrote "torch_dtype".
        String dtype = f.text("torch_dtype", f.text("dtype", "bfloat16"));
        // Every float8 type is one byte: torch also has float8_e4m3fnuz, float8_e5m2fnuz (AMD) and float8_e8m0fnu,
        // which a list of two names priced as bf16.
        int bytes = dtype.equals("float32") ? 4 : dtype.startsWith("float8_") ? 1 : 2;
        // FP8 checkpoints (DeepSeek-V3/R1, Qwen3-*-FP8) say "bfloat16" in torch_dtype, the type they compute in,
        // and store their weights as FP8 per quantization_config: one byte each (a block scale per 128 x 128
        // weights adds 0.02%, not counted). They were priced as bf16: twice the migration and expert memory.
        if (f.text("quantization_config.quant_method", "").equals("fp8")) {
            bytes = 1;
        }
        int topK = f.integer("num_experts_per_tok");
        int groups = f.integer("n_group", 1);
        // The record checks the values under moelab's names; the user wrote the config's keys (n_group, not groups).
        Map<String, String> keys = Map.of("experts", expertsKey, "top_k", "num_experts_per_tok", "hidden",
                "hidden_size", "expert_ffn", ffnKey, "groups", "n_group", "shared_experts", "n_shared_experts",
                "shared_ffn", sharedFfnKey);
        ModelSpec spec;
        try {
            spec = new ModelSpec(f.text("model_type", path.getFileName().toString()), moeLayers, experts, topK,
                    hidden, ffn, groups, bytes, shared, sharedFfn, 8.0 * hidden * hidden);
        } catch (InvalidInputException e) {
            String key = keys.get(e.field());
            if (key == null) {
                throw e;
            }
            // A value quoted as "experts=4" is the config's too.
            String problem = e.problem();
            for (Map.Entry<String, String> k : keys.entrySet()) {
                problem = problem.replaceAll("\\b" + k.getKey() + "=", k.getValue() + "=");
            }
            throw new InvalidInputException(key, problem, e);
        }
        // After the count's own checks, which name a bad value first.
        for (String other : List.of("n_routed_experts", "num_experts", "num_local_experts")) {
            // transformers' config classes read some of these as one another: two that differ cannot both hold.
            if (f.has(other) && f.integer(other) != experts) {
                throw new InvalidInputException(other, f.integer(other) + " disagrees with " + expertsKey + " "
                        + experts + ", which names the same count");
            }
        }
        return spec;
    }

    /**
     * A cluster: a preset {@code NxG-h100}/{@code NxG-h800}, or a JSON file with {@code nodes},
     * {@code gpus_per_node}, {@code peak_tflops}, {@code compute_efficiency}, {@code hbm_tbps},
     * {@code nvlink_gbps}, {@code network_gbps} and optionally latencies and {@code hbm_gb}.
     *
     * @throws InvalidInputException naming the file and field, or {@code cluster}
     */
    public static ClusterSpec cluster(String nameOrFile) {
        Path path = Path.of(nameOrFile);
        if (!nameOrFile.endsWith(".json") && !Files.exists(path)) {
            return ClusterSpec.preset(nameOrFile);
        }
        Fields f = new Fields(read(path), path.toString());
        try {
            f.requireOnly(CLUSTER_KEYS);
            return new ClusterSpec(f.text("name", path.getFileName().toString()), f.integer("nodes"),
                    f.integer("gpus_per_node"), f.number("peak_tflops"), f.number("compute_efficiency", 0.5),
                    f.number("hbm_tbps"), f.number("nvlink_gbps"), f.number("network_gbps"),
                    f.number("nvlink_latency_us", 3), f.number("network_latency_us", 10), f.number("hbm_gb", 80));
        } catch (InvalidInputException e) {
            throw e.in(path.toString());
        }
    }

    /**
     * The top-level members of a JSON object: numbers, strings, booleans and arrays of numbers; an object as
     * {@link #AN_OBJECT} (but quantization_config's string members as {@code quantization_config.NAME}); a null
     * kept by name with a null value (absent to {@link Fields#has}, present to {@link Fields#requireOnly}).
     */
    private static Map<String, Object> read(Path path) {
        if (!Files.exists(path)) {
            throw new InvalidInputException(path.toString(), "no such file");
        }
        if (Files.isDirectory(path)) {
            throw new InvalidInputException(path.toString(), "is a directory, expected a JSON file");
        }
        try (InputStream bytes = new BufferedInputStream(Files.newInputStream(path));
             Reader in = new InputStreamReader(bytes, StandardCharsets.UTF_8.newDecoder());
             JsonReader json = new JsonReader(in, path.toString())) {
            // UTF-16 of ASCII JSON, without a byte order mark, is valid UTF-8 (NULs between the characters).
            Utf8Text.require(bytes, path.toString());
            Map<String, Object> fields = new LinkedHashMap<>();
            if (json.peek() != JsonReader.Token.BEGIN_OBJECT) {
                throw new InvalidInputException(path.toString(), "expected a JSON object");
            }
            json.beginObject();
            while (json.hasNext()) {
                String name = json.nextName();
                fields.put(name, null);
                switch (json.peek()) {
                    case NUMBER -> fields.put(name, json.nextDouble());
                    case STRING -> fields.put(name, json.nextString());
                    case BOOLEAN -> fields.put(name, json.nextBoolean());
                    case BEGIN_ARRAY -> fields.put(name, numbers(json));
                    case BEGIN_OBJECT -> {
                        if (name.equals("quantization_config")) {
                            strings(json, name, fields);
                        } else {
                            // Kept as present: an object where a number goes was taken for an absent member, and
                            // its default used without a word.
                            json.skipValue();
                            fields.put(name, AN_OBJECT);
                        }
                    }
                    default -> json.skipValue();
                }
            }
            json.endObject();
            json.endDocument();
            return fields;
        } catch (IOException | UncheckedIOException e) {
            // The reader decodes strictly: a binary or UTF-16 file ends here, not as a JSON syntax error.
            Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
            throw new InvalidInputException(path.toString(), cause instanceof CharacterCodingException
                    ? "is not UTF-8 text, expected a JSON file" : "cannot read: " + cause.getMessage(), e);
        }
    }

    /** An object's string members, each as {@code prefix.member}; other members skipped. */
    private static void strings(JsonReader json, String prefix, Map<String, Object> fields) {
        json.beginObject();
        while (json.hasNext()) {
            String name = json.nextName();
            if (json.peek() == JsonReader.Token.STRING) {
                fields.put(prefix + "." + name, json.nextString());
            } else {
                json.skipValue();
            }
        }
        json.endObject();
    }

    /** An array's entries, NaN for each that is not a number (so that a reader of the array can refuse it). */
    private static List<Double> numbers(JsonReader json) {
        List<Double> values = new ArrayList<>();
        json.beginArray();
        while (json.hasNext()) {
            if (json.peek() == JsonReader.Token.NUMBER) {
                values.add(json.nextDouble());
            } else {
                json.skipValue();
                values.add(Double.NaN);
            }
        }
        json.endArray();
        return values;
    }

    /** Typed access to the members, with errors that name the file and the field. */
    private record Fields(Map<String, Object> values, String source) {
        boolean has(String name) {
            return values.get(name) != null;
        }

        double number(String name) {
            Object v = values.get(name);
            if (v == null) {
                throw new InvalidInputException(source + ": " + name, "missing");
            }
            if (!(v instanceof Double d) || !Double.isFinite(d)) {
                // A string quoted: "hidden": "2048" read "expected a number, found 2048".
                throw new InvalidInputException(source + ": " + name, "expected a number, found "
                        + (v instanceof String text ? "the string \"" + MessageText.oneLine(text) + "\""
                        : MessageText.oneLine(String.valueOf(v))));
            }
            return d;
        }

        double number(String name, double fallback) {
            return has(name) ? number(name) : fallback;
        }

        int integer(String name) {
            double d = number(name);
            // Written as given (Numbers.plain): a whole number past an int read "expected an integer, found 3.0E9".
            if (d != Math.rint(d)) {
                throw new InvalidInputException(source + ": " + name, "expected an integer, found " + Numbers.plain(d));
            }
            if (Math.abs(d) > Integer.MAX_VALUE) {
                throw new InvalidInputException(source + ": " + name, "expected an integer from -" + Integer.MAX_VALUE
                        + " to " + Integer.MAX_VALUE + ", found " + whole(d));
            }
            return (int) d;
        }

        /**
         * A whole number's digits: Numbers.plain writes 1.0E16 from 10^15 on. Up to 10^21 (where a number is seldom
         * written out) the shortest decimal that reads back as {@code d}, as written in the file when it was.
         */
        private static String whole(double d) {
            return Math.abs(d) < 1e21 ? new BigDecimal(Double.toString(d)).toBigInteger().toString()
                    : Numbers.plain(d);
        }

        int integer(String name, int fallback) {
            return has(name) ? integer(name) : fallback;
        }

        /** The first of {@code names} that is present. */
        String first(String... names) {
            for (String n : names) {
                if (has(n)) {
                    return n;
                }
            }
            throw new InvalidInputException(source + ": " + names[0], "missing (no " + String.join(", ", names) + ")");
        }

        /** Refuses the first member not in {@code known}: a misspelled optional key would take its default. */
        void requireOnly(List<String> known) {
            for (String name : values.keySet()) {
                if (!known.contains(name)) {
                    throw new InvalidInputException(MessageText.oneLine(name), "unknown key (known: "
                            + String.join(", ", known) + ")");
                }
            }
        }

        String text(String name, String fallback) {
            Object v = values.get(name);
            return v instanceof String s ? s : fallback;
        }

        List<Double> numbers(String name) {
            Object v = values.get(name);
            if (v == null) {
                return List.of();
            }
            if (!(v instanceof List<?> list)) {
                throw new InvalidInputException(source + ": " + name, "expected an array of numbers");
            }
            List<Double> out = new ArrayList<>();
            for (Object o : list) {
                out.add((Double) o);
            }
            return out;
        }
    }
}
