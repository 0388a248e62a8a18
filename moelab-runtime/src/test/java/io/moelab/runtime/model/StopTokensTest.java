package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * Stop ids as transformers' generate takes them: {@code generation_config.json}'s {@code eos_token_id} (an id or a
 * list), else config.json's, else the family's config-class default. Only the tokenizer's EOS used to end generation.
 */
class StopTokensTest {
    @TempDir
    Path tmp;

    private int written;

    /** A model directory holding the tiny {@code family} config.json (vocabulary 50) edited by {@code edit}. */
    private Path model(Family family, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode c = TinyModel.create(family, DType.F32, 1).config.deepCopy();
        edit.accept(c);
        Path dir = Files.createDirectories(tmp.resolve("m" + written++));
        Files.writeString(dir.resolve("config.json"), TinyModel.JSON.writeValueAsString(c));
        return dir;
    }

    private static int[] stops(Path dir) {
        return StopTokens.of(dir, ModelConfig.ofModel(dir));
    }

    private static Path generation(Path dir, String json) throws IOException {
        return Files.writeString(dir.resolve("generation_config.json"), json);
    }

    @Test
    void generationConfigListsEveryStopIdAndOverridesConfigJson() throws IOException {
        // As Qwen3 instruct models list [<|im_end|>, <|endoftext|>]; config.json's single id is not consulted.
        Path dir = model(Family.QWEN3_MOE, c -> c.put("eos_token_id", 9));
        generation(dir, "{\"bos_token_id\": 1, \"eos_token_id\": [45, 43, 45], \"do_sample\": true}");
        assertThat(stops(dir)).containsExactly(43, 45);
        generation(dir, "{\"eos_token_id\": 7}");
        assertThat(stops(dir)).containsExactly(7);
        // The generation config is the whole story where it exists: without the key (or null, or []) it has none.
        generation(dir, "{\"temperature\": 0.7}");
        assertThat(stops(dir)).isEmpty();
        generation(dir, "{\"eos_token_id\": null}");
        assertThat(stops(dir)).isEmpty();
        generation(dir, "{\"eos_token_id\": []}");
        assertThat(stops(dir)).isEmpty();
    }

    @Test
    void withoutAGenerationConfigConfigJsonOrTheFamilyDefaultApplies() throws IOException {
        assertThat(stops(model(Family.MIXTRAL, c -> c.put("eos_token_id", 11)))).containsExactly(11);
        assertThat(stops(model(Family.OLMOE, c -> c.putArray("eos_token_id").add(12).add(4)))).containsExactly(4, 12);
        assertThat(stops(model(Family.MIXTRAL, c -> c.putNull("eos_token_id")))).isEmpty();
        // Absent: MixtralConfig's 2, OlmoeConfig's 50279 (where the vocabulary holds it), none for Qwen.
        assertThat(stops(model(Family.MIXTRAL, c -> { }))).containsExactly(2);
        assertThat(stops(model(Family.OLMOE, c -> c.put("vocab_size", 50304)))).containsExactly(50279);
        assertThat(stops(model(Family.OLMOE, c -> { }))).isEmpty();
        assertThat(stops(model(Family.QWEN2_MOE, c -> { }))).isEmpty();
        assertThat(stops(model(Family.QWEN3_MOE, c -> { }))).isEmpty();
    }

    /**
     * The ends of the vocabulary: id 0 is a token (vocab_size - 1 the last one), and a family default is left out
     * exactly when it is not below vocab_size.
     */
    @Test
    void theVocabularysFirstAndLastIdsAreStopIdsAndADefaultAtItsSizeIsLeftOut() throws IOException {
        assertThat(stops(model(Family.MIXTRAL, c -> c.put("eos_token_id", 0)))).containsExactly(0);
        Path dir = model(Family.QWEN3_MOE, c -> { });
        generation(dir, "{\"eos_token_id\": [49, 0]}");
        assertThat(stops(dir)).containsExactly(0, 49);
        // MixtralConfig's 2 needs a vocabulary of 3; OlmoeConfig's 50279 one of 50280.
        assertThat(stops(model(Family.MIXTRAL, c -> c.put("vocab_size", 3)))).containsExactly(2);
        assertThat(stops(model(Family.MIXTRAL, c -> c.put("vocab_size", 2)))).isEmpty();
        assertThat(stops(model(Family.OLMOE, c -> c.put("vocab_size", 50280)))).containsExactly(50279);
        assertThat(stops(model(Family.OLMOE, c -> c.put("vocab_size", 50279)))).isEmpty();
    }

    @Test
    void malformedIdsAreRefusedNamingFileAndKey() throws IOException {
        String[] values = {"\"2\"", "2.0", "2.5", "true", "-1", "50", "1e30", "[1, \"a\"]", "[[1]]", "{\"id\": 1}",
            "123456789012345678901234567890"};
        String[] problems = {"eos_token_id must be a token id or a list of token ids, got \"2\"",
            "eos_token_id must be a token id or a list of token ids, got 2.0",
            "eos_token_id must be a token id or a list of token ids, got 2.5",
            "eos_token_id must be a token id or a list of token ids, got true",
            "eos_token_id -1 is outside the model's vocabulary [0, 50) (config.json vocab_size)",
            "eos_token_id 50 is outside the model's vocabulary [0, 50) (config.json vocab_size)",
            "eos_token_id must be a token id or a list of token ids, got 1.0E30",
            "eos_token_id must be a token id or a list of token ids, got [1,\"a\"]",
            "eos_token_id must be a token id or a list of token ids, got [[1]]",
            "eos_token_id must be a token id or a list of token ids, got {\"id\":1}",
            "eos_token_id 123456789012345678901234567890 is outside the model's vocabulary [0, 50) "
                    + "(config.json vocab_size)"};
        for (int i = 0; i < values.length; i++) {
            Path dir = model(Family.QWEN3_MOE, c -> { });
            Path file = generation(dir, "{\"eos_token_id\": " + values[i] + "}");
            assertThatThrownBy(() -> stops(dir)).as(values[i]).isInstanceOf(ModelFormatException.class)
                    .hasMessage(file + ": " + problems[i]);
            // The same value in config.json, without a generation config, is config.json's fault.
            Files.delete(file);
            Path other = model(Family.MIXTRAL, c -> { });
            Path config = other.resolve("config.json");
            Files.writeString(config, Files.readString(config).replaceFirst("\\{", "{\"eos_token_id\": "
                    + values[i].replace("$", "\\$") + ", "));
            assertThatThrownBy(() -> stops(other)).as(values[i]).isInstanceOf(ModelFormatException.class)
                    .hasMessage(config + ": " + problems[i]);
        }
    }

    @Test
    void aGenerationConfigThatIsNotAnObjectIsRefused() throws IOException {
        Path dir = model(Family.MIXTRAL, c -> { });
        Path file = generation(dir, "[2]");
        assertThatThrownBy(() -> stops(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(file + ": expected a JSON object");
        generation(dir, "{\"eos_token_id\": 2, \"eos_token_id\": 3}");
        assertThatThrownBy(() -> stops(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(file + ": duplicate key \"eos_token_id\" (line 1)");
    }
}
