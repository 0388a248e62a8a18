package io.moelab.runtime.model;

import io.moelab.runtime.ModelFormatException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * The token ids at which a model's generation ends, as transformers' {@code generate} decides them: every id of the
 * generation config's {@code eos_token_id} (an id or a list of ids; Qwen3 instruct models list two). That config is
 * {@code generation_config.json} when the model directory has one; otherwise transformers derives it from the model
 * config, so {@code config.json}'s {@code eos_token_id} applies, or where config.json has no such key the family's
 * config-class default (Mixtral 2, OLMoE 50279, none for the Qwen families). A null or empty list means none.
 */
public final class StopTokens {
    private StopTokens() {
    }

    /**
     * The stop ids of the model in {@code dir}, ascending and distinct (possibly none). A family default outside the
     * vocabulary is left out (no such token can be generated).
     *
     * @param dir    the model directory
     * @param config its {@code config.json}, already read
     * @throws ModelFormatException naming the file and {@code eos_token_id} when the value is not an id or a list of
     *                              ids, or an id is negative or outside the vocabulary; naming the file when it is not
     *                              a JSON object
     */
    public static int[] of(Path dir, ModelConfig config) {
        Path generation = dir.resolve("generation_config.json");
        if (Files.exists(generation)) {
            return ids(ModelConfig.readObject(generation), generation, config.vocabSize());
        }
        Path model = dir.resolve("config.json");
        JsonNode n = ModelConfig.readObject(model);
        if (!n.has("eos_token_id")) {
            return Arrays.stream(config.family().defaultEosTokenIds()).filter(id -> id < config.vocabSize()).toArray();
        }
        return ids(n, model, config.vocabSize());
    }

    private static int[] ids(JsonNode n, Path file, int vocabSize) {
        JsonNode v = n.get("eos_token_id");
        TreeSet<Integer> out = new TreeSet<>();
        if (v == null || v.isNull()) {
            return new int[0];
        }
        if (v.isArray()) {
            for (JsonNode e : v) {
                out.add(id(e, v, file, vocabSize));
            }
        } else {
            out.add(id(v, v, file, vocabSize));
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int id(JsonNode e, JsonNode whole, Path file, int vocabSize) {
        // Integers only: 2.0, "2" or true is not a token id (transformers would not match it against int64 ids
        // either), and a silent coercion would stop at some other token or none.
        if (!e.isIntegralNumber()) {
            throw new ModelFormatException(file.toString(), null, "eos_token_id must be a token id or a list of "
                    + "token ids, got " + whole);
        }
        BigInteger id = e.bigIntegerValue();
        if (id.signum() < 0 || id.compareTo(BigInteger.valueOf(vocabSize)) >= 0) {
            throw new ModelFormatException(file.toString(), null, "eos_token_id " + id + " is outside the model's "
                    + "vocabulary [0, " + vocabSize + ") (config.json vocab_size)");
        }
        return id.intValue();
    }
}
