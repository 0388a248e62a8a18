package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class EplbTaskTest {

    @Test
    void describesTheTask() {
        assertThat(EplbTask.name()).isEqualTo("eplb");
        assertThat(EplbTask.language()).isEqualTo("java");
        assertThat(EplbTask.programFileName()).isEqualTo("EvolvedBalancer.java");
        assertThat(EplbTask.fitnessMetric()).isEqualTo("combined_score");
        assertThat(EplbTask.systemMessage()).contains("BalancerAlgorithm", "combined_score", "no package line",
                "no-argument constructor", "EVOLVE-BLOCK-START");
    }

    /**
     * The system message goes with both answer forms: it said "return the complete file" while the default diff
     * mode's user message asks for SEARCH/REPLACE blocks only, two contradicting instructions in every prompt.
     */
    @Test
    void theSystemMessageLeavesTheAnswersFormToTheUserMessage() {
        assertThat(EplbTask.systemMessage()).doesNotContainIgnoringCase("complete file")
                .doesNotContainIgnoringCase("whole file").doesNotContain("unless told otherwise");
    }

    @Test
    void initialProgramHasOneEvolveBlockAndNoPackage() {
        String program = EplbTask.initialProgram();
        assertThat(program.split("// EVOLVE-BLOCK-START", -1)).hasSize(2);
        assertThat(program.split("// EVOLVE-BLOCK-END", -1)).hasSize(2);
        assertThat(program.indexOf("// EVOLVE-BLOCK-START")).isLessThan(program.indexOf("// EVOLVE-BLOCK-END"));
        assertThat(program).doesNotContain("package ", "DeepSeekBalancer")
                .contains("public final class EvolvedBalancer implements BalancerAlgorithm");
        // Name, imports and the final Placement construction stay outside the block.
        String outside = program.substring(0, program.indexOf("// EVOLVE-BLOCK-START"));
        assertThat(outside).contains("public String name()", "Placement.withRanks(");
    }

    @Test
    void stageCommandsKeepPlaceholders() {
        List<List<String>> stages = EplbTask.stageCommands("/jdk/bin/java", "a.jar", "512", "quick");
        assertThat(stages).hasSize(2);
        for (int i = 0; i < 2; i++) {
            List<String> argv = stages.get(i);
            assertThat(argv.getFirst()).isEqualTo("/jdk/bin/java");
            assertThat(argv).contains("-Xmx512m", "a.jar", EplbHarness.class.getName(), "{program}", "{workdir}")
                    .doesNotContain("{metrics}");
            assertThat(argv.get(argv.indexOf("--results") + 1)).isEqualTo("eplb-results.txt");
            assertThat(argv.get(argv.indexOf("--stage") + 1)).isEqualTo(String.valueOf(i + 1));
            assertThat(argv.get(argv.indexOf("--suite") + 1)).isEqualTo("quick");
        }
    }

    @Test
    void classpathPointsAtBothModules() {
        String[] entries = EplbTask.classpath().split(File.pathSeparator);
        assertThat(entries).hasSize(2);
        for (String entry : entries) {
            assertThat(Files.exists(Path.of(entry))).as(entry).isTrue();
        }
    }
}
