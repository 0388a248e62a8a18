package io.moelab.evolve.eval;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
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
}
