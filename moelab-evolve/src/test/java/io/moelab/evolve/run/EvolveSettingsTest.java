package io.moelab.evolve.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.config.EvolveConfig;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** EvolveSettings as a library user builds it. */
class EvolveSettingsTest {

    /** Null parts were taken, and the run failed later with a NullPointerException that named none of them. */
    @Test
    void nullPartsAreNamed() {
        EvolveSettings s = EvolveConfig.defaults("score").model("m").apiBase("http://localhost:1/v1").build(null);
        assertThat(copy(s, UnaryOperator.identity(), 0)).isEqualTo(s);
        String[] names = {"llm", "prompt", "database", "evaluator"};
        for (int i = 0; i < names.length; i++) {
            int part = i + 1;
            assertThatThrownBy(() -> copy(s, x -> null, part)).isInstanceOf(NullPointerException.class)
                    .hasMessage(names[i]);
        }
    }

    /** Each range at its edges: the value at the limit is taken, one past it refused naming the setting. */
    @Test
    void rangesAtTheirEdges() {
        EvolveSettings s = EvolveConfig.defaults("score").model("m").apiBase("http://localhost:1/v1").build(null);
        assertThat(with(s, 0, 1, 1, 1, 0, 0.0).maxIterations()).isZero();
        assertThat(with(s, EvolveSettings.MAX_ITERATIONS, 1, 1, 1, 0, -0.0).maxIterations())
                .isEqualTo(1_000_000);
        assertThat(with(s, 5, 1, 1, 1, 0, Double.POSITIVE_INFINITY).convergenceThreshold()).isInfinite();
        assertThatThrownBy(() -> with(s, -1, 1, 1, 1, 0, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("max_iterations: must be 0 to 1000000, got -1");
        assertThatThrownBy(() -> with(s, 1_000_001, 1, 1, 1, 0, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("max_iterations: must be 0 to 1000000, got 1000001");
        assertThatThrownBy(() -> with(s, 5, 0, 1, 1, 0, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("checkpoint_interval: must be at least 1, got 0");
        assertThatThrownBy(() -> with(s, 5, 1, 0, 1, 0, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("keep_checkpoints: must be at least 1, got 0");
        assertThatThrownBy(() -> with(s, 5, 1, 1, 0, 0, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("max_code_length: must be positive, got 0");
        assertThatThrownBy(() -> with(s, 5, 1, 1, 1, -1, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("early_stopping_patience: must not be negative, got -1");
        for (double bad : new double[] {-1e-300, Double.NaN, Double.NEGATIVE_INFINITY}) {
            assertThatThrownBy(() -> with(s, 5, 1, 1, 1, 0, bad)).isInstanceOf(InvalidInputException.class)
                    .hasMessage("convergence_threshold: must be a non-negative number");
        }
        assertThat(EvolveSettings.requireIterations("--iterations", 1_000_000)).isEqualTo(1_000_000);
        assertThatThrownBy(() -> EvolveSettings.requireIterations("--iterations", 1L << 32))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("--iterations: must be 0 to 1000000, got 4294967296");
    }

    private static EvolveSettings with(EvolveSettings s, int iterations, int interval, int keep, int maxCode,
                                       int patience, double threshold) {
        return new EvolveSettings(iterations, interval, keep, s.randomSeed(), s.diffBased(), maxCode, patience,
                threshold, s.llm(), s.prompt(), s.database(), s.evaluator());
    }

    /** {@code s} with its part number {@code part} (1: llm ... 4: evaluator) mapped by {@code f}. */
    private static EvolveSettings copy(EvolveSettings s, UnaryOperator<Object> f, int part) {
        return new EvolveSettings(s.maxIterations(), s.checkpointInterval(), s.keepCheckpoints(), s.randomSeed(),
                s.diffBased(), s.maxCodeLength(), s.earlyStoppingPatience(), s.convergenceThreshold(),
                (io.moelab.evolve.llm.LlmSettings) (part == 1 ? f.apply(s.llm()) : s.llm()),
                (io.moelab.evolve.prompt.PromptSettings) (part == 2 ? f.apply(s.prompt()) : s.prompt()),
                (io.moelab.evolve.database.DatabaseSettings) (part == 3 ? f.apply(s.database()) : s.database()),
                (io.moelab.evolve.eval.EvaluatorSettings) (part == 4 ? f.apply(s.evaluator()) : s.evaluator()));
    }
}
