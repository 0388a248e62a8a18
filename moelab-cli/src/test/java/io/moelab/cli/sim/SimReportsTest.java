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

    /**
     * A very fast cluster (rates at their accepted maximums) takes a fraction of a microsecond a step, which the
     * table's three decimals printed as 0.000 ms: a time keeps its decimals where they show three significant
     * digits (from 0.1 ms, from 10 ms for one decimal) and three significant digits below.
     */
    @Test
    void millisecondsKeepSignificantDigits() {
        assertThat(SimReports.figure(12.7994, 3)).isEqualTo("12.799");
        assertThat(SimReports.figure(0.12345, 3)).isEqualTo("0.123");
        assertThat(SimReports.figure(0.1, 3)).isEqualTo("0.100");
        assertThat(SimReports.figure(0.09996, 3)).isEqualTo("0.100");
        assertThat(SimReports.figure(0.0999, 3)).isEqualTo("0.0999");
        assertThat(SimReports.figure(0.0012345, 3)).isEqualTo("0.00123");
        assertThat(SimReports.figure(4.567e-7, 3)).isEqualTo("4.57e-7");
        assertThat(SimReports.figure(0, 3)).isEqualTo("0.000");
        assertThat(SimReports.figure(253.04, 1)).isEqualTo("253.0");
        assertThat(SimReports.figure(12.34, 1)).isEqualTo("12.3");
        assertThat(SimReports.figure(2.345, 1)).isEqualTo("2.35");
        assertThat(SimReports.figure(0, 1)).isEqualTo("0.0");
        assertThat(SimReports.figure(3e-6, 1)).isEqualTo("3e-6");
    }
}
