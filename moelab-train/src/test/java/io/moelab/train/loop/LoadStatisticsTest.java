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

    /**
     * Counts accumulate over steps, per layer and expert; the layers' mean ({@code load_cv} in metrics.jsonl) is the
     * plain mean, 0 for no layers.
     */
    @Test
    void countsAccumulateAndTheAverageIsThePlainMean() {
        LoadStatistics s = new LoadStatistics(2, 3);
        s.add(new int[][] {{1, 2, 3}, {0, 0, 9}});
        s.add(new int[][] {{4, 0, 1}, {3, 0, 0}});
        assertThat(s.counts()).isDeepEqualTo(new long[][] {{5, 2, 4}, {3, 0, 9}});
        // Layer 1: 3, 0, 9, mean 4, max 9; variance (1 + 16 + 25) / 3 = 14.
        assertThat(s.maxOverMean()[1]).isCloseTo(9 / 4.0, within(1e-12));
        assertThat(s.coefficientOfVariation()[1]).isCloseTo(Math.sqrt(14) / 4, within(1e-12));
        assertThat(LoadStatistics.average(new double[] {0.5, 1.0, 3.0})).isCloseTo(1.5, within(1e-15));
        assertThat(LoadStatistics.average(new double[0])).isZero();
    }
}
