package io.moelab.train.data;

import io.moelab.runtime.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TokenStreamsTest {
    private static Corpus corpus() {
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("big", ("a".repeat(Corpus.DOCUMENT_CHARS) + "\n\n").repeat(10));
        texts.put("small", ("é".repeat(Corpus.DOCUMENT_CHARS) + "\n\n").repeat(3));
        return Corpus.fromTexts(texts);
    }

    @Test
    void documentsAreFramedByBosAndEosAndEncodedAsUtf8Bytes() {
        TokenStreams s = new TokenStreams(corpus());
        // big: 9 training documents of 8000 bytes; small: 2 of 8000 two-byte characters.
        assertThat(s.trainTokens()).isEqualTo(9L * 8002 + 2L * 16002);
        Map<String, int[][]> v = s.validationWindows(100, 1000);
        int[] first = v.get("big")[0];
        assertThat(first[0]).isEqualTo(ByteTokenizer.BOS);
        assertThat(first[1]).isEqualTo('a');
        assertThat(v.get("small")[0][1]).isEqualTo(0xC3);
        assertThat(v.get("small")[0][2]).isEqualTo(0xA9);
        // One held-out document of 8002 tokens: 80 windows of 100 predicted tokens.
        assertThat(v.get("big")).hasNumberOfRows(80);
        assertThat(s.validationWindows(100, 5).get("big")).hasNumberOfRows(5);
    }

    @Test
    void batchesAreAFunctionOfSeedAndStepAndDrawFromEveryDomain() {
        TokenStreams s = new TokenStreams(corpus());
        assertThat(s.trainBatch(7, 3, 4, 32)).isDeepEqualTo(s.trainBatch(7, 3, 4, 32));
        assertThat(java.util.Arrays.deepEquals(s.trainBatch(7, 3, 4, 32), s.trainBatch(7, 4, 4, 32))).isFalse();
        int small = 0;
        int rows = 0;
        for (int step = 0; step < 200; step++) {
            for (int[] row : s.trainBatch(1, step, 4, 32)) {
                assertThat(row).hasSize(33);
                rows++;
                for (int t : row) {
                    if (t == 0xC3) {
                        small++;
                        break;
                    }
                }
            }
        }
        // small holds 32004 of 104022 tokens (31%): drawn in proportion.
        assertThat(small / (double) rows).isBetween(0.24, 0.38);
    }
}
