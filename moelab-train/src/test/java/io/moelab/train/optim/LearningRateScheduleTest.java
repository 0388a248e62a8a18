package io.moelab.train.optim;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LearningRateScheduleTest {
    @Test
    void warmsUpLinearlyThenDecaysByCosineToTheFloor() {
        // Steps 0 to 14: warm-up 0-3, decay over steps 4-14, the floor at the last step (it used to come one step
        // after the run's end, so a run never trained at its floor).
        LearningRateSchedule s = new LearningRateSchedule(1.0, 4, 15, 0.1);
        assertThat(s.at(0)).isCloseTo(0.25, within(1e-12));
        assertThat(s.at(3)).isCloseTo(1.0, within(1e-12));
        // Step 4 starts the decay: progress 0 of 10.
        assertThat(s.at(4)).isCloseTo(1.0, within(1e-12));
        // Halfway (progress 5/10): cos(pi/2) = 0, so the rate is halfway between the floor and the peak.
        assertThat(s.at(9)).isCloseTo(0.55, within(1e-12));
        assertThat(s.at(13)).isGreaterThan(0.1);
        assertThat(s.at(14)).isCloseTo(0.1, within(1e-12));
        assertThat(s.at(100)).isCloseTo(0.1, within(1e-12));
    }

    @Test
    void aSingleStepRunsAtThePeakAndTwoEndAtTheFloor() {
        assertThat(new LearningRateSchedule(2.0, 0, 1, 0.5).at(0)).isCloseTo(2.0, within(1e-12));
        assertThat(new LearningRateSchedule(2.0, 0, 2, 0.5).at(1)).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void withoutWarmUpStartsAtThePeak() {
        assertThat(new LearningRateSchedule(2.0, 0, 10, 0).at(0)).isCloseTo(2.0, within(1e-12));
    }
}
