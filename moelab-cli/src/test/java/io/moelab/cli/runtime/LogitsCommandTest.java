package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.tensor.ProductTeam;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code moelab logits} writes what the model computes, and refuses bad input in one line. */
class LogitsCommandTest {
    @TempDir
    Path dir;

    private Path tinyMixtral() throws Exception {
        return TinyMixtral.write(dir.resolve("model"), 20);
    }

    /** The usage line shows the comma-separated ids once (picocli repeated a label that held the commas). */
    @Test
    void helpShowsTheTokenIdsAsCommaSeparatedIds() {
        Result r = CliRunner.run("logits", "--help");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("--token-ids=ID[,ID...]").doesNotContain("......");
    }

    @Test
    void writesEveryPositionsLogits() throws Exception {
        Path model = tinyMixtral();
        Path out = dir.resolve("out.json");
        Path again = dir.resolve("again.json");
        // Bit for bit once the kernels are compiled: before C2 compiles them the Vector API's exp is its Java
        // fallback, a few ulps off, so runs on either side of a compilation are retried (a real difference stays).
        for (int attempt = 1; ; attempt++) {
            Result r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,5,9", "--output",
                    out.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            JsonNode logits = JsonMapper.builder().build().readTree(out.toFile()).get("logits");
            assertThat(logits.size()).isEqualTo(3);
            float[][] expected;
            try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
                expected = m.logits(new int[] {1, 5, 9});
            }
            // One thread and the packed layout: the same bytes.
            try {
                Result one = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,5,9", "--output",
                        again.toString(), "--threads", "1", "--weights", "packed");
                assertThat(one.exitCode()).as(one.err()).isZero();
                assertThat(ProductTeam.shared().threads()).isEqualTo(1);
            } finally {
                ProductTeam.useShared(Runtime.getRuntime().availableProcessors());
            }
            boolean same = java.util.Arrays.equals(Files.readAllBytes(again), Files.readAllBytes(out));
            for (int p = 0; p < 3; p++) {
                assertThat(logits.get(p).size()).isEqualTo(20);
                for (int i = 0; i < 20; i++) {
                    same &= logits.get(p).get(i).floatValue() == expected[p][i];
                }
            }
            if (same || attempt == 20) {
                for (int p = 0; p < 3; p++) {
                    for (int i = 0; i < 20; i++) {
                        assertThat(logits.get(p).get(i).floatValue()).isEqualTo(expected[p][i]);
                    }
                }
                assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(out));
                return;
            }
        }
    }

    @Test
    void badInputIsOneLineWithExitTwo() throws Exception {
        Path model = tinyMixtral();
        Path out = dir.resolve("out.json");
        Result vocab = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,20", "--output",
                out.toString());
        assertThat(vocab.exitCode()).isEqualTo(2);
        assertThat(vocab.err()).startsWith("error: ").contains("20").contains("vocabulary");
        // A trailing comma is an empty id, as '1,,2' is (the split alone dropped it).
        Result trailing = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2,", "--output",
                out.toString());
        assertThat(trailing.exitCode()).isEqualTo(2);
        assertThat(trailing.errLines()).containsExactly("error: --token-ids: '1,2,' ends with a comma (an empty id)");
        Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3});
        Result corrupt = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1", "--output",
                out.toString());
        assertThat(corrupt.exitCode()).isEqualTo(2);
        assertThat(corrupt.err()).startsWith("error: ").contains("model.safetensors");
        assertThat(corrupt.err().strip().lines().count()).isEqualTo(1);
        assertThat(out).doesNotExist();
    }

    /**
     * The vocabulary's first and last ids are ids, one below it is not; and --threads may be as many as the limit
     * it states. The tests tried ids past the vocabulary and a thread past the limit only.
     */
    @Test
    void theEdgesOfTheVocabularyAndOfThreads() throws Exception {
        Path model = tinyMixtral();
        Path out = dir.resolve("out.json");
        int most = ProductTeam.MAX_THREADS_PER_PROCESSOR * Runtime.getRuntime().availableProcessors();
        Result r;
        try {
            r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "0,19", "--output",
                    out.toString(), "--threads", Integer.toString(most));
            assertThat(ProductTeam.shared().threads()).isEqualTo(most);
        } finally {
            ProductTeam.useShared(Runtime.getRuntime().availableProcessors());
        }
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("wrote " + out + " (2 positions x 20 logits)" + System.lineSeparator());
        JsonNode logits = JsonMapper.builder().build().readTree(out.toFile()).get("logits");
        assertThat(logits.size()).isEqualTo(2);
        assertThat(logits.get(1).size()).isEqualTo(20);
        Path refused = dir.resolve("refused.json");
        Result negative = CliRunner.run("logits", "--model", model.toString(), "--token-ids=3,-1", "--output",
                refused.toString());
        assertThat(negative.exitCode()).isEqualTo(2);
        assertThat(negative.errLines()).containsExactly(
                "error: --token-ids: token id -1 outside the vocabulary [0, 20)");
        assertThat(refused).doesNotExist();
    }

    /**
     * More token ids than a KV cache of the model holds, or than the heap holds logits for, are refused naming
     * --token-ids before the model runs (they ended in the cache's own message, exit 1, or out of memory).
     */
    @Test
    void tooManyTokenIdsAreRefusedNamingTheOption() throws Exception {
        // Heads of 32768 dimensions: a layer's keys (one array) hold at most 65472 positions.
        Path wide = TinyMixtral.write(dir.resolve("wide"), 20, 32768);
        Path out = dir.resolve("out.json");
        Result r = CliRunner.run("logits", "--model", wide.toString(), "--token-ids", ids(65473), "--output",
                out.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: --token-ids: a sequence of 65473 token ids needs a KV "
                + "cache of 65473 positions; this model's holds at most 65472");
        // A vocabulary of 2^18: each position's logits take 1 MiB, so the heap's MiB plus one are too many.
        Path large = TinyMixtral.write(dir.resolve("large"), 1 << 18);
        int n = (int) (Runtime.getRuntime().maxMemory() >> 20) + 1;
        Result heap = CliRunner.run("logits", "--model", large.toString(), "--token-ids", ids(n), "--output",
                out.toString());
        assertThat(heap.exitCode()).as(heap.err()).isEqualTo(2);
        assertThat(heap.errLines()).singleElement().asString()
                .startsWith("error: --token-ids: a sequence of " + n + " token ids, with its KV cache and " + n
                        + " x 262144 logits, needs about ")
                .contains("more than this JVM's heap").endsWith("or ask for fewer token ids)");
        // A config.json whose layers would need that heap for a single id disagrees with the checkpoint: that is said.
        Path config = wide.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"num_hidden_layers\": 1",
                "\"num_hidden_layers\": 2147483647"));
        Result layers = CliRunner.run("logits", "--model", wide.toString(), "--token-ids", "1", "--output",
                out.toString());
        assertThat(layers.exitCode()).as(layers.err()).isEqualTo(2);
        assertThat(layers.errLines()).containsExactly("error: " + wide.resolve("model.safetensors") + ": tensor "
                + "model.layers.2147483646.input_layernorm.weight: missing from the checkpoint");
        assertThat(out).doesNotExist();
    }

    /** Where a model's sliding window is what limits its KV cache, the refusal says so: no option raises it. */
    @Test
    void aSequencePastTheSlidingWindowIsRefusedNamingTheWindow() throws Exception {
        Path model = TinyMixtral.write(dir.resolve("windowed"), 20);
        Path config = model.resolve("config.json");
        String text = Files.readString(config).strip();
        Files.writeString(config, text.substring(0, text.length() - 1)
                + ", \"sliding_window\": 8, \"max_position_embeddings\": 8}");
        Path out = dir.resolve("out.json");
        Result r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", ids(9), "--output",
                out.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: --token-ids: a sequence of 9 token ids needs a KV cache of 9 "
                + "positions; this model's holds at most 8 (its config.json's sliding_window, past which "
                + "transformers hides the oldest keys and moelab does not)");
        assertThat(out).doesNotExist();
        Result eight = CliRunner.run("logits", "--model", model.toString(), "--token-ids", ids(8), "--output",
                out.toString());
        assertThat(eight.exitCode()).as(eight.err()).isZero();
    }

    /** {@code n} token ids, all 1, as --token-ids takes them. */
    private static String ids(int n) {
        return String.join(",", java.util.Collections.nCopies(n, "1"));
    }

    @Test
    void configValuesTheRuntimeCannotHonourAreBadInput() throws Exception {
        Path model = tinyMixtral();
        Path config = model.resolve("config.json");
        String original = Files.readString(config);
        Path out = dir.resolve("out.json");
        // Each edit once failed differently: a division by zero (exit 1), or silently computed something else.
        String[][] cases = {
            {"\"num_key_value_heads\": 1", "\"num_key_value_heads\": 0", "num_key_value_heads must be positive"},
            {"\"rope_theta\": 10000", "\"rope_theta\": 1e999", "rope_theta must be a finite positive number"},
            {"\"rope_theta\": 10000", "\"rope_theta\": 10000, \"hidden_act\": \"gelu\"", "hidden_act \"gelu\""},
            {"\"rope_theta\": 10000", "\"rope_theta\": 10000, \"sliding_window\": 4096",
                "sliding-window attention is not supported"},
            {"\"rope_theta\": 10000", "\"rope_theta\": 10000, \"rope_theta\": 20000", "duplicate key \"rope_theta\""},
        };
        for (String[] c : cases) {
            assertThat(original).contains(c[0]);
            Files.writeString(config, original.replace(c[0], c[1]));
            Result r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2", "--output",
                    out.toString());
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).as(c[1]).startsWith("error: " + config + ": ").contains(c[2]);
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
            assertThat(out).doesNotExist();
        }
    }
}
