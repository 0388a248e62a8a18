package io.moelab.evolve.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
