package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code moelab logits} on a checkpoint corrupted each way the runtime guards against, through the command line: one
 * {@code error:} line naming the file (and the tensor, where one is at fault), exit code 2, and no output file. The
 * runtime's own tests check each refusal's message; this checks that every one reaches the user as bad input.
 */
class CorruptCheckpointTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String Q = "model.layers.0.self_attn.q_proj.weight";
    private static final String K = "model.layers.0.self_attn.k_proj.weight";

    @TempDir
    Path dir;

    /** A safetensors file's header and data section. */
    private record Checkpoint(ObjectNode header, byte[] data) {
        static Checkpoint read(Path file) throws Exception {
            byte[] bytes = Files.readAllBytes(file);
            int n = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ObjectNode header = (ObjectNode) JSON.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
            return new Checkpoint(header, Arrays.copyOfRange(bytes, 8 + n, bytes.length));
        }

        ArrayNode offsets(String tensor) {
            return (ArrayNode) header.get(tensor).get("data_offsets");
        }

        /** The tensors {@code keep} selects, their bytes packed in their order and their offsets rebased. */
        Checkpoint select(Predicate<String> keep) {
            ObjectNode h = JSON.createObjectNode();
            ByteArrayOutputStream d = new ByteArrayOutputStream();
            for (Map.Entry<String, JsonNode> e : header.properties()) {
                if (keep.test(e.getKey())) {
                    ObjectNode t = (ObjectNode) e.getValue().deepCopy();
                    int begin = t.get("data_offsets").get(0).asInt();
                    int end = t.get("data_offsets").get(1).asInt();
                    t.set("data_offsets", JSON.createArrayNode().add(d.size()).add(d.size() + end - begin));
                    d.write(data, begin, end - begin);
                    h.set(e.getKey(), t);
                }
            }
            return new Checkpoint(h, d.toByteArray());
        }

        void write(Path file) throws Exception {
            write(file, JSON.writeValueAsString(header), data);
        }

        static void write(Path file, String header, byte[] data) throws Exception {
            byte[] h = header.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(h.length).put(h).put(data);
            Files.write(file, b.array());
        }
    }

    /** One way to corrupt the model in a directory; returns the file the error must name. */
    private interface Corruption {
        Path apply(Path model) throws Exception;
    }

    private record Case(String name, Corruption corruption, String... expected) {
    }

    private static Path weights(Path model) {
        return model.resolve("model.safetensors");
    }

    /** Rewrites {@code model.safetensors} after {@code edit} changed its header. */
    private static Corruption header(java.util.function.Consumer<Checkpoint> edit) {
        return model -> {
            Checkpoint c = Checkpoint.read(weights(model));
            edit.accept(c);
            c.write(weights(model));
            return weights(model);
        };
    }

    /** Replaces {@code from} by {@code to} in config.json. */
    private static Corruption config(String from, String to) {
        return model -> {
            Path config = model.resolve("config.json");
            String text = Files.readString(config);
            assertThat(text).contains(from);
            Files.writeString(config, text.replace(from, to));
            return config;
        };
    }

    /**
     * Splits the checkpoint into {@code a.safetensors} (q_proj and lm_head) and {@code b.safetensors} (the rest),
     * indexed by {@code model.safetensors.index.json} as {@code index} writes it from the tensor-to-shard map.
     */
    private static Corruption sharded(String errorFile, ShardEdit edit) {
        return model -> {
            Checkpoint all = Checkpoint.read(weights(model));
            Files.delete(weights(model));
            Predicate<String> inA = n -> n.equals(Q) || n.equals("lm_head.weight");
            Checkpoint a = all.select(inA);
            Checkpoint b = all.select(inA.negate());
            ObjectNode map = JSON.createObjectNode();
            all.header().propertyNames().forEach(n -> map.put(n, inA.test(n) ? "a.safetensors" : "b.safetensors"));
            String index = edit.apply(model, all, a, b, map);
            Files.writeString(model.resolve("model.safetensors.index.json"), index);
            return model.resolve(errorFile);
        };
    }

    private interface ShardEdit {
        /** Writes the shards (or not) and returns the index's text. */
        String apply(Path model, Checkpoint all, Checkpoint a, Checkpoint b, ObjectNode weightMap)
                throws Exception;
    }

    private static String index(ObjectNode weightMap) {
        return JSON.writeValueAsString(JSON.createObjectNode().set("weight_map", weightMap));
    }

    private static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("truncated file", model -> {
            byte[] b = Files.readAllBytes(weights(model));
            Files.write(weights(model), Arrays.copyOf(b, b.length - 10));
            return weights(model);
        }, "lm_head.weight", "beyond the data section"));
        cases.add(new Case("header length beyond the file", model -> {
            byte[] b = Files.readAllBytes(weights(model));
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, b.length);
            Files.write(weights(model), b);
            return weights(model);
        }, "header length"));
        cases.add(new Case("header length past 2^63", model -> {
            byte[] b = Files.readAllBytes(weights(model));
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
            Files.write(weights(model), b);
            return weights(model);
        }, "header length 18446744073709551615"));
        cases.add(new Case("header not an object", model -> {
            Checkpoint.write(weights(model), "[1, 2]", Checkpoint.read(weights(model)).data());
            return weights(model);
        }, "not a JSON object"));
        cases.add(new Case("duplicate tensor name", model -> {
            Checkpoint c = Checkpoint.read(weights(model));
            String h = JSON.writeValueAsString(c.header());
            h = h.substring(0, h.length() - 1) + ", \"" + Q + "\": " + JSON.writeValueAsString(c.header().get(Q))
                    + "}";
            Checkpoint.write(weights(model), h, c.data());
            return weights(model);
        }, Q, "Duplicate"));
        cases.add(new Case("offsets out of range", header(c -> {
            c.offsets(Q).set(0, 1L << 62);
            c.offsets(Q).set(1, (1L << 62) + 256);
        }), Q, "beyond the data section"));
        cases.add(new Case("end before begin", header(c -> {
            long begin = c.offsets(Q).get(0).asLong();
            c.offsets(Q).set(0, c.offsets(Q).get(1).asLong());
            c.offsets(Q).set(1, begin);
        }), Q, "> end"));
        cases.add(new Case("overlapping offsets", header(c -> {
            c.offsets(K).set(0, c.offsets(Q).get(0).asLong());
            c.offsets(K).set(1, c.offsets(Q).get(0).asLong() + 128);
        }), Q, K, "overlap"));
        cases.add(new Case("element count overflowing a long", header(c -> ((ObjectNode) c.header().get(Q))
                .set("shape", JSON.createArrayNode().add(1L << 32).add(1L << 32).add(1L << 32))), Q,
                "overflows a long"));
        cases.add(new Case("dtype disagreeing with the byte range",
                header(c -> ((ObjectNode) c.header().get(Q)).put("dtype", "F16")), Q, "F16 needs 128"));
        cases.add(new Case("unsupported dtype", header(c -> ((ObjectNode) c.header().get(Q)).put("dtype", "I32")),
                Q, "unsupported dtype I32"));
        cases.add(new Case("shape disagreeing with config.json", header(c -> ((ObjectNode) c.header().get(Q))
                .set("shape", JSON.createArrayNode().add(4).add(16))), Q, "disagrees with config.json"));
        cases.add(new Case("missing tensor", model -> {
            Checkpoint c = Checkpoint.read(weights(model));
            c.select(n -> !n.equals(Q)).write(weights(model));
            return weights(model);
        }, Q, "missing from the checkpoint"));
        cases.add(new Case("unknown model_type", config("\"mixtral\"", "\"llama\""), "unsupported model_type"));
        cases.add(new Case("vocabulary disagreeing with config.json",
                config("\"vocab_size\": 20", "\"vocab_size\": 21"), "model.embed_tokens.weight",
                "disagrees with config.json"));
        cases.add(new Case("more experts per token than experts",
                config("\"num_experts_per_tok\": 1", "\"num_experts_per_tok\": 3"), "num_experts_per_tok"));
        cases.add(new Case("no layers", config("\"num_hidden_layers\": 1", "\"num_hidden_layers\": 0"),
                "num_hidden_layers must be positive"));
        cases.add(new Case("index naming a missing shard", sharded("b.safetensors", (model, all, a, b, map) -> {
            a.write(model.resolve("a.safetensors"));
            return index(map);
        }), "is missing"));
        cases.add(new Case("a tensor in two shards", sharded("a.safetensors", (model, all, a, b, map) -> {
            a.write(model.resolve("a.safetensors"));
            all.select(n -> !a.header().has(n) || n.equals(Q)).write(model.resolve("b.safetensors"));
            return index(map);
        }), Q, "also present in shard b.safetensors"));
        cases.add(new Case("a tensor twice in the index", sharded("model.safetensors.index.json",
                (model, all, a, b, map) -> {
                    a.write(model.resolve("a.safetensors"));
                    b.write(model.resolve("b.safetensors"));
                    String text = index(map);
                    return text.substring(0, text.length() - 2) + ", \"" + Q + "\": \"b.safetensors\"}}";
                }), Q, "Duplicate"));
        return cases;
    }

    @Test
    void everyCorruptionIsOneErrorLineWithExitTwoAndNoOutput() throws Exception {
        for (Case c : cases()) {
            Path model = TinyMixtral.write(dir.resolve(c.name().replace(' ', '-')), 20);
            Path named = c.corruption().apply(model);
            Path out = dir.resolve(c.name().replace(' ', '-') + ".json");
            Result r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2", "--output",
                    out.toString());
            assertThat(r.exitCode()).as("%s: %s", c.name(), r.err()).isEqualTo(2);
            assertThat(r.errLines()).as(c.name()).singleElement().asString()
                    .startsWith("error: ").contains(named.getFileName().toString()).contains(c.expected());
            assertThat(out).as(c.name()).doesNotExist();
        }
        // The shards as the sharded cases split them, uncorrupted, load: those cases fail for their corruption.
        Path model = TinyMixtral.write(dir.resolve("sharded"), 20);
        sharded("a.safetensors", (m, all, a, b, map) -> {
            a.write(m.resolve("a.safetensors"));
            b.write(m.resolve("b.safetensors"));
            return index(map);
        }).apply(model);
        Path out = dir.resolve("sharded.json");
        Result r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2", "--output",
                out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(out).exists();
    }
}
