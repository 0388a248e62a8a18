package io.moelab.train.optim;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LearningRateScheduleTest {
    @Test
    void warmsUpLinearlyThenDecaysByCosineToTheFloor() {
        LearningRateSchedule s = new LearningRateSchedule(1.0, 4, 14, 0.1);
        assertThat(s.at(0)).isCloseTo(0.25, within(1e-12));
        assertThat(s.at(3)).isCloseTo(1.0, within(1e-12));
        // Step 4 starts the decay: progress 0 of 10.
        assertThat(s.at(4)).isCloseTo(1.0, within(1e-12));
        // Halfway (progress 5/10): cos(pi/2) = 0, so the rate is halfway between the floor and the peak.
        assertThat(s.at(9)).isCloseTo(0.55, within(1e-12));
        assertThat(s.at(14)).isCloseTo(0.1, within(1e-12));
        assertThat(s.at(100)).isCloseTo(0.1, within(1e-12));
    }

    @Test
    void withoutWarmUpStartsAtThePeak() {
        assertThat(new LearningRateSchedule(2.0, 0, 10, 0).at(0)).isCloseTo(2.0, within(1e-12));
    }
}
