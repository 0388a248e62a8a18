package io.moelab.evolve.task;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.task.eplb.EplbTask;
import java.nio.file.Path;
import java.util.List;

/** The built-in tasks. */
final class BuiltinTasks {
    private BuiltinTasks() {
    }

    /**
     * The EPLB task with a suite of workloads: {@code default} (the scored suite) or {@code quick} (tiny shapes,
     * for smoke tests).
     */
    static Task eplb(String suite) {
        if (!suite.equals("default") && !suite.equals("quick")) {
            throw new InvalidInputException("--task", "unknown eplb suite '" + suite + "' (known: default, quick)");
        }
        // {java} and {memory_mb} are left for the evaluator, so the heap cap follows evaluator.memory_mb.
        List<List<String>> stages = EplbTask.stageCommands("{java}", EplbTask.classpath(), "{memory_mb}", suite);
        StageScorer scorer = EplbTask.scorer(suite);
        String name = suite.equals("default") ? EplbTask.name() : EplbTask.name() + ":" + suite;
        return new Task() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String language() {
                return EplbTask.language();
            }

            @Override
            public String programFileName() {
                return EplbTask.programFileName();
            }

            @Override
            public String initialProgram() {
                return EplbTask.initialProgram();
            }

            @Override
            public String systemMessage() {
                return EplbTask.systemMessage();
            }

            @Override
            public String fitnessMetric() {
                return EplbTask.fitnessMetric();
            }

            @Override
            public List<List<String>> stageCommands() {
                return stages;
            }

            @Override
            public Path directory() {
                return null;
            }

            @Override
            public StageScorer stageScorer() {
                // The candidate runs in the stage's JVM: what that JVM prints or writes as a score is the
                // candidate's to fake, so the score is computed here from the placements it recorded.
                return scorer;
            }

            @Override
            public List<Double> defaultCascadeThresholds() {
                // Stage 1 reports validity 1 for a candidate that ran every small case correctly.
                return List.of();
            }
        };
    }
}
