package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class EplbScoreTest {

    @Test
    void fullSpeedBonusAtOneMillisecondOrFaster() {
        assertThat(EplbScore.speedScore(0.5)).isEqualTo(10.0);
        assertThat(EplbScore.speedScore(1.0)).isEqualTo(10.0);
        assertThat(EplbScore.speedScore(0.0)).isEqualTo(10.0);
        assertThat(EplbScore.combined(0.8, 0.5)).isCloseTo(72 + 10, within(1e-9));
    }

    @Test
    void bonusFallsAsOneOverTime() {
        assertThat(EplbScore.speedScore(2.0)).isCloseTo(5.0, within(1e-12));
        assertThat(EplbScore.timePenalty(2.0)).isZero();
        assertThat(EplbScore.combined(0.8, 2.0)).isCloseTo(72 + 5, within(1e-9));
    }

    @Test
    void penaltyOfOnePointPerMillisecondAboveTen() {
        assertThat(EplbScore.timePenalty(10.0)).isZero();
        assertThat(EplbScore.timePenalty(20.0)).isCloseTo(10.0, within(1e-12));
        assertThat(EplbScore.combined(0.8, 20.0)).isCloseTo(72 + 0.5 - 10, within(1e-9));
        assertThat(EplbScore.combined(1.0, 10.0)).isCloseTo(90 + 1, within(1e-9));
    }

    @Test
    void stageOneIsNinetyTimesBalancedness() {
        assertThat(EplbScore.stageOne(0.5)).isCloseTo(45.0, within(1e-12));
    }
}
