package io.moelab.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;

import org.junit.jupiter.api.Test;

class NumbersTest {
    @Test
    void wholeAndDecimalNumbersReadAsWritten() {
        assertThat(Numbers.plain(-4.0)).isEqualTo("-4");
        assertThat(Numbers.plain(0.0)).isEqualTo("0");
        assertThat(Numbers.plain(-0.0)).isEqualTo("0");
        assertThat(Numbers.plain(0.25)).isEqualTo("0.25");
        assertThat(Numbers.plain(0.1)).isEqualTo("0.1");
        assertThat(Numbers.plain(12345678901234.0)).isEqualTo("12345678901234");
        assertThat(Numbers.plain(1e-6)).isEqualTo("0.000001");
    }

    @Test
    void extremesKeepTheirExponent() {
        assertThat(Numbers.plain(1e300)).isEqualTo("1.0E300");
        assertThat(Numbers.plain(-1e-9)).isEqualTo("-1.0E-9");
        assertThat(Numbers.plain(Double.NaN)).isEqualTo("NaN");
        assertThat(Numbers.plain(Double.NEGATIVE_INFINITY)).isEqualTo("-Infinity");
    }

    /** The plain form reads back as the same double: nothing is rounded away. */
    @Test
    void readsBackExactly() {
        qt().withExamples(2000).withFixedSeed(1).forAll(doubles().any())
                .checkAssert(v -> assertThat(Double.parseDouble(Numbers.plain(v))).isEqualTo(v == 0 ? 0.0 : v));
        qt().withExamples(2000).withFixedSeed(2).forAll(doubles().between(-1e16, 1e16))
                .checkAssert(v -> assertThat(Double.parseDouble(Numbers.plain(v))).isEqualTo(v == 0 ? 0.0 : v));
    }
}
