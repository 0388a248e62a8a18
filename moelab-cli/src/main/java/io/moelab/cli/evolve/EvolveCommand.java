package io.moelab.cli.evolve;

import io.moelab.cli.support.DirectoryLock;
import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.Json;
import io.moelab.cli.support.OutputLock;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Plots;
import io.moelab.cli.support.Progress;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.evolve.config.EvolveConfig;
import io.moelab.evolve.llm.CostLedger;
import io.moelab.evolve.llm.LlmClient;
import io.moelab.evolve.llm.LlmEnsemble;
import io.moelab.evolve.llm.RecordingClient;
import io.moelab.evolve.llm.ReplayClient;
import io.moelab.evolve.llm.Sleeper;
import io.moelab.evolve.run.EvolutionRun;
import io.moelab.evolve.run.EvolveSettings;
import io.moelab.evolve.run.IterationReport;
import io.moelab.evolve.run.RunListener;
import io.moelab.evolve.run.RunSummary;
import io.moelab.evolve.task.Task;
import io.moelab.evolve.task.Tasks;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/** {@code moelab evolve}: the LLM-driven generate–evaluate–refine loop. */
@Command(name = "evolve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evolve a program with an LLM: each iteration asks a model (any OpenAI-compatible endpoint) "
                + "to edit a program from an island of the database, evaluates the child in a child process with a "
                + "hard timeout, and keeps the best (islands, MAP-Elites grid, elite archive).",
                "Writes OUT/trace.jsonl (one line per iteration), OUT/run.json (how the run was started, for "
                        + "--resume), OUT/programs/, OUT/best/, OUT/checkpoints/checkpoint_N/, OUT/prompts/, "
                        + "OUT/progress.png and OUT/llm_responses.jsonl (replayable with --llm-replay; a replay "
                        + "writes none). See docs/EVOLVE.md."},
        subcommands = InitCommand.class)
