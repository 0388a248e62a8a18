package io.moelab.evolve.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** EvaluatorSettings as a library user builds it. */
class EvaluatorSettingsTest {

    /** A null timeout or threshold list failed with a NullPointerException that named neither. */
    @Test
    void nullPartsAreNamed() {
        assertThatThrownBy(() -> new EvaluatorSettings(null, 512, true, List.of(), null, 1, 8L << 20, 4096))
                .isInstanceOf(NullPointerException.class).hasMessage("timeout");
        assertThatThrownBy(() -> new EvaluatorSettings(Duration.ofSeconds(1), 512, true, null, null, 1, 8L << 20,
                4096)).isInstanceOf(NullPointerException.class).hasMessage("cascadeThresholds");
    }

    private static EvaluatorSettings with(int memoryMb, int parallel, long maxOutput, int artifact, Double... t) {
        return new EvaluatorSettings(Duration.ofSeconds(1), memoryMb, true, Arrays.asList(t), null, parallel,
                maxOutput, artifact);
    }

    /** Each range's ends are in it, the values just past them are refused naming the key. */
    @Test
    void rangesIncludeTheirEnds() {
        EvaluatorSettings least = with(16, 1, 1024, 0);
        assertThat(least.memoryMb()).isEqualTo(16);
        assertThat(least.maxOutputBytes()).isEqualTo(1024);
        assertThat(least.artifactBytes()).isZero();
        assertThat(with(16, EvaluatorSettings.MAX_PARALLEL, 1024, 0).parallel()).isEqualTo(256);
        assertThatThrownBy(() -> with(15, 1, 1024, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("evaluator.memory_mb: must be at least 16, got 15");
        assertThatThrownBy(() -> with(16, 0, 1024, 0))
                .hasMessage("evaluator.parallel_evaluations: must be 1 to 256, got 0");
        assertThatThrownBy(() -> with(16, 257, 1024, 0))
                .hasMessage("evaluator.parallel_evaluations: must be 1 to 256, got 257");
        assertThatThrownBy(() -> with(16, 1, 1023, 0))
                .hasMessage("evaluator.max_output_bytes: must be at least 1024, got 1023");
        assertThatThrownBy(() -> with(16, 1, 1024, -1))
                .hasMessage("evaluator.max_artifact_bytes: must not be negative");
        for (Double bad : new Double[] {null, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> with(16, 1, 1024, 0, 0.5, bad))
                    .hasMessage("evaluator.cascade_thresholds: must be finite numbers");
        }
        assertThatThrownBy(() -> EvaluatorSettings.defaults().withTimeout(Duration.ZERO, "--eval-timeout"))
                .hasMessage("--eval-timeout: must be positive, got 0 s");
    }

    /** The copies change one field and keep the others, the timeout's setting included; the list is copied. */
    @Test
    void copiesKeepTheOtherFields() {
        List<Double> thresholds = new ArrayList<>(List.of(0.5));
        EvaluatorSettings s = new EvaluatorSettings(Duration.ofSeconds(3), 64, false, thresholds, "m", 2, 4096, 10,
                "--eval-timeout");
        thresholds.add(0.9);
        assertThat(s.cascadeThresholds()).containsExactly(0.5);
        assertThat(s.withParallel(5)).isEqualTo(new EvaluatorSettings(Duration.ofSeconds(3), 64, false, List.of(0.5),
                "m", 5, 4096, 10, "--eval-timeout"));
        assertThat(s.withTimeout(Duration.ofSeconds(9))).isEqualTo(new EvaluatorSettings(Duration.ofSeconds(9), 64,
                false, List.of(0.5), "m", 2, 4096, 10, "--eval-timeout"));
        assertThat(EvaluatorSettings.defaults()).isEqualTo(new EvaluatorSettings(Duration.ofSeconds(60), 512, true,
                List.of(), null, 1, 8L << 20, 4096, "evaluator.timeout"));
    }

    /** A threshold gates the stage after it: at most one fewer than the stages. */
    @Test
    void thresholdsMustFitTheStages() {
        EvaluatorSettings.requireThresholdsFit("task.yaml: cascade_thresholds", 2, 3, "the task");
        EvaluatorSettings.requireThresholdsFit("x", 0, 1, "the task");
        assertThatThrownBy(() -> EvaluatorSettings.requireThresholdsFit("task.yaml: cascade_thresholds", 3, 3,
                "the task")).isInstanceOf(InvalidInputException.class).hasMessage("task.yaml: cascade_thresholds: 3 "
                + "thresholds, but the task has 3 stages (a threshold after each stage but the last): at most 2");
    }
}
