package io.moelab.train.data;

import io.moelab.runtime.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

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

    /**
     * Runs of different seeds draw independent batches. The step's generator was seeded with seed x 0x9E3779B97F4A7C15
     * + step, and SplittableRandom(x) draws mix64(x + i x 0x9E3779B97F4A7C15) with that same constant: seed s + 1 drew
     * seed s's numbers one draw later, so seed s + 2's batch was seed s's moved up one window (a window is two draws,
     * domain and offset), 15 of the tiny preset's 16 windows the same at every step.
     */
    @Test
    void batchesOfDifferentSeedsShareNoWindows() {
        SplittableRandom letters = new SplittableRandom(42);
        Map<String, String> texts = new LinkedHashMap<>();
        for (String domain : new String[] {"a", "b", "c"}) {
            StringBuilder sb = new StringBuilder();
            for (int doc = 0; doc < 4; doc++) {
                for (int i = 0; i < Corpus.DOCUMENT_CHARS; i++) {
                    sb.append((char) ('a' + letters.nextInt(26)));
                }
                sb.append("\n\n");
            }
            texts.put(domain, sb.toString());
        }
        TokenStreams s = new TokenStreams(Corpus.fromTexts(texts));
        Set<String> seen = new HashSet<>();
        int windows = 0;
        for (long seed = 1; seed <= 4; seed++) {
            for (long step = 0; step < 3; step++) {
                for (int[] row : s.trainBatch(seed, step, 8, 32)) {
                    seen.add(Arrays.toString(row));
                    windows++;
                }
            }
        }
        // 72,018 training tokens: 96 windows drawn independently share a start with odds of about 1 in 16 (they
        // shared 42: seeds 1 and 3, 2 and 4, 7 of 8 windows a step).
        assertThat(windows).isEqualTo(96);
        assertThat(s.trainTokens()).isEqualTo(72_018);
        assertThat(windows - seen.size()).isLessThanOrEqualTo(1);
        // The old sampler, which runs started before the change resume with, draws as it did: seed 3's batch is
        // seed 1's moved up one window.
        int[][] one = s.trainBatch(1, 0, 8, 32, TokenStreams.LEGACY_SAMPLER);
        int[][] three = s.trainBatch(3, 0, 8, 32, TokenStreams.LEGACY_SAMPLER);
        assertThat(Arrays.copyOfRange(three, 0, 7)).isDeepEqualTo(Arrays.copyOfRange(one, 1, 8));
        assertThat(s.trainBatch(1, 0, 8, 32)).isDeepEqualTo(s.trainBatch(1, 0, 8, 32, TokenStreams.SAMPLER));
    }
}
