package io.moelab.train.loop;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LoadStatisticsTest {
    @Test
    void coefficientOfVariationAndMaxOverMeanByHand() {
        LoadStatistics s = new LoadStatistics(2, 4);
        s.add(new int[][] {{1, 1, 1, 1}, {4, 0, 0, 0}});
        s.add(new int[][] {{1, 1, 1, 1}, {2, 2, 0, 0}});
        // Layer 0: 2,2,2,2 even. Layer 1: 6,2,0,0, mean 2, variance (16+0+4+4)/4 = 6.
        assertThat(s.coefficientOfVariation()[0]).isEqualTo(0.0);
        assertThat(s.coefficientOfVariation()[1]).isCloseTo(Math.sqrt(6) / 2, within(1e-12));
        assertThat(s.maxOverMean()).containsExactly(1.0, 3.0);
        s.reset();
        assertThat(s.coefficientOfVariation()).containsExactly(0.0, 0.0);
        assertThat(s.maxOverMean()).containsExactly(1.0, 1.0);
    }
}
