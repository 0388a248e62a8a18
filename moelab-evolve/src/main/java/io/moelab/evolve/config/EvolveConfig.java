package io.moelab.evolve.config;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A run's configuration as it is assembled: defaults, then a YAML file, then command-line options, then
 * {@link #build(String)}. YAML keys are OpenEvolve's where the meaning is the same; OpenEvolve keys that have no
 * meaning here are accepted with a warning, so its configuration files load; any other key is an error naming
 * its path. An API key in the file is refused: keys come from environment variables only.
 */
public final class EvolveConfig {
    // A key given twice: which of the two was meant cannot be known (the parser silently kept the last).
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** Longest timeout, in seconds, a setting may give (about 115 days): far below where milliseconds overflow. */
    public static final double MAX_SECONDS = 1e7;

    /** OpenEvolve keys accepted and ignored, with why. */
    private static final Map<String, String> IGNORED = Map.ofEntries(
            Map.entry("log_level", "logging is not configurable"),
            Map.entry("log_dir", "the run writes under --out"),
            Map.entry("language", "the task defines the language"),
            Map.entry("file_suffix", "the task defines the file name"),
            Map.entry("early_stopping_metric", "early stopping follows the fitness metric"),
            Map.entry("llm.evaluator_models", "LLM feedback is not used"),
            Map.entry("llm.random_seed", "random_seed seeds everything"),
            Map.entry("prompt.evaluator_system_message", "LLM feedback is not used"),
            Map.entry("prompt.use_template_stochasticity", "templates are fixed"),
            Map.entry("prompt.template_variations", "templates are fixed"),
            Map.entry("prompt.include_changes_under_chars", "prompts show previous attempts instead"),
            Map.entry("prompt.concise_implementation_max_lines", "not used"),
            Map.entry("prompt.comprehensive_implementation_min_lines", "not used"),
            Map.entry("prompt.code_length_threshold", "not used"),
            Map.entry("database.in_memory", "the run is always checkpointed under --out"),
            Map.entry("database.db_path", "the run is checkpointed under --out"),
            Map.entry("database.log_prompts", "LLM responses are always recorded"),
            // OpenEvolve reads it only in a sampler its run loop does not call, to choose inspirations.
            Map.entry("database.elite_selection_ratio", "OpenEvolve's run loop does not read it either; inspirations "
                    + "are the island's best, grid neighbours and random members"),
            Map.entry("database.random_seed", "random_seed seeds everything"),
            Map.entry("database.diversity_reference_size", "diversity compares with the island's best five"),
            Map.entry("evaluator.max_retries", "a failed evaluation is a result, not retried"),
            Map.entry("evaluator.use_llm_feedback", "LLM feedback is not used"),
            Map.entry("evaluator.llm_feedback_weight", "LLM feedback is not used"),
            Map.entry("evaluator.distributed", "evaluations run on this machine"),
            Map.entry("evaluator.enable_artifacts", "use prompt.include_artifacts"),
            Map.entry("enforce_evolve_blocks", "rewrites are spliced into EVOLVE-BLOCK regions;"
                    + " SEARCH/REPLACE edits apply as given"),
            Map.entry("diff_pattern", "SEARCH/REPLACE blocks have a fixed syntax"),
            Map.entry("max_tasks_per_child", "every evaluation runs in fresh child processes"),
            Map.entry("evolution_trace", "the run always writes OUT/trace.jsonl"),
            Map.entry("llm.system_message", "use prompt.system_message"),
            Map.entry("llm.reasoning_effort", "not sent"),
            Map.entry("llm.models.temperature", "llm.temperature applies to every model"),
            Map.entry("llm.models.top_p", "llm.top_p applies to every model"),
            Map.entry("llm.models.max_tokens", "llm.max_tokens applies to every model"),
            Map.entry("llm.models.timeout", "llm.timeout applies to every model"),
            Map.entry("llm.models.retries", "llm.retries applies to every model"),
            Map.entry("llm.models.retry_delay", "llm.retry_delay applies to every model"),
            Map.entry("llm.models.random_seed", "random_seed seeds everything"),
            Map.entry("llm.models.system_message", "use prompt.system_message"),
            Map.entry("prompt.artifact_security_filter", "artifacts are shown as the evaluator wrote them"),
            Map.entry("prompt.suggest_simplification_after_chars", "not used"),
            Map.entry("prompt.diff_summary_max_line_len", "failed edits are shown whole"),
            Map.entry("prompt.diff_summary_max_lines", "failed edits are shown whole"),
            Map.entry("prompt.use_meta_prompting", "not used"),
            Map.entry("prompt.meta_prompt_weight", "not used"),
            Map.entry("database.diversity_metric", "diversity is a token-trigram distance"),
            Map.entry("database.artifacts_base_path", "artifacts are kept in the trace and checkpoints"),
            Map.entry("database.artifact_size_threshold", "artifacts are kept in the trace and checkpoints"),
            Map.entry("database.cleanup_old_artifacts", "artifacts are kept in the trace and checkpoints"),
            Map.entry("database.artifact_retention_days", "artifacts are kept in the trace and checkpoints"),
            Map.entry("database.max_snapshot_artifacts", "artifacts are kept in the trace and checkpoints"),
            Map.entry("evaluator.memory_limit_mb", "use evaluator.memory_mb"),
            Map.entry("evaluator.cpu_limit", "not enforced"),
            Map.entry("evaluator.max_artifact_storage", "use evaluator.max_output_bytes"),
            // In many of OpenEvolve's example configurations, though its Config no longer reads it.
            Map.entry("allow_full_rewrites", "diff_based_evolution alone chooses SEARCH/REPLACE or whole programs"),
            Map.entry("llm.models.reasoning_effort", "not sent"),
            Map.entry("database.embedding_model", "there is no embedding-based novelty check"),
            Map.entry("database.similarity_threshold", "there is no embedding-based novelty check"));

    /** The keys of an {@code llm.models} entry by the {@link LlmModel} components they set, where they differ. */
    private static final Map<String, String> MODEL_KEYS = Map.of("input_usd_per_million", "input_price",
            "output_usd_per_million", "output_price");

    /** {@code ${VAR}}: OpenEvolve's way of naming the environment variable that holds a key. */
    private static final java.util.regex.Pattern ENV_REFERENCE = java.util.regex.Pattern.compile(
            "^\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}$");

    private int maxIterations = 100;
    /** Whether a file or {@link #iterations} set the total: the default alone is no choice of run length. */
    private boolean iterationsGiven;
    private int checkpointInterval = 10;
    private int keepCheckpoints = 3;
    private long randomSeed = 42;
    private boolean diffBased = true;
    private int maxCodeLength = 60_000;
    private int earlyStoppingPatience;
    private double convergenceThreshold = 0.001;

    private String apiBase;
    private String apiKeyEnv;
    private final List<ModelEntry> models = new ArrayList<>();
    private double temperature = 0.7;
    private double topP = 0.95;
    private int maxTokens = 4096;
    private Duration llmTimeout = Duration.ofSeconds(120);
    private int retries = 3;
    private Duration retryDelay = Duration.ofSeconds(2);
    private Duration maxRetryDelay = Duration.ofSeconds(60);
    private double budgetUsd = Double.POSITIVE_INFINITY;

    private String systemMessage;
    private Path templateDir;
    private int numPreviousAttempts = 5;
    private boolean includeArtifacts = true;
    private int maxArtifactChars = 2000;

    private DatabaseSettings database = DatabaseSettings.defaults();
    private EvaluatorSettings evaluator = EvaluatorSettings.defaults();
    private final List<String> warnings = new ArrayList<>();
    /**
     * Where each key's value came from, by its dotted path: {@code FILE: key} or the option that set it. Ranges
     * checked together in {@link #build} are reported there, after the layers are merged, and must still say which
     * file or option to fix.
     */
    private final Map<String, String> sources = new java.util.HashMap<>();

    /** The defaults, with the fitness metric of the task. */
    public static EvolveConfig defaults(String fitnessMetric) {
        EvolveConfig c = new EvolveConfig();
        DatabaseFields d = new DatabaseFields(c.database);
        d.fitnessMetric = fitnessMetric;
        c.database = d.build();
        return c;
    }

    /**
     * Overlays a YAML file.
     *
     * @throws InvalidInputException naming the file and key path of the first problem
     */
    public EvolveConfig read(Path file) {
        return read(file, () -> Files.readAllBytes(file));
    }

    /**
     * Overlays YAML read from a stream that is no file (standard input), as {@link #read(Path)} does a file's.
     *
     * @param name how errors name the stream; relative paths in it (a {@code template_dir}) are resolved as if it
     *             were a file of that name in the working directory, so against the working directory
     * @throws InvalidInputException naming {@code name} and key path of the first problem
     */
    public EvolveConfig read(java.io.InputStream in, Path name) {
        return read(name, in::readAllBytes);
    }

    /** The bytes of a configuration, read when it is overlaid. */
    private interface Bytes {
        byte[] read() throws IOException;
    }

    private EvolveConfig read(Path file, Bytes bytes) {
        JsonNode root;
        try {
            root = YAML.readTree(Utf8Files.decode(file, bytes.read()));
        } catch (IOException | JacksonException e) {
            throw new InvalidInputException(file.toString(), "cannot read: " + YamlErrors.describe(e));
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return this; // an empty file changes nothing
        }
        Section top = new Section(file, "", root, sources);
        top.keys(Set.of("max_iterations", "checkpoint_interval", "keep_checkpoints", "random_seed",
                "diff_based_evolution", "max_code_length", "early_stopping_patience", "convergence_threshold",
                "llm", "prompt", "database", "evaluator"), warnings);
        // Checked here, naming the file: out of an int's range it was "expected a whole number", which it is.
        top.longValue("max_iterations", v -> {
            maxIterations = EvolveSettings.requireIterations(top.field("max_iterations"), v);
            iterationsGiven = true;
        });
        top.integer("checkpoint_interval", v -> checkpointInterval = v);
        top.integer("keep_checkpoints", v -> keepCheckpoints = v);
        top.longValue("random_seed", v -> randomSeed = v);
        top.bool("diff_based_evolution", v -> diffBased = v);
        top.integer("max_code_length", v -> maxCodeLength = v);
        top.optionalInteger("early_stopping_patience", v -> earlyStoppingPatience = v == null ? 0 : v);
        top.number("convergence_threshold", v -> convergenceThreshold = v);
        top.section("llm").ifPresent(this::readLlm);
        // Database fields come from two sections; they are checked together once both are read, so that the
        // order of keys does not matter (exploration_ratio may rise while exploitation_ratio falls).
        DatabaseFields db = new DatabaseFields(database);
        top.section("prompt").ifPresent(s -> readPrompt(s, db));
        top.section("database").ifPresent(s -> readDatabase(s, db));
        database = inFile(file, db::build);
        top.section("evaluator").ifPresent(this::readEvaluator);
        return this;
    }

    private void readLlm(Section s) {
        keyReference(s).ifPresent(v -> apiKeyEnv = v);
        s.keys(Set.of("api_base", "api_key_env", "api_key", "models", "temperature", "top_p", "max_tokens",
                "timeout", "retries", "retry_delay", "max_retry_delay", "budget_usd", "primary_model",
                "primary_model_weight", "secondary_model", "secondary_model_weight", "name"), warnings);
        s.text("api_base", v -> apiBase = v);
        s.text("api_key_env", v -> apiKeyEnv = v);
        s.number("temperature", v -> temperature = v);
        s.number("top_p", v -> topP = v);
        s.integer("max_tokens", v -> maxTokens = v);
        s.number("timeout", v -> llmTimeout = seconds(s, "timeout", v, false));
        s.integer("retries", v -> retries = v);
        s.number("retry_delay", v -> retryDelay = seconds(s, "retry_delay", v, true));
        s.number("max_retry_delay", v -> maxRetryDelay = seconds(s, "max_retry_delay", v, true));
        s.number("budget_usd", v -> budgetUsd = v);
        List<ModelEntry> list = new ArrayList<>();
        List<Section> entries = s.list("models");
        for (Section m : entries) {
            String[] env = {keyReference(m).orElse(null)};
            m.keys(Set.of("name", "weight", "api_base", "api_key_env", "api_key", "input_price", "output_price"),
                    warnings);
            String name = m.requiredText("name");
            double[] w = {1};
            double[] in = {0};
            double[] out = {0};
            String[] base = {null};
            m.number("weight", v -> w[0] = v);
            m.number("input_price", v -> in[0] = v);
            m.number("output_price", v -> out[0] = v);
            m.text("api_base", v -> base[0] = v);
            m.text("api_key_env", v -> env[0] = v);
            list.add(new ModelEntry(name, w[0], base[0], env[0], in[0], out[0],
                    c -> m.field(MODEL_KEYS.getOrDefault(c, c))));
        }
        // OpenEvolve's older form: a primary and a secondary model with weights (OpenEvolve's defaults: 1 and
        // 0.2; a secondary weight of 0 leaves the secondary model out).
        String[] primary = {null};
        String[] primaryKey = {"primary_model"};
        String[] secondary = {null};
        double[] pw = {1};
        double[] sw = {0.2};
        s.text("primary_model", v -> primary[0] = v);
        s.text("name", v -> {
            primary[0] = v;
            primaryKey[0] = "name";
        });
        s.text("secondary_model", v -> secondary[0] = v);
        s.number("primary_model_weight", v -> pw[0] = v);
        s.number("secondary_model_weight", v -> sw[0] = v);
        if (primary[0] != null) {
            list.add(new ModelEntry(primary[0], pw[0], null, null, 0, 0,
                    c -> s.field(c.equals("weight") ? "primary_model_weight" : primaryKey[0])));
        }
        if (secondary[0] != null && sw[0] > 0) {
            list.add(new ModelEntry(secondary[0], sw[0], null, null, 0, 0,
                    c -> s.field(c.equals("weight") ? "secondary_model_weight" : "secondary_model")));
        }
        if (!list.isEmpty()) {
            models.clear();
            models.addAll(list);
            // A name listed twice: in the list, or the secondary model repeating the primary.
            sources.put("llm.models", s.field(entries.isEmpty() ? "secondary_model" : "models"));
        }
    }

    /**
     * The variable named by {@code api_key: ${VAR}} (OpenEvolve's syntax); empty when {@code api_key} is absent
     * or null.
     *
     * @throws InvalidInputException for a literal key
     */
    private static java.util.Optional<String> keyReference(Section s) {
        JsonNode n = s.value("api_key");
        if (n == null) {
            return java.util.Optional.empty();
        }
        var m = n.isString() ? ENV_REFERENCE.matcher(n.asString().strip()) : null;
        if (m != null && m.matches()) {
            return java.util.Optional.of(m.group(1));
        }
        throw s.error("api_key", "API keys are never read from files: name an environment variable with"
                + " api_key_env (or --api-key-env, or api_key: ${VAR})");
    }

    private void readPrompt(Section s, DatabaseFields db) {
        s.keys(Set.of("system_message", "template_dir", "num_top_programs", "num_diverse_programs",
                "num_previous_attempts", "include_artifacts", "max_artifact_bytes"), warnings);
        s.text("system_message", v -> systemMessage = v);
        // Relative to the configuration file, as in OpenEvolve, so that a file and its templates travel together.
        s.text("template_dir", v -> templateDir = s.file().toAbsolutePath().resolveSibling(v).normalize());
        s.integer("num_previous_attempts", v -> numPreviousAttempts = v);
        s.bool("include_artifacts", v -> includeArtifacts = v);
        s.integer("max_artifact_bytes", v -> maxArtifactChars = v);
        s.integer("num_top_programs", v -> db.numTopPrograms = v);
        s.integer("num_diverse_programs", v -> db.numInspirations = v);
    }

    private void readDatabase(Section s, DatabaseFields db) {
        s.keys(Set.of("population_size", "archive_size", "num_islands", "migration_interval", "migration_rate",
                "exploration_ratio", "exploitation_ratio", "feature_dimensions", "feature_bins", "fitness_metric",
                "pareto_metrics"), warnings);
        s.integer("num_islands", v -> db.numIslands = v);
        s.integer("population_size", v -> db.populationSize = v);
        s.integer("archive_size", v -> db.archiveSize = v);
        s.integer("migration_interval", v -> db.migrationInterval = v);
        s.number("migration_rate", v -> db.migrationRate = v);
        s.number("exploration_ratio", v -> db.explorationRatio = v);
        s.number("exploitation_ratio", v -> db.exploitationRatio = v);
        s.strings("feature_dimensions", v -> db.featureDimensions = v);
        s.integer("feature_bins", v -> db.featureBins = v);
        s.text("fitness_metric", v -> db.fitnessMetric = v);
        s.strings("pareto_metrics", v -> db.paretoMetrics = v);
    }

    private void readEvaluator(Section s) {
        s.keys(Set.of("timeout", "parallel_evaluations", "cascade_evaluation", "cascade_thresholds",
                "cascade_metric", "memory_mb", "max_output_bytes"), warnings);
        EvaluatorSettings e = evaluator;
        Duration[] timeout = {e.timeout()};
        String[] timeoutSetting = {e.timeoutSetting()};
        int[] ints = {e.memoryMb(), e.parallel()};
        boolean[] cascade = {e.cascade()};
        long[] maxOut = {e.maxOutputBytes()};
        List<List<Double>> thresholds = new ArrayList<>(List.of(e.cascadeThresholds()));
        String[] metric = {e.cascadeMetric()};
        s.number("timeout", v -> {
            timeout[0] = seconds(s, "timeout", v, false);
            timeoutSetting[0] = "evaluator.timeout";
        });
        s.integer("memory_mb", v -> ints[0] = v);
        s.integer("parallel_evaluations", v -> ints[1] = v);
        s.bool("cascade_evaluation", v -> cascade[0] = v);
        s.longValue("max_output_bytes", v -> maxOut[0] = v);
        s.numbers("cascade_thresholds", v -> thresholds.set(0, v));
        s.text("cascade_metric", v -> metric[0] = v);
        evaluator = inFile(s.file(), () -> new EvaluatorSettings(timeout[0], ints[0], cascade[0], thresholds.getFirst(),
                metric[0], ints[1], maxOut[0], e.artifactBytes(), timeoutSetting[0]));
    }

    /**
     * A YAML or JSON value as a double: NaN when it is not a number, and an integer literal beyond a double's range
     * as an infinity (it converts through BigDecimal: Jackson's {@code asDouble()} throws on it).
     */
    public static double asDouble(JsonNode n) {
        return !n.isNumber() ? Double.NaN : n.isBigInteger() ? n.decimalValue().doubleValue() : n.asDouble();
    }

    private static Duration seconds(Section s, String key, double v, boolean zeroAllowed) {
        return seconds(s.field(key), v, zeroAllowed);
    }

    /**
     * A timeout or delay given in seconds ({@code --eval-timeout}, {@code evaluator.timeout}, ...), checked: positive
     * (or zero where allowed), finite and at most {@link #MAX_SECONDS}; durations count whole milliseconds, so a
     * positive one must reach half a millisecond.
     *
     * @param field names the setting in the error
     * @throws InvalidInputException naming {@code field} for a value out of range
     */
    public static Duration seconds(String field, double v, boolean zeroAllowed) {
        if (!(v > 0 || zeroAllowed && v == 0) || v > MAX_SECONDS) {
            throw new InvalidInputException(field, "must be a " + (zeroAllowed ? "non-negative" : "positive")
                    + " number of seconds up to " + (long) MAX_SECONDS + ", got " + Numbers.plain(v));
        }
        long millis = Math.round(v * 1000);
        if (millis == 0 && !zeroAllowed) {
            // Rounded to 0 it would fail later, in the settings' own check, under their name and not the option's.
            throw new InvalidInputException(field, "must be at least 0.0005 seconds (durations are rounded to "
                    + "whole milliseconds), got " + Numbers.plain(v));
        }
        return Duration.ofMillis(millis);
    }

    /** Builds settings whose constructor checks ranges, naming the file in the error. */
    private static <T> T inFile(Path file, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (InvalidInputException e) {
            throw e.as(file + ": " + e.field());
        }
    }

    /** The database settings as they are read, checked together by {@link #build()}. */
    private static final class DatabaseFields {
        int numIslands;
        int populationSize;
        int archiveSize;
        int migrationInterval;
        double migrationRate;
        double explorationRatio;
        double exploitationRatio;
        List<String> featureDimensions;
        int featureBins;
        String fitnessMetric;
        List<String> paretoMetrics;
        int numTopPrograms;
        int numInspirations;

        DatabaseFields(DatabaseSettings d) {
            numIslands = d.numIslands();
            populationSize = d.populationSize();
            archiveSize = d.archiveSize();
            migrationInterval = d.migrationInterval();
            migrationRate = d.migrationRate();
            explorationRatio = d.explorationRatio();
            exploitationRatio = d.exploitationRatio();
            featureDimensions = d.featureDimensions();
            featureBins = d.featureBins();
            fitnessMetric = d.fitnessMetric();
            paretoMetrics = d.paretoMetrics();
            numTopPrograms = d.numTopPrograms();
            numInspirations = d.numInspirations();
        }

        DatabaseSettings build() {
            return new DatabaseSettings(numIslands, populationSize, archiveSize, migrationInterval, migrationRate,
                    explorationRatio, exploitationRatio, featureDimensions, featureBins, fitnessMetric,
                    paretoMetrics, numTopPrograms, numInspirations);
        }
    }

    /** The commented configuration file with every key at its default, as {@code evolve init} writes it. */
    public static String commentedDefaults() {
        try (var in = EvolveConfig.class.getResourceAsStream("config.yaml")) {
            if (in == null) {
                throw new IllegalStateException("built-in config.yaml missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Warnings about ignored keys, one line each. */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** Sets the total iterations ({@code --iterations}). */
    public EvolveConfig iterations(int n) {
        maxIterations = n;
        sources.put("max_iterations", "--iterations");
        iterationsGiven = true;
        return this;
    }

    /**
     * Whether the total iterations were given, by {@code max_iterations} in a file read or by
     * {@link #iterations}, rather than left at the built-in default.
     */
    public boolean hasIterations() {
        return iterationsGiven;
    }

    /** Sets the seed ({@code --seed}). */
    public EvolveConfig seed(long seed) {
        randomSeed = seed;
        return this;
    }

    /** Sets the per-stage evaluation timeout ({@code --eval-timeout}, which a stage killed by it names). */
    public EvolveConfig evalTimeout(Duration t) {
        evaluator = evaluator.withTimeout(t, "--eval-timeout");
        return this;
    }

    /** Sets the parallel evaluations ({@code --parallel}). */
    public EvolveConfig parallel(int p) {
        evaluator = evaluator.withParallel(p);
        return this;
    }

    /** Sets the LLM budget in US dollars ({@code --budget}). */
    public EvolveConfig budget(double usd) {
        budgetUsd = usd;
        sources.put("llm.budget_usd", "--budget");
        return this;
    }

    /** Sets the default endpoint ({@code --api-base}). */
    public EvolveConfig apiBase(String base) {
        apiBase = base;
        sources.put("llm.api_base", "--api-base");
        return this;
    }

    /** Sets the default key variable ({@code --api-key-env}). */
    public EvolveConfig apiKeyEnv(String env) {
        apiKeyEnv = env;
        return this;
    }

    /** Replaces the ensemble by one model ({@code --model}). */
    public EvolveConfig model(String name) {
        models.clear();
        models.add(new ModelEntry(name, 1, null, null, 0, 0, c -> "--model"));
        return this;
    }

    /** Whether any model is configured. */
    public boolean hasModels() {
        return !models.isEmpty();
    }

    /** The default endpoint, or null. */
    public String apiBase() {
        return apiBase;
    }

    /**
     * The settings, with every model's endpoint and key variable defaulted to the section's.
     *
     * @param keyEnvDefault the key variable when none is configured (null for none)
     * @throws InvalidInputException if a value is out of range, naming the file and key or the option that gave
     *                               it, or if a model has no endpoint
     */
    public EvolveSettings build(String keyEnvDefault) {
        List<LlmModel> resolved = new ArrayList<>();
        for (ModelEntry m : models) {
            String base = m.apiBase() != null ? m.apiBase() : apiBase;
            if (base == null) {
                throw new InvalidInputException("llm.api_base", "no endpoint for model " + m.name()
                        + ": give --api-base or llm.api_base");
            }
            String env = m.apiKeyEnv() != null ? m.apiKeyEnv() : apiKeyEnv != null ? apiKeyEnv : keyEnvDefault;
            try {
                resolved.add(new LlmModel(m.name(), m.weight(), base, env, m.inputPrice(), m.outputPrice()));
            } catch (InvalidInputException e) {
                String component = e.field().substring(e.field().lastIndexOf('.') + 1);
                // An endpoint the entry does not give is the section's (or --api-base's).
                throw e.as(component.equals("api_base") && m.apiBase() == null
                        ? sources.getOrDefault("llm.api_base", e.field()) : m.source().apply(component));
            }
        }
        try {
            return settings(resolved);
        } catch (InvalidInputException e) {
            throw located(e);
        }
    }

    /**
     * {@code e} named where the value it is about was set: when its field is a configuration key (such as
     * {@code database.fitness_metric}, which a run checks against its initial program) given by a file read or an
     * option, the same problem under the file and key or the option; else {@code e} itself (a default, or another
     * field).
     */
    public InvalidInputException located(InvalidInputException e) {
        String source = sources.get(e.field());
        if (source == null && e.field().equals("llm.max_retry_delay")) {
            // Its check fails also when only retry_delay was raised above the default cap.
            source = sources.get("llm.retry_delay");
        }
        return source == null ? e : e.as(source);
    }

    private EvolveSettings settings(List<LlmModel> resolved) {
        if (resolved.isEmpty()) {
            resolved.add(new LlmModel("replay", 1, "http://127.0.0.1:9/v1", null, 0, 0));
        }
        LlmSettings llm = new LlmSettings(resolved, llmTimeout, retries, retryDelay, maxRetryDelay, budgetUsd,
                temperature, topP, maxTokens, randomSeed);
        PromptSettings prompt = new PromptSettings(systemMessage, templateDir, numPreviousAttempts, includeArtifacts,
                maxArtifactChars);
        return new EvolveSettings(maxIterations, checkpointInterval, keepCheckpoints, randomSeed, diffBased,
                maxCodeLength, earlyStoppingPatience, convergenceThreshold, llm, prompt, database, evaluator);
    }

    /**
     * A model as configured, before the section's endpoint and key variable fill its gaps.
     *
     * @param source how an error names the setting behind one of {@link LlmModel}'s checked components ({@code name},
     *               {@code weight}, {@code api_base}, ...): the file and key, or the option
     */
    private record ModelEntry(String name, double weight, String apiBase, String apiKeyEnv, double inputPrice,
                              double outputPrice, java.util.function.UnaryOperator<String> source) {
    }

    /** A mapping in the YAML tree with its path, for errors that say where. */
    private static final class Section {
        private final Path file;
        private final String path;
        private final JsonNode node;
        private final Map<String, String> sources;

        Section(Path file, String path, JsonNode node, Map<String, String> sources) {
            this.file = file;
            this.path = path;
            this.node = node;
            this.sources = sources;
            if (!node.isObject()) {
                throw new InvalidInputException(file + ": " + (path.isEmpty() ? "(top)" : path),
                        "expected a mapping of keys, got "
                                + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
            }
        }

        InvalidInputException error(String key, String problem) {
            return new InvalidInputException(field(key), problem);
        }

        /** How errors name {@code key} of this section: the file, then its dotted path. */
        String field(String key) {
            return file + ": " + where(key);
        }

        private String where(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        Path file() {
            return file;
        }

        void keys(Set<String> known, List<String> warnings) {
            for (String key : node.propertyNames()) {
                if (known.contains(key)) {
                    continue;
                }
                // Ignored keys of list entries are listed without the index: llm.models.temperature.
                String why = IGNORED.get(where(key).replaceAll("\\[\\d+]", ""));
                if (why != null) {
                    warnings.add(file + ": " + where(key) + " ignored (" + why + ")");
                } else {
                    throw error(key, "unknown key (known here: " + String.join(", ", known.stream().sorted()
                            .toList()) + ")");
                }
            }
        }

        java.util.Optional<Section> section(String key) {
            JsonNode n = node.get(key);
            return n == null || n.isNull() ? java.util.Optional.empty()
                    : java.util.Optional.of(new Section(file, where(key), n, sources));
        }

        List<Section> list(String key) {
            JsonNode n = node.get(key);
            if (n == null || n.isNull()) {
                return List.of();
            }
            if (!n.isArray()) {
                throw error(key, "expected a list");
            }
            List<Section> out = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                out.add(new Section(file, where(key) + "[" + i + "]", n.get(i), sources));
            }
            return out;
        }

        JsonNode value(String key) {
            JsonNode n = node.get(key);
            if (n == null || n.isNull()) {
                return null;
            }
            sources.put(where(key), field(key));
            return n;
        }

        void number(String key, Consumer<Double> set) {
            JsonNode n = value(key);
            if (n != null) {
                double d = asDouble(n);
                if (!Double.isFinite(d)) {
                    throw error(key, "expected a number, got " + n);
                }
                set.accept(d);
            }
        }

        void integer(String key, Consumer<Integer> set) {
            JsonNode n = value(key);
            if (n != null) {
                if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                    throw error(key, "expected a whole number, got " + n);
                }
                set.accept(n.asInt());
            }
        }

        void optionalInteger(String key, Consumer<Integer> set) {
            if (node.has(key) && node.get(key).isNull()) {
                set.accept(null);
            } else {
                integer(key, set);
            }
        }

        void longValue(String key, Consumer<Long> set) {
            JsonNode n = value(key);
            if (n != null) {
                if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                    throw error(key, "expected a whole number, got " + n);
                }
                set.accept(n.asLong());
            }
        }

        void bool(String key, Consumer<Boolean> set) {
            JsonNode n = value(key);
            if (n != null) {
                if (!n.isBoolean()) {
                    throw error(key, "expected true or false, got " + n);
                }
                set.accept(n.asBoolean());
            }
        }

        void text(String key, Consumer<String> set) {
            JsonNode n = value(key);
            if (n != null) {
                if (!n.isValueNode()) {
                    throw error(key, "expected text, got " + n);
                }
                set.accept(n.asString());
            }
        }

        String requiredText(String key) {
            String[] v = {null};
            text(key, s -> v[0] = s);
            if (v[0] == null || v[0].isBlank()) {
                throw error(key, "missing");
            }
            return v[0];
        }

        void strings(String key, Consumer<List<String>> set) {
            JsonNode n = value(key);
            if (n != null) {
                if (!n.isArray()) {
                    throw error(key, "expected a list of names");
                }
                List<String> out = new ArrayList<>();
                for (JsonNode v : n) {
                    if (!v.isString()) {
                        throw error(key, "expected names, got " + v);
                    }
                    out.add(v.asString());
                }
                set.accept(out);
            }
        }

        void numbers(String key, Consumer<List<Double>> set) {
            JsonNode n = value(key);
            if (n != null) {
                if (!n.isArray()) {
                    throw error(key, "expected a list of numbers");
                }
                List<Double> out = new ArrayList<>();
                for (JsonNode v : n) {
                    double d = asDouble(v);
                    if (!v.isNumber() || v.isBigInteger() && Double.isInfinite(d)) {
                        throw error(key, "expected numbers, got " + v);
                    }
                    out.add(d);
                }
                set.accept(out);
            }
        }
    }
}
