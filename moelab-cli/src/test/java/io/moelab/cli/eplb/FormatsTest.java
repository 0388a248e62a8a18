package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The eplb tables' number formats: three significant digits or more for times, whole counts without decimals. */
class FormatsTest {
    @Test
    void millisKeepAboutThreeSignificantDigits() {
        assertThat(Formats.millis(1234.56)).isEqualTo("1235");
        assertThat(Formats.millis(100)).isEqualTo("100");
        assertThat(Formats.millis(99.994)).isEqualTo("99.99");
        assertThat(Formats.millis(1)).isEqualTo("1.00");
        assertThat(Formats.millis(0.99949)).isEqualTo("0.999");
        assertThat(Formats.millis(0.0123)).isEqualTo("0.012");
    }

    @Test
    void countsShowADecimalOnlyWhenNotWhole() {
        assertThat(Formats.count(2416)).isEqualTo("2416");
        assertThat(Formats.count(2416.5)).isEqualTo("2416.5");
        assertThat(Formats.count(0)).isEqualTo("0");
        assertThat(Formats.ratio(0.78494)).isEqualTo("0.7849");
    }
}
