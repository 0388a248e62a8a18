package io.moelab.evolve.task;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.config.EvolveConfig;
import io.moelab.evolve.config.Utf8Files;
import io.moelab.evolve.config.YamlErrors;
import io.moelab.evolve.eval.EvaluatorSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A task defined by a directory: an initial program in any language and an evaluator command that prints JSON
 * metrics. The directory holds {@code task.yaml}:
 * <pre>{@code
 * language: python                  # code fence language (default: from the program's extension)
 * initial_program: initial_program.py   # default: the one file named initial_program.*
 * evaluator: [python3, "{task_dir}/evaluate.py", "{program}"]   # one stage; or a list of such lists
 * fitness_metric: combined_score    # default combined_score
 * system_message: "..."             # optional
 * cascade_thresholds: [0.5]         # optional, used when the run's configuration gives none
 * program_file: Main.java           # optional: the candidate's file name (default: the initial program's)
 * }</pre>
 * Placeholders are those of {@link Task}; a stage command given as one string is split at spaces.
 */
public final class GenericTask implements Task {
    // A key given twice: which of the two was meant cannot be known (the parser silently kept the last).
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final Set<String> KEYS = Set.of("language", "initial_program", "evaluator", "fitness_metric",
            "system_message", "cascade_thresholds", "program_file");

    private final Path dir;
    private final String language;
    private final String programFileName;
    private final String initialProgram;
    private final String systemMessage;
    private final String fitnessMetric;
    private final List<List<String>> stages;
    private final List<Double> thresholds;

    private GenericTask(Path dir, String language, String programFileName, String initialProgram,
                        String systemMessage, String fitnessMetric, List<List<String>> stages,
                        List<Double> thresholds) {
        this.dir = dir;
        this.language = language;
        this.programFileName = programFileName;
        this.initialProgram = initialProgram;
        this.systemMessage = systemMessage;
        this.fitnessMetric = fitnessMetric;
        this.stages = stages;
        this.thresholds = thresholds;
    }

    /**
     * Reads a task directory.
     *
     * @throws InvalidInputException naming the file and key when something is missing or malformed
     */
    public static GenericTask load(Path dir) {
        Path yaml = dir.resolve("task.yaml");
        if (!Files.isRegularFile(yaml)) {
            throw new InvalidInputException(dir.toString(), "not a task directory: no task.yaml");
        }
        JsonNode root;
        try {
            root = YAML.readTree(Utf8Files.read(yaml));
        } catch (JacksonException e) {
            throw new InvalidInputException(yaml.toString(), "cannot read: " + YamlErrors.describe(e));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(yaml.toString(), "expected a mapping of keys");
        }
        for (String key : root.propertyNames()) {
            if (!KEYS.contains(key)) {
                throw new InvalidInputException(yaml + ": " + key, "unknown key (known: " + String.join(", ",
                        KEYS.stream().sorted().toList()) + ")");
            }
        }
        Path initial = initialProgram(dir, yaml, text(root, "initial_program", yaml, null));
        String code = Utf8Files.read(initial);
        String fileName = initial.getFileName().toString();
        String ext = fileName.contains(".") ? fileName.substring(fileName.lastIndexOf('.') + 1) : "";
        String language = text(root, "language", yaml, languageOf(ext));
        String programFile = text(root, "program_file", yaml, fileName);
        // The candidate is written into its working directory under this name: a plain name, never a path.
        if (programFile.isBlank() || programFile.contains("/") || programFile.contains("\\")
                || programFile.equals(".") || programFile.equals("..")) {
            throw new InvalidInputException(yaml + ": program_file", "must be a plain file name, got '" + programFile
                    + "'");
        }
        List<List<String>> stages = stages(root.get("evaluator"), yaml);
        List<Double> thresholds = new ArrayList<>();
        JsonNode t = root.get("cascade_thresholds");
        if (t != null && !t.isNull()) {
            if (!t.isArray()) {
                throw new InvalidInputException(yaml + ": cascade_thresholds", "expected a list of numbers");
            }
            for (JsonNode n : t) {
                if (!n.isNumber()) {
                    throw new InvalidInputException(yaml + ": cascade_thresholds", "expected numbers, got " + n);
                }
                double d = EvolveConfig.asDouble(n);
                if (!Double.isFinite(d)) {
                    // .inf stopped every candidate after the stage, .nan and -.inf gated nothing.
                    throw new InvalidInputException(yaml + ": cascade_thresholds", "expected finite numbers, got "
                            + d);
                }
                thresholds.add(d);
            }
        }
        EvaluatorSettings.requireThresholdsFit(yaml + ": cascade_thresholds", thresholds.size(), stages.size(),
                "the evaluator");
        String fitnessMetric = text(root, "fitness_metric", yaml, "combined_score");
        if (fitnessMetric.isBlank()) {
            // Else refused later as the configuration's database.fitness_metric, which names neither this file nor
            // this key.
            throw new InvalidInputException(yaml + ": fitness_metric", "must name a metric, got '" + fitnessMetric
                    + "'");
        }
        return new GenericTask(dir, language, programFile, code, text(root, "system_message", yaml, null),
                fitnessMetric, stages, List.copyOf(thresholds));
    }

