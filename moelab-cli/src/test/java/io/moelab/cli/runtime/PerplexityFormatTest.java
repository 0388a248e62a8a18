package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The table's perplexity: readable at every size. */
class PerplexityFormatTest {
    /** A model that predicts badly (351 nats a token: perplexity e^351) printed its perplexity in 153 digits. */
    @Test
    void largePerplexitiesTakeScientificNotation() {
        assertThat(PerplexityCommand.perplexity(273.0849)).isEqualTo("273.085");
        assertThat(PerplexityCommand.perplexity(999_999.4)).isEqualTo("999999.400");
        assertThat(PerplexityCommand.perplexity(1e6)).isEqualTo("1.000e+06");
        assertThat(PerplexityCommand.perplexity(Math.exp(351))).isEqualTo("2.738e+152");
        assertThat(PerplexityCommand.perplexity(Double.POSITIVE_INFINITY)).isEqualTo("Infinity");
    }
}
