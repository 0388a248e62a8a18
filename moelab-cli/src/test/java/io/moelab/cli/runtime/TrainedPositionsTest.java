package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.runtime.generate.Perplexity;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A model whose config.json says {@code max_position_embeddings} 16 (our trainer writes its {@code --seq} there):
 * perplexity and trace default to windows that fit it, and every text command warns, on stderr, where a run goes
 * past it. They used to run a default window of 512 positions on such a model without a word.
 */
class TrainedPositionsTest {
    private static final String WARNING = "warning: %s needs %d positions, more than this model's "
            + "max_position_embeddings 16 (config.json): it was not trained on positions past that and may predict "
            + "worse there (lower %s)";

    @TempDir
    Path dir;
    Path model;
    Path text;
    byte[] bytes;

    @BeforeEach
    void write() throws Exception {
        model = TinyMixtral.write(dir.resolve("model"), 258);
        Path config = model.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"rope_theta\": 10000",
                "\"rope_theta\": 10000, \"max_position_embeddings\": 16"));
        text = dir.resolve("text.txt");
        bytes = "The quick brown fox jumps over the lazy dog.".getBytes(StandardCharsets.US_ASCII);
        Files.write(text, bytes);
    }

    private static String warning(String what, int positions, String option) {
        return WARNING.formatted(what, positions, option);
    }

    @Test
    void perplexityDefaultsToWindowsWithinTheTrainedPositionsAndWarnsBeyondThem() throws Exception {
        Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(), "--format",
                "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain("warning");
        int[] tokens = IntStream.range(0, bytes.length).map(i -> bytes[i] & 0xFF).toArray();
        double nll16;
        double nll512;
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            nll16 = Perplexity.compute(m, tokens, 256, 16).nllPerToken();
            nll512 = Perplexity.compute(m, tokens, 256, 512).nllPerToken();
        }
        // The test tells the two defaults apart only where the windows change the result.
        assertThat(nll16).isNotCloseTo(nll512, Percentage.withPercentage(1e-3));
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        assertThat(json.get("nll_per_token").asDouble()).isCloseTo(nll16, Percentage.withPercentage(1e-4));

        Result longer = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(),
                "--context", "30");
        assertThat(longer.exitCode()).as(longer.err()).isZero();
        // BOS and 29 targets, the last only predicted: 29 positions fed.
        assertThat(longer.err().lines()).contains(warning("the longest window", 29, "--context"));
        Result fits = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(),
                "--context", "17");
        assertThat(fits.err()).doesNotContain("warning");
    }

    /**
     * A model made for one position (max_position_embeddings 1): perplexity's default window is the shortest that
     * scores a token, BOS and one target, which feeds only position 0. The default used to follow the config down to
     * 1, under the 2 a window needs, and the run ended in an IllegalArgumentException (exit 1) although no option
     * asked for anything wrong.
     */
    @Test
    void perplexityOnAModelOfOnePositionScoresWindowsOfTwo() throws Exception {
        Path config = model.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"max_position_embeddings\": 16",
                "\"max_position_embeddings\": 1"));
        Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(), "--format",
                "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        int[] tokens = IntStream.range(0, bytes.length).map(i -> bytes[i] & 0xFF).toArray();
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            Perplexity.Result two = Perplexity.compute(m, tokens, 256, 2);
            JsonNode json = JsonMapper.builder().build().readTree(r.out());
            assertThat(json.get("tokens").asLong()).isEqualTo(bytes.length);
            assertThat(json.get("nll_per_token").asDouble()).isCloseTo(two.nllPerToken(),
                    Percentage.withPercentage(1e-4));
        }
    }

    /**
     * Without BOS (a byte model of 257 ids) a window longer than the text feeds the text's tokens but the last: 43
     * positions for these 44 bytes, as the warning says. The warned text of the tests above had a BOS.
     */
    @Test
    void withoutBosTheLongestWindowIsTheTextLessItsLastToken() throws Exception {
        Path noBos = TinyMixtral.write(dir.resolve("no-bos"), 257);
        Path config = noBos.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"rope_theta\": 10000",
                "\"rope_theta\": 10000, \"max_position_embeddings\": 16"));
        Result r = CliRunner.run("perplexity", "--model", noBos.toString(), "--text", text.toString(), "--context",
                "100");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(bytes).hasSize(44);
        assertThat(r.err().lines()).containsExactly(warning("the longest window", 43, "--context"));
    }

    @Test
    void traceDefaultsToWindowsWithinTheTrainedPositionsAndWarnsBeyondThem() throws Exception {
        Path byDefault = dir.resolve("default.json");
        Path sixteen = dir.resolve("sixteen.json");
        Path longer = dir.resolve("longer.json");
        Result r = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                byDefault.toString(), "--batch-tokens", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain("warning");
        assertThat(CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                sixteen.toString(), "--batch-tokens", "4", "--context", "16").exitCode()).isZero();
        Result beyond = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                longer.toString(), "--batch-tokens", "4", "--context", "40");
        assertThat(beyond.exitCode()).as(beyond.err()).isZero();
        assertThat(beyond.err().lines()).contains(warning("the longest window", 40, "--context"));
        assertThat(TraceFiles.read(byDefault).stepList()).isEqualTo(TraceFiles.read(sixteen).stepList())
                .isNotEqualTo(TraceFiles.read(longer).stepList());
    }

    @Test
    void generateWarnsWhenThePromptAndNewTokensGoPastTheTrainedPositions() {
        // BOS and "Hi": 3 prompt tokens; the last new token is never fed back.
        Result fits = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "14");
        assertThat(fits.exitCode()).as(fits.err()).isZero();
        assertThat(fits.err()).doesNotContain("warning");
        Result beyond = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens",
                "15");
        assertThat(beyond.exitCode()).as(beyond.err()).isZero();
        assertThat(beyond.err().lines()).contains(warning("a prompt of 3 tokens plus 15 new ones", 17,
                "--max-tokens"));
    }

    @Test
    void logitsWarnsWhenTheTokenIdsGoPastTheTrainedPositions() {
        for (int n : new int[] {16, 17}) {
            Path out = dir.resolve("logits" + n + ".json");
            String ids = IntStream.range(0, n).mapToObj(i -> Integer.toString(i + 65)).collect(Collectors.joining(","));
            Result r = CliRunner.run("logits", "--model", model.toString(), "--token-ids", ids, "--output",
                    out.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            if (n == 16) {
                assertThat(r.err()).doesNotContain("warning");
            } else {
                assertThat(r.err().lines()).contains(warning("a sequence of 17 token ids", 17, "--token-ids"));
            }
        }
    }
}
