package io.moelab.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MessageTextTest {
    @Test
    void controlCharactersAndLineSeparatorsAreEscapedAndTheRestKept() {
        assertThat(MessageText.oneLine("a\nb\rc\td")).isEqualTo("a\\nb\\rc\\td");
        assertThat(MessageText.oneLine("x" + (char) 0 + (char) 0x1b + (char) 0x7f + (char) 0x85))
                .isEqualTo("x\\u0000\\u001b\\u007f\\u0085");
        assertThat(MessageText.oneLine("p" + (char) 0x2028 + "q" + (char) 0x2029))
                .isEqualTo("p\\u2028q\\u2029");
        assertThat(MessageText.oneLine("logical_count é 専門家 \"q\"")).isEqualTo("logical_count é 専門家 \"q\"");
        assertThat(MessageText.oneLine("")).isEmpty();
    }
}