    private static Path initialProgram(Path dir, Path yaml, String named) {
        if (named != null) {
            Path p = dir.resolve(named);
            if (!Files.isRegularFile(p)) {
                throw new InvalidInputException(yaml + ": initial_program", p + " does not exist");
            }
            return p;
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().startsWith("initial_program."))
                    .sorted().toList();
            if (found.size() != 1) {
                throw new InvalidInputException(yaml + ": initial_program", found.isEmpty()
                        ? "not given and no initial_program.* in " + dir
                        : "not given and several initial_program.* files in " + dir);
            }
            return found.getFirst();
        } catch (IOException e) {
            throw new InvalidInputException(dir.toString(), "cannot list: " + e.getMessage());
        }
    }

    private static List<List<String>> stages(JsonNode node, Path yaml) {
        String where = yaml + ": evaluator";
        if (node == null || node.isNull()) {
            throw new InvalidInputException(where, "missing: the command that scores a candidate");
        }
        List<List<String>> stages = new ArrayList<>();
        if (node.isString()) {
            stages.add(split(node.asString(), where));
        } else if (node.isArray() && !node.isEmpty() && node.get(0).isString()) {
            stages.add(strings(node, where));
        } else if (node.isArray() && !node.isEmpty()) {
            for (JsonNode stage : node) {
                stages.add(stage.isString() ? split(stage.asString(), where) : strings(stage, where));
            }
        } else {
            throw new InvalidInputException(where, "expected a command (string or list) or a list of commands");
        }
        return List.copyOf(stages);
    }

    private static List<String> split(String command, String where) {
        List<String> argv = List.of(command.trim().split("\\s+"));
        if (command.isBlank()) {
            throw new InvalidInputException(where, "empty command");
        }
        return argv;
    }

    private static List<String> strings(JsonNode array, String where) {
        if (!array.isArray() || array.isEmpty()) {
            throw new InvalidInputException(where, "expected a non-empty list of arguments, got " + array);
        }
        List<String> argv = new ArrayList<>();
        for (JsonNode a : array) {
            if (!a.isValueNode() || a.isNull()) {
                throw new InvalidInputException(where, "arguments must be strings, got " + a);
            }
            argv.add(a.asString());
        }
        return List.copyOf(argv);
    }

    private static String text(JsonNode root, String key, Path yaml, String fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isValueNode()) {
            throw new InvalidInputException(yaml + ": " + key, "expected text, got " + n);
        }
        return n.asString();
    }

    private static String languageOf(String ext) {
        return switch (ext) {
            case "py" -> "python";
            case "js" -> "javascript";
            case "rs" -> "rust";
            case "sh" -> "bash";
            case "" -> "text";
            default -> ext;
        };
    }

    @Override
    public String name() {
        // The directory's own name however it was given: "--task ." named the task ".", and a resume from the
        // parent directory ("--task tsp") was refused as another task.
        Path d = dir.toAbsolutePath().normalize();
        return d.getFileName() == null ? d.toString() : d.getFileName().toString();
    }

    @Override
    public String language() {
        return language;
    }

    @Override
    public String programFileName() {
        return programFileName;
    }

    @Override
    public String initialProgram() {
        return initialProgram;
    }

    @Override
    public String systemMessage() {
        return systemMessage;
    }

    @Override
    public String fitnessMetric() {
        return fitnessMetric;
    }

    @Override
    public List<List<String>> stageCommands() {
        return stages;
    }

    @Override
    public Path directory() {
        return dir;
    }

    @Override
    public List<Double> defaultCascadeThresholds() {
        return thresholds;
    }
}