public final class EvolveCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--task", paramLabel = "eplb|DIR",
            description = "The built-in task eplb (eplb:quick for a small smoke-test suite), or a task directory "
                    + "with task.yaml. Required.")
    private String task;

    @Option(names = "--model", paramLabel = "NAME",
            description = "The model to call (replaces the configuration's ensemble).")
    private String model;

    @Option(names = "--api-base", paramLabel = "URL",
            description = "OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://localhost:11434/v1.")
    private String apiBase;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Environment variable holding the API key (default: OPENAI_API_KEY when it is set; "
                    + "none for local servers). The key is never logged or written.")
    private String apiKeyEnv;

    @Option(names = "--iterations", paramLabel = "N",
            description = "Iterations of the whole run (0 to 1000000); --resume continues to this total. Overrides the "
                    + "configuration's max_iterations; one of the two is required.")
    private Long iterations;

    @Option(names = "--eval-timeout", paramLabel = "SECONDS",
            description = "Hard wall-clock limit of each evaluation stage (default 60 or the "
                    + "configuration's evaluator.timeout).")
    private Double evalTimeout;

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML configuration (ensemble, islands, grid, prompts, cascade), - for standard input; "
                    + "'moelab evolve init' writes a commented one; with --resume the run's, from OUT/run.json.")
    private Path config;

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory. Required.")
    private Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its newest checkpoint and trace.")
    private boolean resume;

    @Option(names = "--llm-replay", paramLabel = "FILE",
            description = "Replay recorded responses (JSONL, e.g. an earlier run's llm_responses.jsonl; - for "
                    + "standard input) instead of calling a model.")
    private Path replay;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed (default 42 or the configuration's; "
            + "with --resume the run's).")
    private Long seed;

    @Option(names = "--parallel", paramLabel = "N", description = "Candidates evaluated at once (default 1 or the "
            + "configuration's evaluator.parallel_evaluations).")
    private Integer parallel;

    @Option(names = "--budget", paramLabel = "USD", description = "Stop starting iterations after this LLM cost.")
    private Double budget;

    /** This run's claim on --out: taken at once if it exists, else once it is made. */
    private OutputLock lock;

    @Override
    public Integer call() throws Exception {
        // Checked here, not by picocli, so that 'evolve init' does not need the run's options.
        // --iterations may be left to the configuration's max_iterations, checked once the file is read.
        // Every missing one named, in this order (a Map.of's order changed from JVM to JVM).
        List<String> missing = new ArrayList<>();
        if (task == null) {
            missing.add("--task");
        }
        if (out == null) {
            missing.add("--out");
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(String.join(", ", missing), "missing required option"
                    + (missing.size() > 1 ? "s" : "") + " (see 'moelab evolve --help')");
        }
        // Empty, as a quoted shell variable that was never set gives it: the run went to the working directory, and
        // the task was read as a directory named "".
        if (out.toString().isEmpty()) {
            throw new InvalidInputException("--out", "an empty path; name the run directory (. for the working "
                    + "directory)");
        }
        if (task.isEmpty()) {
            throw new InvalidInputException("--task", "an empty name; give eplb, eplb:quick or a task directory");
        }
        Outputs.refuseStdoutDirectory("--out", out);
        if (Inputs.isStdin(task)) {
            Inputs.refuseDirectory("--task", Path.of(task)); // a task is a directory of files
        }
        Map<String, List<Path>> inputs = new LinkedHashMap<>();
        inputs.put("--config", config == null ? null : List.of(config));
        inputs.put("--llm-replay", replay == null ? null : List.of(replay));
        Inputs.requireOne(inputs);
        if (Files.exists(out) && !Files.isDirectory(out)) {
            // Checked before the initial program's evaluation; createDirectories failed on it later, with exit 1.
            throw new InvalidInputException("--out " + out, "is a file, not a run directory");
        }
        for (Path d = out.getParent(); d != null; d = d.getParent()) {
            // Likewise a file above it ("error: FILE/run: Not a directory", exit 1, naming no option).
            if (Files.exists(d)) {
                if (!Files.isDirectory(d)) {
                    throw new InvalidInputException("--out " + out, d + " is a file, not a directory");
                }
                break;
            }
        }
        // A directory in the place of a file the run writes failed the run only once it was due: after every
        // iteration (progress.png), or with exit code 1 (run.json). The recording is written only when not replaying.
        List<String> files = new ArrayList<>(List.of("run.json", "progress.png"));
        if (replay == null) {
            files.add("llm_responses.jsonl");
        }
        Outputs.checkDirectory("--out", out, files.toArray(String[]::new));
        if (resume && !Files.isDirectory(out)) {
            throw new InvalidInputException("--out", out + " does not exist: no run to resume (leave out --resume "
                    + "to start one)");
        }
        // Before the run's files are read: a second run on this --out at the same time deleted the first's work
        // files (its initial program then "failed evaluation"). A new --out is locked once it is made.
        try (OutputLock claim = OutputLock.start("--out", out)) {
            lock = claim;
            return evolve();
        }
    }

    private Integer evolve() throws Exception {
        Task t = Tasks.resolve(task);
        // A resume continues the run as it was started: its seed and configuration unless given again, and given
        // again only with the same values.
        Origin origin = resume ? Origin.read(out) : null;
        if (origin != null) {
            origin.requireTask(out, t);
        }
        Path configFile = origin == null ? config : origin.config(out, config);
        Long seedUsed = origin == null ? seed : origin.seed(out, seed);
        EvolveConfig cfg = EvolveConfig.defaults(t.fitnessMetric());
        if (configFile != null && Inputs.isStdin(configFile)) {
            // Read as a stream, not spooled to a temporary file: errors found later (by the run) still name it, and
            // its relative paths are the working directory's.
            cfg.read(Inputs.stdin(), Path.of(Inputs.NAME));
        } else if (configFile != null) {
            requireFile("--config", configFile);
            cfg.read(configFile);
        }
        PrintWriter err = spec.commandLine().getErr();
        cfg.warnings().forEach(w -> err.println("warning: " + w));
        if (iterations != null) {
            cfg.iterations(EvolveSettings.requireIterations("--iterations", iterations));
        } else if (!cfg.hasIterations()) {
            throw new InvalidInputException("--iterations", "missing: give --iterations N or max_iterations in "
                    + "--config");
        }
        if (evalTimeout != null) {
            cfg.evalTimeout(EvolveConfig.seconds("--eval-timeout", evalTimeout, false));
        }
        if (seedUsed != null) {
            cfg.seed(seedUsed);
        }
        if (parallel != null) {
            try {
                cfg.parallel(parallel);
            } catch (InvalidInputException e) {
                // Named as the option, not as the configuration key it overrides.
                throw e.as("--parallel");
            }
        }
        if (budget != null) {
            if (!(budget >= 0)) {
                throw new InvalidInputException("--budget", "must be at least 0 USD, got "
                        + Numbers.plain(budget));
            }
            cfg.budget(budget);
        }
        if (model != null) {
            cfg.model(model);
        }
        if (apiBase != null) {
            cfg.apiBase(apiBase);
        }
        if (apiKeyEnv != null) {
            cfg.apiKeyEnv(apiKeyEnv);
        }
        if (replay == null && !cfg.hasModels()) {
            throw new InvalidInputException("--model", "no model: give --model and --api-base, llm.models in "
                    + "--config, or --llm-replay FILE");
        }
        if (replay != null) {
            if (!Inputs.isStdin(replay)) {
                requireFile("--llm-replay", replay);
            }
            if (cfg.apiBase() == null) {
                // A replay calls no model, so the configuration's ensemble needs no endpoint (one given as --api-base
                // when the run was recorded is not asked for again); the discard port stands in, never reached.
                cfg.apiBase("http://127.0.0.1:9/v1");
            }
        }
        // Local servers need no key; a hosted endpoint's usual variable is used when it is set.
        String keyDefault = System.getenv("OPENAI_API_KEY") != null ? "OPENAI_API_KEY" : null;
        EvolveSettings settings = replay != null && !cfg.hasModels() ? cfg.build(null) : cfg.build(keyDefault);
        if (origin != null) {
            try {
                origin.requireSame(out, settings);
            } catch (InvalidInputException e) {
                throw cfg.located(e);
            }
        }
        CostLedger ledger = new CostLedger();
        // Read before --out is created: a bad recording leaves no empty run directory behind.
        ReplayClient replayed = replay == null ? null
                : Inputs.read(replay, file -> new ReplayClient(file, ledger, settings.llm().budgetUsd()));
        // Made before --out too: a model's key variable that is not set is refused here.
        LlmEnsemble models = replayed != null ? null
                : LlmEnsemble.create(settings.llm(), ledger, Sleeper.SYSTEM, System::getenv);
        boolean created = !Files.exists(out);
        Files.createDirectories(out);
        lock.ensureLocked();
        LlmClient client = replayed != null ? replayed
                : new RecordingClient(models, out.resolve("llm_responses.jsonl"));
        PrintWriter stdout = spec.commandLine().getOut();
        RunSummary summary = null;
        try (Progress progress = Progress.start("evolve", settings.maxIterations())) {
            RunListener listener = new RunListener() {
                @Override
                public void started(int total, long completed, double best) {
                    // Now that the run exists (its initial program scored): what a resume takes from it. Rewritten
                    // on resume, which may have given the configuration's new place.
                    Origin.write(out, settings.randomSeed(), configFile, t, settings);
                    progress.stepTo(completed);
                    progress.extra(String.format(Locale.ROOT, "best %.4g", best));
                }

                @Override
                public void iteration(IterationReport r) {
                    progress.stepTo(r.completed());
                    progress.extra(String.format(Locale.ROOT, "best %.4g (#%s), $%.2f", r.bestFitness(), r.bestId(),
                            r.costUsd()));
                }

                @Override
                public void message(String text) {
                    err.println(text);
                }
            };
            try {
                summary = new EvolutionRun(t, settings, client, ledger, out, listener).run(resume);
            } catch (InvalidInputException e) {
                // A setting the run refuses (a template_dir that is no directory, a fitness_metric the initial
                // program does not report) is named with the file or option that gave it.
                throw cfg.located(e);
            }
        } finally {
            if (client instanceof AutoCloseable closeable) {
                closeable.close();
            }
            if (summary == null && created) {
                // A run that failed to start (its initial program failed, a setting it disproved) removes the --out
                // it was given only if nothing but this command's empty recording is in it.
                removeUnused(out);
            }
        }
        plotProgress(out, settings.database().fitnessMetric());
        stdout.println(describe(summary, settings, out, t));
        stdout.flush();
        return 0;
    }

    /** OUT/progress.png: every scored candidate's fitness and the best so far, by iteration. */
    static void plotProgress(Path out, String metric) throws IOException {
        List<double[]> rows = new ArrayList<>(); // iteration, fitness (NaN when it failed)
        for (String line : Files.readAllLines(out.resolve("trace.jsonl"))) {
            if (line.isBlank()) {
                continue; // the run's reader skips blank lines too
            }
            JsonNode n = Json.MAPPER.readTree(line);
            rows.add(new double[] {n.get("iteration").asDouble(),
                    n.get("fitness").isNumber() ? n.get("fitness").asDouble() : Double.NaN});
        }
        rows.sort(Comparator.comparingDouble(r -> r[0]));
        double[] x = rows.stream().mapToDouble(r -> r[0]).toArray();
        double[] best = new double[x.length];
        double running = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) {
            running = Double.isNaN(rows.get(i)[1]) ? running : Math.max(running, rows.get(i)[1]);
            best[i] = running;
        }
        List<double[]> scored = rows.stream().filter(r -> !Double.isNaN(r[1])).toList();
        Plots.xy(out.resolve("progress.png"), "Evolution: " + metric + " by iteration (failed candidates not shown)",
                "iteration", metric, List.of(new Plots.Series("best so far", x, best, true),
                        new Plots.Series("candidate", scored.stream().mapToDouble(r -> r[0]).toArray(),
                                scored.stream().mapToDouble(r -> r[1]).toArray(), false)));
    }

    static String describe(RunSummary s, EvolveSettings settings, Path out, Task task) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "completed %d of %s%s%n", s.completed(), Nouns.count(s.total(),
                "iteration"),
                s.stopReason() == null ? "" : " (stopped: " + s.stopReason() + ")"));
        sb.append(String.format(Locale.ROOT, "best program %s: %s %.6g (initial %.6g)%n", s.bestId(),
                settings.database().fitnessMetric(), s.bestFitness(), s.initialFitness()));
        if (!s.bestMetrics().isEmpty()) {
            StringBuilder m = new StringBuilder();
            s.bestMetrics().forEach((k, v) -> m.append(m.isEmpty() ? "" : ", ").append(k).append('=')
                    .append(String.format(Locale.ROOT, "%.6g", v)));
            sb.append("  metrics: ").append(m).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "LLM cost $%.4f, %s%n", s.costUsd(), Nouns.count(s.tokens(), "token")));
        if (!s.errors().isEmpty()) {
            StringBuilder e = new StringBuilder();
            s.errors().forEach((k, v) -> e.append(e.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
            sb.append("failed iterations: ").append(e).append('\n');
        }
        sb.append("wrote ").append(out.resolve("best").resolve(task.programFileName())).append(", ")
                .append(out.resolve("trace.jsonl")).append(", ").append(out.resolve("progress.png"));
        return sb.toString();
    }

    /**
     * How a run was started, kept in {@code OUT/run.json} so that {@code --resume} needs neither {@code --seed} nor
     * {@code --config} again, with the settings its programs are ranked and placed in grids by, so that a resume
     * with others is refused also before the run's first checkpoint (which checks them too).
     *
     * @param seed        the run's seed (null: unknown, a run without run.json or checkpoint)
     * @param config      the configuration file's absolute path, {@code -} for standard input, null for none
     * @param configKnown whether the run recorded its configuration (runs started before run.json did not)
     * @param recorded    run.json as read (null without one): the settings it records are checked
     */
    private record Origin(Long seed, String config, boolean configKnown, JsonNode recorded) {
        private static final String FILE = "run.json";

        /** The run in {@code out}'s origin: run.json, else only the seed of its newest checkpoint. */
        static Origin read(Path out) throws IOException {
            Path file = out.resolve(FILE);
            if (!Files.exists(file)) {
                OptionalLong seed = EvolutionRun.checkpointSeed(out);
                return new Origin(seed.isPresent() ? seed.getAsLong() : null, null, false, null);
            }
            JsonNode n;
            try {
                n = Json.MAPPER.readTree(file.toFile());
            } catch (JacksonException e) {
                throw new InvalidInputException(file.toString(), "unreadable: " + e.getOriginalMessage());
            }
            if (!n.path("seed").isIntegralNumber() || !(n.path("config").isString() || n.path("config").isNull())) {
                throw new InvalidInputException(file.toString(), "needs an integer \"seed\" and a \"config\" path "
                        + "or null");
            }
            return new Origin(n.get("seed").asLong(), n.get("config").isNull() ? null : n.get("config").asString(),
                    true, n);
        }

        static void write(Path out, long seed, Path config, Task task, EvolveSettings settings) {
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("seed", seed);
            n.put("config", config == null ? null : Inputs.isStdin(config) ? Inputs.STDIN
                    : absolute(config).toString());
            n.put("task", task.name());
            checked(settings).forEach((setting, value) -> n.put(key(setting), value));
            try {
                AtomicFiles.writeString(out.resolve(FILE), Json.write(n) + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + out.resolve(FILE), e);
            }
        }

        /**
         * The settings run.json records and a resume must keep, by the configuration key that sets them: the
         * programs are placed on islands, ranked and placed in grids by them.
         */
        private static Map<String, Object> checked(EvolveSettings settings) {
            var d = settings.database();
            Map<String, Object> m = new LinkedHashMap<>();
            // Iteration i works on island i mod num_islands: with another count the trace's islands mean others.
            m.put("database.num_islands", d.numIslands());
            m.put("database.fitness_metric", d.fitnessMetric());
            m.put("database.pareto_metrics", d.paretoMetrics());
            m.put("database.feature_dimensions", d.featureDimensions());
            m.put("database.feature_bins", d.featureBins());
            return m;
        }

        /** run.json's key for a setting: its last part. */
        private static String key(String setting) {
            return setting.substring(setting.lastIndexOf('.') + 1);
        }

        /**
         * Refuses another task than the run's (a run.json written before the task was recorded does not check it):
         * before the run's first checkpoint, which checks it too, the run went on with the other task's programs.
         */
        void requireTask(Path out, Task task) {
            JsonNode saved = recorded == null ? null : recorded.get("task");
            if (saved != null && !saved.asString().equals(task.name())) {
                throw new InvalidInputException("--task", "the run in " + out + " is of task " + saved.asString()
                        + ", not " + task.name());
            }
        }

        /**
         * Refuses settings other than those the run recorded (a run.json written before a setting was recorded
         * does not check it).
         */
        void requireSame(Path out, EvolveSettings settings) {
            if (recorded == null) {
                return;
            }
            checked(settings).forEach((setting, value) -> {
                JsonNode saved = recorded.get(key(setting));
                JsonNode now = Json.MAPPER.valueToTree(value);
                if (saved != null && !saved.equals(now)) {
                    throw new InvalidInputException(setting, text(now) + ", but the run's " + out.resolve(FILE)
                            + " records " + text(saved) + " (resume with the run's --config)");
                }
            });
        }

        /** A recorded value as a message shows it: names bare, lists in brackets. */
        private static String text(JsonNode n) {
            if (n.isArray()) {
                List<String> items = new ArrayList<>();
                n.forEach(v -> items.add(text(v)));
                return items.toString();
            }
            return n.isString() ? n.asString() : n.toString();
        }

        /** The seed to use: the run's when {@code given} is null; refused when it differs. */
        Long seed(Path out, Long given) {
            if (given != null && seed != null && !given.equals(seed)) {
                throw new InvalidInputException("--seed", "the run in " + out + " used seed " + seed + ", not "
                        + given);
            }
            return given != null ? given : seed;
        }

        /**
         * The configuration to use: the run's when {@code given} is null; refused when it is another file, unless
         * the run's no longer exists (moved or renamed: the settings a resume must keep are checked on their own).
         * A configuration read from standard input must be given again (from there or a file): it was not kept.
         */
        Path config(Path out, Path given) throws IOException {
            if (!configKnown) {
                return given;
            }
            if (Inputs.isStdin(config)) {
                if (given == null) {
                    throw new InvalidInputException("--config", "the run in " + out + " read its configuration from "
                            + Inputs.NAME + "; give it again (--config - or a file)");
                }
                return given;
            }
            Path saved = config == null ? null : Path.of(config);
            if (saved != null && !Files.exists(saved)) {
                if (given == null) {
                    throw new InvalidInputException("--config", "the run's configuration " + saved + " (recorded in "
                            + out.resolve(FILE) + ") no longer exists; give its new place with --config");
                }
                return given;
            }
            if (given == null) {
                return saved;
            }
            boolean same = saved != null && !Inputs.isStdin(given) && (absolute(given).equals(saved)
                    || Files.exists(given) && Files.exists(saved) && Files.isSameFile(given, saved));
            if (!same) {
                throw new InvalidInputException("--config", "the run in " + out + " used "
                        + (config == null ? "no --config" : config) + ", not "
                        + (Inputs.isStdin(given) ? Inputs.NAME : absolute(given)));
            }
            return given;
        }

        private static Path absolute(Path p) {
            return p.toAbsolutePath().normalize();
        }
    }

    /**
     * Deletes {@code out} when it holds nothing, or only an empty {@code llm_responses.jsonl}, besides this run's
     * lock file (released and deleted first).
     */
    private void removeUnused(Path out) throws IOException {
        Path recording = out.resolve("llm_responses.jsonl");
        List<Path> entries;
        try (var list = Files.list(out)) {
            entries = list.filter(p -> !p.getFileName().toString().equals(DirectoryLock.FILE)).toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        boolean unused = entries.isEmpty() || entries.equals(List.of(recording)) && Files.isRegularFile(recording)
                && Files.size(recording) == 0;
        if (unused) {
            lock.close();
            Files.deleteIfExists(recording);
            Files.deleteIfExists(out);
        }
    }

    /** Refuses an option's path that is not a regular file, saying whether it is missing or something else. */
    private static void requireFile(String option, Path path) {
        if (!Files.isRegularFile(path)) {
            throw new InvalidInputException(option, path + (Files.exists(path) ? " is not a regular file"
                    : " does not exist"));
        }
    }
}
