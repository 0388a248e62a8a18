package io.moelab.cli.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The table's tokens/s figures, worked by hand. */
class SimReportsTest {
    /**
     * A very slow cluster (rates at their accepted minimums) served 0.0029 tokens/s, which the table printed as 0:
     * below 100 a rate now keeps three significant digits, in scientific notation below 0.0001.
     */
    @Test
    void tokensPerSecondKeepSignificantDigits() {
        assertThat(SimReports.tokensPerSecond(123456.7)).isEqualTo("123457");
        assertThat(SimReports.tokensPerSecond(100.4)).isEqualTo("100");
        assertThat(SimReports.tokensPerSecond(99.96)).isEqualTo("100");
        assertThat(SimReports.tokensPerSecond(42.54)).isEqualTo("42.5");
        assertThat(SimReports.tokensPerSecond(3.0)).isEqualTo("3");
        assertThat(SimReports.tokensPerSecond(0.5)).isEqualTo("0.5");
        assertThat(SimReports.tokensPerSecond(0.0029393023328859753)).isEqualTo("0.00294");
        assertThat(SimReports.tokensPerSecond(0.0001)).isEqualTo("0.0001");
        assertThat(SimReports.tokensPerSecond(0.000012345)).isEqualTo("1.23e-5");
        assertThat(SimReports.tokensPerSecond(1.2e-5)).isEqualTo("1.2e-5");
        assertThat(SimReports.tokensPerSecond(9.996e-5)).isEqualTo("0.0001");
        assertThat(SimReports.tokensPerSecond(3e-300)).isEqualTo("3e-300");
        assertThat(SimReports.tokensPerSecond(0)).isEqualTo("0");
    }
}
