package io.moelab.evolve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.database.DatabaseSettings;
import io.moelab.evolve.eval.EvaluatorSettings;
import io.moelab.evolve.llm.LlmModel;
import io.moelab.evolve.llm.LlmSettings;
import io.moelab.evolve.prompt.PromptSettings;
import io.moelab.evolve.run.EvolveSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * YAML configuration: the shipped file documents the real defaults, every key is honoured, mistakes name their
 * path.
 */
class EvolveConfigTest {
    private static final String BASE = "http://127.0.0.1:8000/v1";

    @TempDir
    Path tmp;

    private int files;

    private Path write(String yaml) throws IOException {
        Path p = tmp.resolve("config" + files++ + ".yaml");
        Files.writeString(p, yaml, StandardCharsets.UTF_8);
        return p;
    }

    /** Reads a file with the usual command-line overrides (a model and an endpoint) and builds it. */
    private EvolveSettings load(String yaml) throws IOException {
        return EvolveConfig.defaults("combined_score").read(write(yaml)).model("m").apiBase(BASE).build(null);
    }

    private EvolveConfig read(String yaml) throws IOException {
        return EvolveConfig.defaults("combined_score").read(write(yaml));
    }

    /** The error message of reading a file, which must be an InvalidInputException naming the file. */
    private String readError(String yaml) throws IOException {
        Path file = write(yaml);
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> EvolveConfig.defaults("combined_score")
                .read(file).apiBase(BASE).build(null));
        assertThat(t).as("error for:\n" + yaml).isInstanceOf(InvalidInputException.class);
        assertThat(t.getMessage()).contains(file.toString());
        return t.getMessage();
    }

    // --- the shipped file ------------------------------------------------------------------------------------

    @Test
    void shippedFileDocumentsTheRealDefaults() throws IOException {
        Path file = write(EvolveConfig.commentedDefaults());
        EvolveConfig fromFile = EvolveConfig.defaults("score").read(file);
        assertThat(fromFile.warnings()).isEmpty();
        assertThat(fromFile.hasModels()).as("the shipped file configures no model").isFalse();
        EvolveSettings a = fromFile.model("m").apiBase(BASE).build("KEY_VAR");
        EvolveSettings b = EvolveConfig.defaults("score").model("m").apiBase(BASE).build("KEY_VAR");
        assertThat(a).isEqualTo(b);

        // ... and the defaults are those of the settings classes and the documented numbers.
        assertThat(a.maxIterations()).isEqualTo(100);
        assertThat(a.checkpointInterval()).isEqualTo(10);
        assertThat(a.keepCheckpoints()).isEqualTo(3);
        assertThat(a.randomSeed()).isEqualTo(42);
        assertThat(a.diffBased()).isTrue();
        assertThat(a.maxCodeLength()).isEqualTo(60_000);
        assertThat(a.earlyStoppingPatience()).isZero();
        assertThat(a.convergenceThreshold()).isEqualTo(0.001);
        assertThat(a.llm()).isEqualTo(LlmSettings.defaults(List.of(new LlmModel("m", 1, BASE, "KEY_VAR", 0, 0))));
        assertThat(a.prompt()).isEqualTo(PromptSettings.defaults());
        DatabaseSettings d = DatabaseSettings.defaults();
        assertThat(a.database()).isEqualTo(new DatabaseSettings(d.numIslands(), d.populationSize(), d.archiveSize(),
                d.migrationInterval(), d.migrationRate(), d.explorationRatio(), d.exploitationRatio(),
                d.featureDimensions(), d.featureBins(), "score", d.paretoMetrics(), d.numTopPrograms(),
                d.numInspirations()));
        assertThat(a.evaluator()).isEqualTo(EvaluatorSettings.defaults());
    }

    @Test
    void shippedFileWithoutOverridesBuildsTheReplayPlaceholderLikeTheDefaults() throws IOException {
        EvolveSettings a = EvolveConfig.defaults("x").read(write(EvolveConfig.commentedDefaults())).build(null);
        EvolveSettings b = EvolveConfig.defaults("x").build(null);
        assertThat(a).isEqualTo(b);
        assertThat(a.llm().models()).extracting(LlmModel::name).containsExactly("replay");
    }

    /** Every key the reader accepts, parsed out of its source so that a new key cannot go undocumented. */
    private static Set<String> acceptedKeys() throws IOException {
        String src = Files.readString(Path.of("src/main/java/io/moelab/evolve/config/EvolveConfig.java"));
        Set<String> keys = new LinkedHashSet<>();
        Matcher set = Pattern.compile("Set\\.of\\(([^)]*)\\)").matcher(src);
        while (set.find()) {
            Matcher q = Pattern.compile("\"([a-z_]+)\"").matcher(set.group(1));
            while (q.find()) {
                keys.add(q.group(1));
            }
        }
        return keys;
    }

    @Test
    void shippedFileMentionsEveryAcceptedKey() throws IOException {
        Set<String> keys = acceptedKeys();
        // Sanity of the parse: keys of each section and of model entries.
        assertThat(keys).contains("max_iterations", "models", "input_price", "num_diverse_programs", "pareto_metrics",
                "max_output_bytes", "secondary_model_weight").hasSizeGreaterThan(50);
        String doc = EvolveConfig.commentedDefaults();
        List<String> missing = new ArrayList<>();
        for (String k : keys) {
            if (!Pattern.compile("(?m)^[\\s#-]*" + k + ":").matcher(doc).find()
                    && !Pattern.compile("\\b" + k + ": ").matcher(doc).find()) {
                missing.add(k);
            }
        }
        assertThat(missing).as("keys accepted by EvolveConfig but not in config.yaml").isEmpty();
    }

    /** {@code moelab evolve init} writes the shipped file for people to read: its lines fit in 120 columns. */
    @Test
    void shippedFileLinesFitIn120Columns() {
        String[] lines = EvolveConfig.commentedDefaults().split("\n", -1);
        List<String> wide = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].length() > 120) {
                wide.add((i + 1) + ": " + lines[i]);
            }
        }
        assertThat(wide).isEmpty();
    }

    /** The shipped file with every commented-out key line made live. */
    private static String uncommented() {
        StringBuilder sb = new StringBuilder();
        for (String line : EvolveConfig.commentedDefaults().split("\n", -1)) {
            Matcher m = Pattern.compile("^(\\s*)# ([-\\s]*[a-z_]+:.*)$").matcher(line);
            sb.append(m.matches() ? m.group(1) + m.group(2) : line).append('\n');
        }
        return sb.toString();
    }

    @Test
    void commentedOutExamplesInTheShippedFileAreValid() throws IOException {
        String live = uncommented();
        assertThat(live).contains("\n  models:", "\n  budget_usd: 10.0", "\n  fitness_metric: combined_score");
        EvolveConfig cfg = EvolveConfig.defaults("score").read(write(live));
        assertThat(cfg.warnings()).isEmpty();
        EvolveSettings s = cfg.build(null);
        assertThat(s.llm().models()).extracting(LlmModel::name, LlmModel::weight)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("gpt-4.1-mini", 0.8),
                        org.assertj.core.groups.Tuple.tuple("gpt-4.1", 0.2),
                        org.assertj.core.groups.Tuple.tuple("qwen2.5-coder-32b", 1.0),
                        org.assertj.core.groups.Tuple.tuple("qwen2.5-coder-7b", 0.2));
        assertThat(s.llm().models()).allSatisfy(m -> {
            assertThat(m.apiBase()).isEqualTo("http://localhost:8000/v1");
            assertThat(m.apiKeyEnv()).isEqualTo("OPENAI_API_KEY");
        });
        assertThat(s.llm().models().get(1).outputUsdPerMillion()).isEqualTo(8.0);
        assertThat(s.llm().budgetUsd()).isEqualTo(10.0);
        assertThat(s.evaluator().cascadeMetric()).isEqualTo("validity");
        assertThat(s.database().fitnessMetric()).isEqualTo("combined_score");
        assertThat(s.prompt().templateDir()).isEqualTo(tmp.resolve("prompts").toAbsolutePath().normalize());
    }

    // --- every key is honoured -------------------------------------------------------------------------------

    @Test
    void everyKeyIsHonoured() throws IOException {
        EvolveSettings s = EvolveConfig.defaults("combined_score").read(write("""
                max_iterations: 7
                checkpoint_interval: 3
                keep_checkpoints: 5
                random_seed: -9
                diff_based_evolution: false
                max_code_length: 1234
                early_stopping_patience: 11
                convergence_threshold: 0.25
                llm:
                  api_base: https://example.org/v1
                  api_key_env: MY_KEY
                  models:
                    - name: a
                  temperature: 1.3
                  top_p: 0.5
                  max_tokens: 99
                  timeout: 2.5
                  retries: 0
                  retry_delay: 0.5
                  max_retry_delay: 4
                  budget_usd: 1.25
                prompt:
                  system_message: be brief
                  template_dir: /opt/templates
                  num_top_programs: 1
                  num_diverse_programs: 0
                  num_previous_attempts: 2
                  include_artifacts: false
                  max_artifact_bytes: 77
                database:
                  num_islands: 2
                  population_size: 40
                  archive_size: 8
                  migration_interval: 6
                  migration_rate: 0.3
                  exploration_ratio: 0.4
                  exploitation_ratio: 0.5
                  feature_dimensions: [complexity, balancedness]
                  feature_bins: 4
                  fitness_metric: balancedness
                  pareto_metrics: [balancedness, -rebalance_ms]
                evaluator:
                  timeout: 1.5
                  memory_mb: 256
                  parallel_evaluations: 3
                  cascade_evaluation: false
                  cascade_thresholds: [0.5, 0.9]
                  cascade_metric: validity
                  max_output_bytes: 4096
                """)).build(null);
        assertThat(s.maxIterations()).isEqualTo(7);
        assertThat(s.checkpointInterval()).isEqualTo(3);
        assertThat(s.keepCheckpoints()).isEqualTo(5);
        assertThat(s.randomSeed()).isEqualTo(-9);
        assertThat(s.diffBased()).isFalse();
        assertThat(s.maxCodeLength()).isEqualTo(1234);
        assertThat(s.earlyStoppingPatience()).isEqualTo(11);
        assertThat(s.convergenceThreshold()).isEqualTo(0.25);

        LlmSettings l = s.llm();
        assertThat(l.models()).containsExactly(new LlmModel("a", 1, "https://example.org/v1", "MY_KEY", 0, 0));
        assertThat(l.temperature()).isEqualTo(1.3);
        assertThat(l.topP()).isEqualTo(0.5);
        assertThat(l.maxTokens()).isEqualTo(99);
        assertThat(l.timeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(l.retries()).isZero();
        assertThat(l.retryDelay()).isEqualTo(Duration.ofMillis(500));
        assertThat(l.maxRetryDelay()).isEqualTo(Duration.ofSeconds(4));
        assertThat(l.budgetUsd()).isEqualTo(1.25);
        assertThat(l.seed()).as("random_seed seeds the LLM too").isEqualTo(-9);

        assertThat(s.prompt()).isEqualTo(new PromptSettings("be brief", Path.of("/opt/templates"), 2, false, 77));
        assertThat(s.database()).isEqualTo(new DatabaseSettings(2, 40, 8, 6, 0.3, 0.4, 0.5,
                List.of("complexity", "balancedness"), 4, "balancedness", List.of("balancedness", "-rebalance_ms"),
                1, 0));
        assertThat(s.evaluator()).isEqualTo(new EvaluatorSettings(Duration.ofMillis(1500), 256, false,
                List.of(0.5, 0.9), "validity", 3, 4096, EvaluatorSettings.defaults().artifactBytes()));
        assertThat(s.evaluator().timeoutSetting()).isEqualTo("evaluator.timeout");
    }

    @Test
    void evalTimeoutStaysTheOptionsUnlessAFileReadLaterSetsTheTimeout() throws IOException {
        EvolveConfig c = EvolveConfig.defaults("x").evalTimeout(Duration.ofSeconds(30)).apiBase(BASE).model("m");
        c.read(write("evaluator: {parallel_evaluations: 2}\n"));
        assertThat(c.build(null).evaluator().timeoutSetting()).isEqualTo("--eval-timeout");
        c.read(write("evaluator: {timeout: 5}\n"));
        assertThat(c.build(null).evaluator().timeoutSetting()).isEqualTo("evaluator.timeout");
        assertThat(c.build(null).evaluator().timeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void earlyStoppingPatienceNullMeansNever() throws IOException {
        assertThat(load("early_stopping_patience: 4\n").earlyStoppingPatience()).isEqualTo(4);
        assertThat(load("early_stopping_patience: null\n").earlyStoppingPatience()).isZero();
        // Null in a later file turns off what an earlier one set.
        assertThat(read("early_stopping_patience: 4\n").read(write("early_stopping_patience: null\n")).model("m")
                .apiBase(BASE).build(null).earlyStoppingPatience()).isZero();
    }

    /** Delays may be zero (no wait between retries); a negative one is named with its range. */
    @Test
    void retryDelaysMayBeZeroButNotNegative() throws IOException {
        EvolveSettings s = load("llm: {retry_delay: 0, max_retry_delay: 0}\n");
        assertThat(s.llm().retryDelay()).isZero();
        assertThat(s.llm().maxRetryDelay()).isZero();
        assertThat(readError("llm: {retry_delay: -1}\n")).endsWith(": llm.retry_delay: must be a non-negative number "
                + "of seconds up to 10000000, got -1");
        assertThat(readError("llm: {timeout: 10000001}\n")).endsWith(": llm.timeout: must be a positive number "
                + "of seconds up to 10000000, got 10000001");
        assertThat(load("llm: {timeout: 10000000}\n").llm().timeout()).isEqualTo(Duration.ofSeconds(10_000_000));
    }

    @Test
    void commandLineOverridesWinOverTheFile() throws IOException {
        EvolveSettings s = read("""
                max_iterations: 7
                random_seed: 3
                llm: {api_base: "http://file/v1", api_key_env: FILE_KEY, budget_usd: 9, models: [{name: filemodel}]}
                evaluator: {timeout: 5, parallel_evaluations: 2}
                """).iterations(12).seed(8).evalTimeout(Duration.ofSeconds(30)).parallel(4).budget(2)
                .apiBase("http://cli/v1").apiKeyEnv("CLI_KEY").model("climodel").build(null);
        assertThat(s.maxIterations()).isEqualTo(12);
        assertThat(s.randomSeed()).isEqualTo(8);
        assertThat(s.llm().seed()).isEqualTo(8);
        assertThat(s.evaluator().timeout()).isEqualTo(Duration.ofSeconds(30));
        // A stage it kills names the option, not the file's key that it replaced.
        assertThat(s.evaluator().timeoutSetting()).isEqualTo("--eval-timeout");
        assertThat(s.evaluator().parallel()).isEqualTo(4);
        assertThat(s.llm().budgetUsd()).isEqualTo(2);
        assertThat(s.llm().models()).containsExactly(new LlmModel("climodel", 1, "http://cli/v1", "CLI_KEY", 0, 0));
    }

    @Test
    void templateDirIsRelativeToTheConfigurationFile() throws IOException {
        Path sub = Files.createDirectories(tmp.resolve("conf"));
        Path file = sub.resolve("c.yaml");
        Files.writeString(file, "prompt:\n  template_dir: ../prompts\n");
        EvolveSettings s = EvolveConfig.defaults("x").read(file).build(null);
        assertThat(s.prompt().templateDir()).isEqualTo(tmp.resolve("prompts").toAbsolutePath().normalize());
    }

    // --- models ----------------------------------------------------------------------------------------------

    @Test
    void modelsWithWeightsPricesAndTheirOwnEndpoints() throws IOException {
        EvolveSettings s = read("""
                llm:
                  api_base: http://section/v1
                  api_key_env: SECTION_KEY
                  models:
                    - name: small
                      weight: 3
                      input_price: 0.4
                      output_price: 1.6
                    - name: big
                      weight: 1
                      api_base: https://big.example/v1
                      api_key_env: BIG_KEY
                      input_price: 2
                      output_price: 8
                    - name: local
                      api_base: http://127.0.0.1:11434/v1
                """).build("DEFAULT_KEY");
        assertThat(s.llm().models()).containsExactly(
                new LlmModel("small", 3, "http://section/v1", "SECTION_KEY", 0.4, 1.6),
                new LlmModel("big", 1, "https://big.example/v1", "BIG_KEY", 2, 8),
                new LlmModel("local", 1, "http://127.0.0.1:11434/v1", "SECTION_KEY", 0, 0));
    }

    @Test
    void keyVariableFallsBackToTheCallersDefault() throws IOException {
        EvolveSettings s = read("llm: {api_base: 'http://h/v1', models: [{name: a}]}\n").build("OPENAI_API_KEY");
        assertThat(s.llm().models().getFirst().apiKeyEnv()).isEqualTo("OPENAI_API_KEY");
        EvolveSettings none = read("llm: {api_base: 'http://h/v1', models: [{name: a}]}\n").build(null);
        assertThat(none.llm().models().getFirst().apiKeyEnv()).isNull();
    }

    @Test
    void aModelWithoutAnyEndpointIsAnError() throws IOException {
        EvolveConfig cfg = read("llm: {models: [{name: a}]}\n");
        assertThatThrownBy(() -> cfg.build(null)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("llm.api_base").hasMessageContaining("a");
    }

    @Test
    void openEvolvePrimaryAndSecondaryModels() throws IOException {
        EvolveSettings s = read("""
                llm:
                  api_base: http://h/v1
                  primary_model: p
                  primary_model_weight: 0.6
                  secondary_model: q
                  secondary_model_weight: 0.4
                """).build(null);
        assertThat(s.llm().models()).containsExactly(new LlmModel("p", 0.6, "http://h/v1", null, 0, 0),
                new LlmModel("q", 0.4, "http://h/v1", null, 0, 0));

        // OpenEvolve's default weights: 1 for the primary, 0.2 for the secondary.
        EvolveSettings d = read("llm: {api_base: 'http://h/v1', primary_model: p, secondary_model: q}\n").build(null);
        assertThat(d.llm().models()).extracting(LlmModel::name, LlmModel::weight)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("p", 1.0),
                        org.assertj.core.groups.Tuple.tuple("q", 0.2));

        // A secondary weight of 0 leaves it out; name is another spelling of primary_model.
        EvolveSettings z = read("llm: {api_base: 'http://h/v1', name: p, secondary_model: q, "
                + "secondary_model_weight: 0}\n").build(null);
        assertThat(z.llm().models()).extracting(LlmModel::name).containsExactly("p");
    }

    @Test
    void aLaterFileWithModelsReplacesTheEarlierOnesAndOneWithoutKeepsThem() throws IOException {
        EvolveConfig cfg = EvolveConfig.defaults("x")
                .read(write("llm: {api_base: 'http://h/v1', models: [{name: a}]}\n"))
                .read(write("llm: {temperature: 0.1}\n"));
        assertThat(cfg.build(null).llm().models()).extracting(LlmModel::name).containsExactly("a");
        cfg.read(write("llm: {models: [{name: b}, {name: c}]}\n"));
        assertThat(cfg.build(null).llm().models()).extracting(LlmModel::name).containsExactly("b", "c");
    }

    // --- API keys --------------------------------------------------------------------------------------------

    @Test
    void anApiKeyInTheFileIsRefused() throws IOException {
        String msg = readError("llm:\n  api_key: sk-secret-123\n");
        assertThat(msg).contains("llm.api_key").contains("environment variable").doesNotContain("sk-secret-123");
        String model = readError("llm:\n  models:\n    - name: a\n    - name: b\n      api_key: sk-x\n");
        assertThat(model).contains("llm.models[1].api_key").contains("environment variable");
    }

    @Test
    void openEvolvesNullKeyAndEnvironmentReferenceAreAccepted() throws IOException {
        EvolveSettings nul = read("llm: {api_base: 'http://h/v1', api_key: null, models: [{name: a}]}\n").build("D");
        assertThat(nul.llm().models().getFirst().apiKeyEnv()).isEqualTo("D");
        EvolveSettings ref = read("""
                llm:
                  api_base: http://h/v1
                  api_key: ${GEMINI_API_KEY}
                  models:
                    - name: a
                    - name: b
                      api_key: "${OTHER_KEY}"
                """).build("D");
        assertThat(ref.llm().models()).extracting(LlmModel::apiKeyEnv).containsExactly("GEMINI_API_KEY", "OTHER_KEY");
        // Not a reference: embedded in other text.
        assertThat(readError("llm:\n  api_key: \"x${VAR}\"\n")).contains("llm.api_key");
    }

    // --- mistakes name their path ----------------------------------------------------------------------------

    @Test
    void unknownKeysNameTheirPath() throws IOException {
        assertThat(readError("llm:\n  modelz: []\n")).contains(": llm.modelz:").contains("unknown key")
                .contains("models");
        assertThat(readError("max_iteration: 3\n")).contains(": max_iteration:").contains("unknown key");
        assertThat(readError("llm:\n  models:\n    - name: a\n    - name: b\n      wieght: 2\n"))
                .contains("llm.models[1].wieght");
        assertThat(readError("database:\n  islands: 3\n")).contains("database.islands");
        assertThat(readError("evaluator:\n  cascade: true\n")).contains("evaluator.cascade");
        assertThat(readError("prompt:\n  num_top: 3\n")).contains("prompt.num_top");
    }

    @Test
    void wrongTypesNameTheirPath() throws IOException {
        assertThat(readError("max_iterations: ten\n")).contains(": max_iterations:").contains("whole number");
        assertThat(readError("max_iterations: 2.5\n")).contains(": max_iterations:");
        assertThat(readError("llm:\n  temperature: hot\n")).contains("llm.temperature").contains("number");
        assertThat(readError("llm: [a, b]\n")).contains(": llm:").contains("mapping");
        assertThat(readError("database: 5\n")).contains(": database:").contains("mapping");
        assertThat(readError("llm:\n  models: {name: a}\n")).contains("llm.models").contains("list");
        assertThat(readError("llm:\n  models: [a]\n")).contains("llm.models[0]").contains("mapping");
        assertThat(readError("llm:\n  models: [{weight: 2}]\n")).contains("llm.models[0].name").contains("missing");
        assertThat(readError("llm:\n  api_base: {a: 1}\n")).contains("llm.api_base").contains("text");
        assertThat(readError("database:\n  feature_dimensions: complexity\n")).contains("database.feature_dimensions");
        assertThat(readError("database:\n  feature_dimensions: [1, 2]\n")).contains("database.feature_dimensions");
        assertThat(readError("evaluator:\n  cascade_evaluation: 1\n")).contains("evaluator.cascade_evaluation")
                .contains("true or false");
        assertThat(readError("evaluator:\n  cascade_thresholds: [0.5, high]\n"))
                .contains("evaluator.cascade_thresholds");
        assertThat(readError("random_seed: 99999999999999999999999\n")).contains(": random_seed:");
        assertThat(readError("- just\n- a list\n")).contains("(top)").contains("mapping");
    }

    @Test
    void aKeyGivenTwiceIsAnErrorWithItsLine() throws IOException {
        // Both sections are valid alone; the parser kept the second and 2 islands silently became 3.
        assertThat(readError("database:\n  num_islands: 2\ndatabase:\n  num_islands: 3\n"))
                .endsWith(": cannot read: Duplicate Object property \"database\" (line 3, column 9)");
        assertThat(readError("evaluator:\n  timeout: 60\n  memory_mb: 512\n  timeout: 5\n"))
                .endsWith(": cannot read: Duplicate Object property \"timeout\" (line 4, column 10)");
    }

    @Test
    void malformedYamlNamesTheFile() throws IOException {
        assertThat(readError("llm: {temperature: 0.5\n")).contains("cannot read");
        assertThatThrownBy(() -> EvolveConfig.defaults("x").read(tmp.resolve("absent.yaml")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("absent.yaml");
    }

    /**
     * A file in another encoding (UTF-16, as Windows PowerShell's {@code >} writes it, or Latin-1) was refused as
     * "cannot read: Input length = 1", the decoder's message, which names neither the encoding nor where.
     */
    @Test
    void aFileThatIsNotUtf8IsNamedSo() throws IOException {
        Path utf16 = tmp.resolve("utf16.yaml");
        Files.writeString(utf16, "max_iterations: 5\n", StandardCharsets.UTF_16LE);
        Files.write(utf16, concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, Files.readAllBytes(utf16)));
        assertThatThrownBy(() -> EvolveConfig.defaults("x").read(utf16)).isInstanceOf(InvalidInputException.class)
                .hasMessage(utf16 + ": cannot read: not UTF-8 text (at byte offset 0)");
        Path latin1 = tmp.resolve("latin1.yaml");
        Files.writeString(latin1, "prompt:\n  system_message: caf\u00e9\n", StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> EvolveConfig.defaults("x").read(latin1)).isInstanceOf(InvalidInputException.class)
                .hasMessage(latin1 + ": cannot read: not UTF-8 text (at byte offset 29)");
        // Standard input likewise, under the name it is given.
        byte[] bytes = Files.readAllBytes(latin1);
        assertThatThrownBy(() -> EvolveConfig.defaults("x").read(new java.io.ByteArrayInputStream(bytes),
                Path.of("-"))).isInstanceOf(InvalidInputException.class)
                .hasMessage("-: cannot read: not UTF-8 text (at byte offset 29)");
        // A UTF-8 byte order mark is UTF-8.
        Path bom = tmp.resolve("bom.yaml");
        Files.write(bom, concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
                "max_iterations: 5\n".getBytes(StandardCharsets.UTF_8)));
        assertThat(EvolveConfig.defaults("x").read(bom).model("m").apiBase(BASE).build(null).maxIterations())
                .isEqualTo(5);
    }

    /**
     * A file of two YAML documents: Jackson refused it in its own terms ("Trailing token (`JsonToken.START_OBJECT`)
     * found after value (bound as `tools.jackson.databind.JsonNode`): not allowed as per
     * `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`"), which named neither the second document nor `---`.
     */
    @Test
    void aSecondYamlDocumentIsNamedAsSuch() throws IOException {
        assertThat(readError("max_iterations: 5\n---\nmax_iterations: 7\n")).endsWith(": cannot read: a second "
                + "document begins at line 3, column 1 (after ---): the file must hold one");
        assertThat(readError("# runs\nmax_iterations: 5\n--- 7\n")).endsWith(": cannot read: a second document "
                + "begins at line 3, column 5 (after ---): the file must hold one");
        // A document end marker alone, or a leading ---, is one document.
        assertThat(load("---\nmax_iterations: 5\n...\n").maxIterations()).isEqualTo(5);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void ignoredOpenEvolveKeysWarnButLoad() throws IOException {
        EvolveConfig cfg = read("""
                log_level: DEBUG
                language: python
                llm:
                  models:
                    - name: a
                      temperature: 0.1
                database:
                  elite_selection_ratio: 0.3
                """);
        assertThat(cfg.warnings()).hasSize(4);
        assertThat(String.join("\n", cfg.warnings())).contains("log_level ignored", "language ignored",
                "llm.models[0].temperature ignored", "database.elite_selection_ratio ignored");
        assertThat(cfg.warnings()).allSatisfy(w -> assertThat(w).startsWith(tmp.toString()));
        // OpenEvolve reads elite_selection_ratio for inspirations (and only outside its run loop), not for parents.
        assertThat(cfg.warnings()).filteredOn(w -> w.contains("elite_selection_ratio")).singleElement()
                .asString().contains("inspirations").doesNotContain("parents");
        EvolveSettings s = cfg.apiBase(BASE).build(null);
        assertThat(s.llm().temperature()).as("the per-model temperature is not applied").isEqualTo(0.7);
        assertThat(s.database()).isEqualTo(EvolveConfig.defaults("combined_score").build(null).database());
    }

    @Test
    void anOpenEvolveConfigurationLoads() throws IOException {
        // Modelled on OpenEvolve's example configurations.
        EvolveConfig cfg = read("""
                # Configuration for function minimization example
                max_iterations: 50
                checkpoint_interval: 5
                log_level: "INFO"

                # LLM configuration
                llm:
                  primary_model: "gemini-2.0-flash-lite"
                  primary_model_weight: 0.8
                  secondary_model: "gemini-2.0-flash"
                  secondary_model_weight: 0.2
                  api_base: "https://generativelanguage.googleapis.com/v1beta/openai/"
                  temperature: 0.7
                  top_p: 0.95
                  max_tokens: 4096

                # Prompt configuration
                prompt:
                  system_message: "You are an expert programmer specializing in optimization algorithms."
                  num_top_programs: 3
                  use_template_stochasticity: true

                # Database configuration
                database:
                  population_size: 50
                  archive_size: 20
                  num_islands: 3
                  elite_selection_ratio: 0.2
                  exploitation_ratio: 0.7

                # Evaluator configuration
                evaluator:
                  timeout: 60
                  cascade_evaluation: true
                  cascade_thresholds: [0.5, 0.75]
                  parallel_evaluations: 4
                  use_llm_feedback: false
                """);
        assertThat(cfg.warnings()).hasSize(4);
        assertThat(String.join("\n", cfg.warnings())).contains("log_level", "prompt.use_template_stochasticity",
                "database.elite_selection_ratio", "evaluator.use_llm_feedback");
        EvolveSettings s = cfg.build(null);
        assertThat(s.maxIterations()).isEqualTo(50);
        assertThat(s.checkpointInterval()).isEqualTo(5);
        String base = "https://generativelanguage.googleapis.com/v1beta/openai/";
        assertThat(s.llm().models()).containsExactly(new LlmModel("gemini-2.0-flash-lite", 0.8, base, null, 0, 0),
                new LlmModel("gemini-2.0-flash", 0.2, base, null, 0, 0));
        assertThat(s.llm().models().getFirst().chatCompletionsUrl()).isEqualTo(
                "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions");
        assertThat(s.llm().temperature()).isEqualTo(0.7);
        assertThat(s.llm().topP()).isEqualTo(0.95);
        assertThat(s.llm().maxTokens()).isEqualTo(4096);
        assertThat(s.prompt().systemMessage()).startsWith("You are an expert programmer");
        assertThat(s.database().numTopPrograms()).isEqualTo(3);
        assertThat(s.database().populationSize()).isEqualTo(50);
        assertThat(s.database().archiveSize()).isEqualTo(20);
        assertThat(s.database().numIslands()).isEqualTo(3);
        assertThat(s.database().exploitationRatio()).isEqualTo(0.7);
        assertThat(s.evaluator().timeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.evaluator().cascade()).isTrue();
        assertThat(s.evaluator().cascadeThresholds()).containsExactly(0.5, 0.75);
        assertThat(s.evaluator().parallel()).isEqualTo(4);
    }

    @Test
    void openEvolvesFullDefaultConfigurationLoads() throws IOException {
        // The shape of OpenEvolve's configs/default_config.yaml: a null api_key, sections this loop has no use for.
        EvolveConfig cfg = read("""
                max_iterations: 100
                log_dir: null
                enforce_evolve_blocks: false
                early_stopping_patience: null
                early_stopping_metric: "combined_score"
                llm:
                  models:
                    - name: "gemini-2.0-flash-lite"
                      weight: 0.8
                  evaluator_models:
                    - name: "gemini-2.0-flash-lite"
                      weight: 0.8
                  api_base: "https://generativelanguage.googleapis.com/v1beta/openai/"
                  api_key: null
                  timeout: 60
                  retries: 3
                  retry_delay: 5
                prompt:
                  template_dir: null
                  evaluator_system_message: "You are an expert code reviewer."
                  num_diverse_programs: 2
                  template_variations:
                    improvement_suggestion:
                      - "Here's how we could improve this code:"
                  max_artifact_bytes: 20480
                  artifact_security_filter: true
                  suggest_simplification_after_chars: 500
                  include_changes_under_chars: 100
                  diff_summary_max_line_len: 100
                  diff_summary_max_lines: 30
                database:
                  db_path: null
                  in_memory: true
                  log_prompts: true
                  diversity_reference_size: 20
                evaluator:
                  timeout: 300
                  max_retries: 3
                  llm_feedback_weight: 0.1
                evolution_trace:
                  enabled: false
                  format: 'jsonl'
                """);
        assertThat(cfg.warnings()).hasSize(18).allSatisfy(w -> assertThat(w).contains(" ignored ("));
        EvolveSettings s = cfg.build(null);
        assertThat(s.llm().models()).extracting(LlmModel::name).containsExactly("gemini-2.0-flash-lite");
        assertThat(s.llm().retryDelay()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.prompt().templateDir()).isNull();
        assertThat(s.prompt().maxArtifactChars()).isEqualTo(20480);
        assertThat(s.database().numInspirations()).isEqualTo(2);
        assertThat(s.evaluator().timeout()).isEqualTo(Duration.ofSeconds(300));
    }

    @Test
    void openEvolvesNoveltyAndRewriteKeysWarnButLoad() throws IOException {
        // allow_full_rewrites is in ten of OpenEvolve's example configurations (circle_packing, mlx_metal_kernel_opt,
        // ...), database.similarity_threshold in function_minimization's, embedding_model and reasoning_effort are
        // fields of its DatabaseConfig and LLMModelConfig: each file was refused as having an unknown key.
        EvolveConfig cfg = read("""
                allow_full_rewrites: true
                llm:
                  models:
                    - name: a
                      reasoning_effort: high
                database:
                  embedding_model: "text-embedding-3-small"
                  similarity_threshold: 0.99
                """);
        assertThat(cfg.warnings()).hasSize(4);
        assertThat(String.join("\n", cfg.warnings())).contains("allow_full_rewrites ignored",
                "llm.models[0].reasoning_effort ignored", "database.embedding_model ignored",
                "database.similarity_threshold ignored");
        EvolveSettings s = cfg.apiBase(BASE).build(null);
        assertThat(s.diffBased()).as("diff_based_evolution alone chooses the edit form").isTrue();
        assertThat(s.database()).isEqualTo(EvolveConfig.defaults("combined_score").build(null).database());
    }

    @Test
    void anEmptyFileChangesNothing() throws IOException {
        EvolveSettings defaults = EvolveConfig.defaults("combined_score").model("m").apiBase(BASE).build(null);
        assertThat(load("")).isEqualTo(defaults);
        assertThat(load("# only a comment\n\n")).isEqualTo(defaults);
        assertThat(load("llm:\nprompt: null\n")).as("empty sections").isEqualTo(defaults);
        assertThat(read("").warnings()).isEmpty();
    }

    // --- ranges ----------------------------------------------------------------------------------------------

    @Test
    void outOfRangeValuesNameTheirKey() throws IOException {
        // Named with the file, and with the bounds: past an int's range it was "expected a whole number", and two
        // billion had the run fill memory listing its iterations.
        assertThat(readError("max_iterations: -1\n")).endsWith(": max_iterations: must be 0 to 1000000, got -1");
        assertThat(readError("max_iterations: 1000001\n")).endsWith(": max_iterations: must be 0 to 1000000, got "
                + "1000001");
        assertThat(readError("max_iterations: 3000000000\n")).endsWith(": max_iterations: must be 0 to 1000000, "
                + "got 3000000000");
        assertThat(load("max_iterations: 1000000\n").maxIterations()).isEqualTo(1_000_000);
        assertThat(load("max_iterations: 0\n").maxIterations()).isZero();
        assertThat(readError("checkpoint_interval: 0\n")).endsWith(": checkpoint_interval: must be at least 1, got 0");
        assertThat(readError("llm: {temperature: 2.5}\n")).endsWith(": llm.temperature: must be in [0, 2], got 2.5");
        assertThat(readError("llm: {models: [{name: a, weight: -1}]}\n")).endsWith(": llm.models[0].weight: must be "
                + "positive and finite, got -1");
        assertThat(readError("database:\n  exploration_ratio: 0.5\n  exploitation_ratio: 0.6\n"))
                .contains("database.exploration_ratio").contains("at most 1");
        // Numbers as the file wrote them, not as Java prints a double ("got 3.0", "got 2.0").
        assertThat(readError("llm: {temperature: 3}\n")).endsWith(": llm.temperature: must be in [0, 2], got 3");
        assertThat(readError("database:\n  migration_rate: 2\n")).endsWith(": database.migration_rate: must be in "
                + "[0, 1], got 2");
        assertThat(readError("database:\n  exploration_ratio: 1\n  exploitation_ratio: 1\n")).endsWith(
                ": database.exploration_ratio: plus exploitation_ratio must be at most 1, got 2");
        assertThat(readError("database:\n  num_islands: 10\n  population_size: 5\n"))
                .contains("database.population_size");
        // Taken: an axis twice left the grid its diagonal; a metric both maximized and minimized let no program
        // dominate another.
        assertThat(readError("database:\n  feature_dimensions: [complexity, complexity]\n")).endsWith(
                ": database.feature_dimensions: lists complexity twice: each is an axis of the grid once");
        assertThat(readError("database:\n  pareto_metrics: [balancedness, -balancedness]\n")).endsWith(
                ": database.pareto_metrics: lists balancedness twice: each is an objective (- minimizes it) once");
        assertThat(readError("database:\n  pareto_metrics: [a, b, a]\n")).endsWith(
                ": database.pareto_metrics: lists a twice: each is an objective (- minimizes it) once");
        // A blank fitness metric: refused on reading, not after the initial program has been evaluated.
        assertThat(readError("database:\n  fitness_metric: \"\"\n")).endsWith(
                ": database.fitness_metric: must name a metric, got ''");
        // Prompt keys that the database settings check are named as the file has them.
        assertThat(readError("prompt:\n  num_top_programs: -1\n")).endsWith(": prompt.num_top_programs: must be at "
                + "least 0, got -1");
        assertThat(readError("prompt:\n  num_diverse_programs: -2\n")).endsWith(": prompt.num_diverse_programs: "
                + "must be at least 0, got -2");
        assertThat(readError("evaluator:\n  timeout: 0\n")).contains("evaluator.timeout").contains("positive");
        // An integer beyond a double's range: Jackson's conversion threw a JsonNodeException (exit 1).
        String huge = "1" + "0".repeat(400);
        assertThat(readError("llm:\n  temperature: " + huge + "\n")).endsWith(": llm.temperature: expected a number, "
                + "got " + huge);
        assertThat(readError("evaluator:\n  cascade_thresholds: [" + huge + "]\n")).endsWith(
                ": evaluator.cascade_thresholds: expected numbers, got " + huge);
        assertThat(readError("evaluator:\n  timeout: -3\n")).contains("evaluator.timeout");
        assertThatThrownBy(() -> EvaluatorSettings.defaults().withTimeout(Duration.ofSeconds(-3)))
                .hasMessage("evaluator.timeout: must be positive, got -3 s");
        assertThat(readError("evaluator:\n  memory_mb: 8\n")).contains("evaluator.memory_mb");
        assertThat(readError("evaluator:\n  parallel_evaluations: 0\n")).contains("evaluator.parallel_evaluations");
        assertThat(readError("evaluator:\n  parallel_evaluations: 257\n"))
                .contains("evaluator.parallel_evaluations: must be 1 to 256, got 257");
        assertThat(readError("llm:\n  timeout: 0\n")).contains("llm.timeout");
        // Positive but under half a millisecond: rounded to 0 ms it failed later without the file (llm.timeout) or
        // with "got 0.0 s".
        assertThat(readError("llm:\n  timeout: 0.0001\n")).endsWith(": llm.timeout: must be at least 0.0005 "
                + "seconds (durations are rounded to whole milliseconds), got 0.0001");
        assertThat(readError("evaluator:\n  timeout: 0.0004\n")).endsWith(": evaluator.timeout: must be at least "
                + "0.0005 seconds (durations are rounded to whole milliseconds), got 0.0004");
        assertThatThrownBy(() -> EvolveConfig.seconds("--eval-timeout", 1e-9, false))
                .isInstanceOf(InvalidInputException.class).hasMessage("--eval-timeout: must be at least 0.0005 seconds "
                        + "(durations are rounded to whole milliseconds), got 1.0E-9");
        assertThat(EvolveConfig.seconds("--eval-timeout", 0.0005, false)).isEqualTo(Duration.ofMillis(1));
        assertThat(EvolveConfig.seconds("llm.retry_delay", 0.0001, true)).isEqualTo(Duration.ZERO);
        assertThat(readError("llm:\n  retry_delay: -1\n")).contains("llm.retry_delay");
        // Taken, they failed every iteration of the run as an internal error (a prompt could not be built).
        assertThat(readError("prompt:\n  num_previous_attempts: -1\n")).endsWith(": prompt.num_previous_attempts: "
                + "must not be negative, got -1");
        assertThat(readError("prompt:\n  max_artifact_bytes: -1\n")).endsWith(": prompt.max_artifact_bytes: must "
                + "not be negative, got -1");
        // Each island keeps its 50 newest attempts: more were taken and 50 shown, silently.
        assertThat(readError("prompt:\n  num_previous_attempts: 51\n")).endsWith(": prompt.num_previous_attempts: "
                + "must be at most 50 (the recent attempts each island keeps), got 51");
        assertThat(load("prompt:\n  num_previous_attempts: 50\n").prompt().numPreviousAttempts()).isEqualTo(50);
        assertThat(load("prompt:\n  num_previous_attempts: 0\n  max_artifact_bytes: 0\n").prompt())
                .isEqualTo(new PromptSettings(null, null, 0, true, 0));
    }

    @Test
    void valuesCheckedOnceMergedNameTheFileOrOptionTheyCameFrom() throws IOException {
        // Checked in build(), after the file and the options are merged: the message named the key alone, so a
        // user with a file and options could not tell which to fix.
        Path file = write("max_code_length: 0\n");
        assertThatThrownBy(() -> EvolveConfig.defaults("combined_score").read(file).apiBase(BASE).build(null))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage(file + ": max_code_length: must be positive, got 0");
        assertThat(readError("early_stopping_patience: -1\n")).endsWith(": early_stopping_patience: must not be "
                + "negative, got -1");
        assertThat(readError("keep_checkpoints: 0\n")).endsWith(": keep_checkpoints: must be at least 1, got 0");
        assertThat(readError("convergence_threshold: -0.5\n")).endsWith(": convergence_threshold: must be a "
                + "non-negative number");
        assertThat(readError("llm:\n  top_p: 0\n")).endsWith(": llm.top_p: must be in (0, 1], got 0");
        assertThat(readError("llm:\n  max_tokens: 0\n")).endsWith(": llm.max_tokens: must be at least 1, got 0");
        assertThat(readError("llm:\n  retries: -1\n")).endsWith(": llm.retries: must be at least 0, got -1");
        assertThat(readError("llm:\n  budget_usd: -1\n")).endsWith(": llm.budget_usd: must be at least 0, got -1");
        // Only retry_delay given, above the default cap of 60 s: it is the key to fix. Delays in seconds, as the file
        // gives them (they read "(PT1M40S), got PT1M", Java's form of a Duration).
        assertThat(readError("llm:\n  retry_delay: 100\n")).endsWith(": llm.retry_delay: must be at least "
                + "retry_delay (100 s), got 60 s");
        assertThat(readError("llm:\n  max_retry_delay: 1\n")).endsWith(": llm.max_retry_delay: must be at least "
                + "retry_delay (2 s), got 1 s");
        // A model entry's keys, by their index and as the file spells them.
        assertThat(readError("llm:\n  models: [{name: a}, {name: b, input_price: -2}]\n"))
                .endsWith(": llm.models[1].input_price: must be non-negative and finite, got -2");
        assertThat(readError("llm:\n  models: [{name: a, api_base: 'ftp://x'}]\n"))
                .endsWith(": llm.models[0].api_base: must start with http:// or https://, got ftp://x");
        assertThat(readError("llm:\n  models: [{name: a}, {name: a}]\n"))
                .endsWith(": llm.models: model a is listed twice");
        assertThat(readError("llm:\n  primary_model: a\n  primary_model_weight: -1\n"))
                .endsWith(": llm.primary_model_weight: must be positive and finite, got -1");
        assertThat(readError("llm:\n  primary_model: a\n  secondary_model: a\n"))
                .endsWith(": llm.secondary_model: model a is listed twice");
        // The section's endpoint, in the file or given as --api-base.
        Path badBase = write("llm:\n  api_base: 'localhost:8000'\n  models: [{name: a}]\n");
        assertThatThrownBy(() -> EvolveConfig.defaults("combined_score").read(badBase).build(null))
                .hasMessage(badBase + ": llm.api_base: must start with http:// or https://, got localhost:8000");
        assertThatThrownBy(() -> EvolveConfig.defaults("combined_score").read(badBase).apiBase("x").build(null))
                .hasMessage("--api-base: must start with http:// or https://, got x");
        // A URL without a host, or one that is not a URL, is named the same way and as given (it was refused only
        // by the client, under llm.models[a].api_base, quoting the request URL: "no host in http:/chat/completions").
        assertThatThrownBy(() -> EvolveConfig.defaults("combined_score").read(badBase).apiBase("http://").build(null))
                .hasMessage("--api-base: no host in http://");
        assertThatThrownBy(() -> EvolveConfig.defaults("combined_score").read(badBase).apiBase("http://a b/v1")
                .build(null)).hasMessageStartingWith("--api-base: not a valid URL: http://a b/v1 (");
        assertThat(readError("llm:\n  models: [{name: a, api_base: 'https:///v1'}]\n"))
                .endsWith(": llm.models[0].api_base: no host in https:///v1");
        // Options name themselves, also over a file's valid value.
        assertThatThrownBy(() -> EvolveConfig.defaults("combined_score").model(" ").apiBase(BASE).build(null))
                .isInstanceOf(InvalidInputException.class).hasMessage("--model: must not be empty");
        Path budget = write("llm:\n  budget_usd: 3\n");
        assertThatThrownBy(() -> EvolveConfig.defaults("combined_score").read(budget).budget(-1).model("m")
                .apiBase(BASE).build(null)).hasMessage("--budget: must be at least 0, got -1");
        // A file's bad value that an option replaced is no error.
        Path overridden = write("llm:\n  budget_usd: -1\n");
        assertThat(EvolveConfig.defaults("combined_score").read(overridden).budget(2).model("m").apiBase(BASE)
                .build(null).llm().budgetUsd()).isEqualTo(2.0);
    }

    @Test
    void databaseKeysAreCheckedTogetherWhateverTheirOrder() throws IOException {
        // exploration goes up while exploitation goes down: valid in the end, though not after the first key.
        DatabaseSettings d = load("database:\n  exploration_ratio: 0.5\n  exploitation_ratio: 0.4\n").database();
        assertThat(d.explorationRatio()).isEqualTo(0.5);
        assertThat(d.exploitationRatio()).isEqualTo(0.4);
        // more islands than the default population, with a population to match.
        DatabaseSettings big = load("database:\n  num_islands: 2000\n  population_size: 5000\n").database();
        assertThat(big.numIslands()).isEqualTo(2000);
        assertThat(big.populationSize()).isEqualTo(5000);
    }

    @Test
    void explorationPlusExploitationMustNotExceedOne() throws IOException {
        qt().withExamples(200).withFixedSeed(5).forAll(integers().between(0, 100), integers().between(0, 100),
                booleans().all()).checkAssert((x, y, explorationFirst) -> {
                    String a = "  exploration_ratio: " + x / 100.0 + "\n";
                    String b = "  exploitation_ratio: " + y / 100.0 + "\n";
                    String yaml = "database:\n" + (explorationFirst ? a + b : b + a);
                    try {
                        if (x + y <= 100) {
                            DatabaseSettings d = load(yaml).database();
                            assertThat(d.explorationRatio()).isEqualTo(x / 100.0);
                            assertThat(d.exploitationRatio()).isEqualTo(y / 100.0);
                        } else {
                            assertThat(readError(yaml)).contains("database.exploration_ratio");
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
    }
}
