package io.moelab.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NounsTest {
    @Test
    void oneIsSingularAndEveryOtherCountPlural() {
        assertThat(Nouns.count(1, "layer")).isEqualTo("1 layer");
        assertThat(Nouns.count(0, "layer")).isEqualTo("0 layers");
        assertThat(Nouns.count(2, "GPU")).isEqualTo("2 GPUs");
        assertThat(Nouns.count(-1, "step")).isEqualTo("-1 step");
        assertThat(Nouns.count(1, "expert copy", "expert copies")).isEqualTo("1 expert copy");
        assertThat(Nouns.count(3, "expert copy", "expert copies")).isEqualTo("3 expert copies");
    }
}
