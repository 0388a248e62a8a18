package io.moelab.evolve.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.task.eplb.EplbTask;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The built-in eplb task as {@code --task eplb} and {@code --task eplb:quick} give it. */
class BuiltinTasksTest {

    @Test
    void eplbAndItsQuickSuite() {
        for (String suite : List.of("default", "quick")) {
            Task t = Tasks.resolve(suite.equals("default") ? "eplb" : "eplb:" + suite);
            assertThat(t.name()).isEqualTo(suite.equals("default") ? "eplb" : "eplb:quick");
            assertThat(t.language()).isEqualTo("java");
            assertThat(t.programFileName()).isEqualTo("EvolvedBalancer.java");
            assertThat(t.initialProgram()).isEqualTo(EplbTask.initialProgram());
            assertThat(t.systemMessage()).isEqualTo(EplbTask.systemMessage());
            assertThat(t.fitnessMetric()).isEqualTo("combined_score");
            assertThat(t.directory()).isNull();
            assertThat(t.defaultCascadeThresholds()).isEmpty();
            // The evaluator fills {java} and {memory_mb}: the heap follows evaluator.memory_mb.
            assertThat(t.stageCommands()).isEqualTo(EplbTask.stageCommands("{java}", EplbTask.classpath(),
                    "{memory_mb}", suite));
            assertThat(t.stageScorer().outputFile()).isEqualTo(EplbTask.RESULTS);
        }
    }

    @Test
    void anUnknownSuiteIsRefusedNamingTheOption() {
        for (String spec : List.of("eplb:big", "eplb:", "eplb:Quick")) {
            assertThatThrownBy(() -> Tasks.resolve(spec)).isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith("--task: unknown eplb suite '" + spec.substring(5)
                            + "' (known: default, quick)");
        }
    }
}
