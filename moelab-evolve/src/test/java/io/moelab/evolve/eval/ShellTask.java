package io.moelab.evolve.eval;

import io.moelab.evolve.task.Task;
import java.nio.file.Path;
import java.util.List;

/** A task whose stages are shell scripts, for tests. */
public record ShellTask(String initialProgram, List<String> stageScripts, List<Double> thresholds) implements Task {

    /** One stage. */
    public static ShellTask of(String program, String script) {
        return new ShellTask(program, List.of(script), List.of());
    }

    @Override
    public String name() {
        return "shell";
    }

    @Override
    public String language() {
        return "bash";
    }

    @Override
    public String programFileName() {
        return "program.sh";
    }

    @Override
    public String systemMessage() {
        return null;
    }

    @Override
    public String fitnessMetric() {
        return "score";
    }

    @Override
    public List<List<String>> stageCommands() {
        return stageScripts.stream().map(s -> List.of("sh", "-c", s, "stage", "{program}", "{metrics}", "{stage}"))
                .toList();
    }

    @Override
    public Path directory() {
        return null;
    }

    @Override
    public List<Double> defaultCascadeThresholds() {
        return thresholds;
    }
}
