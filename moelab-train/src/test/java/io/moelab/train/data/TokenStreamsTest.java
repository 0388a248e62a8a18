package io.moelab.train.data;

import io.moelab.runtime.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    /** {@code text}'s stream as the class describes it: BOS, its UTF-8 bytes, EOS. */
    private static int[] framed(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] s = new int[b.length + 2];
        s[0] = ByteTokenizer.BOS;
        for (int i = 0; i < b.length; i++) {
            s[i + 1] = b[i] & 0xff;
        }
        s[b.length + 1] = ByteTokenizer.EOS;
        return s;
    }

    /** A text of {@code n} characters in which no two windows of a few tokens are alike (its numbers in turn). */
    private static String varied(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < n; i++) {
            sb.append(i).append(',');
        }
        return sb.substring(0, n);
    }

    /**
     * A domain of exactly one window (seq + 1 tokens) trains; one token fewer is refused, naming the domain, its
     * tokens and the window. The token counts: each document's bytes with BOS and EOS; a held-out stream's likewise,
     * 0 for a domain that holds nothing out.
     */
    @Test
    void aDomainOfExactlyOneWindowTrainsAndOneTokenFewerIsRefused() {
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("short", "x".repeat(48)); // one document: 50 tokens
        texts.put("long", ("y".repeat(Corpus.DOCUMENT_CHARS) + "\n\n").repeat(2)); // one trains, one held out
        TokenStreams s = new TokenStreams(Corpus.fromTexts(texts));
        assertThat(s.domains()).containsExactly("short", "long");
        assertThat(s.trainTokens()).isEqualTo(50 + 8002);
        assertThat(s.validationTokens("long")).isEqualTo(8002);
        assertThat(s.validationTokens("short")).isZero();
        assertThat(s.validationTokens("absent")).isZero();
        s.requireTrainingWindows(49);
        assertThatThrownBy(() -> s.requireTrainingWindows(50)).isInstanceOf(Corpus.CorpusException.class)
                .hasMessage("domain 'short' has 50 training tokens (its bytes, with BOS and EOS around each document), "
                        + "fewer than one window of --seq + 1 = 51: give it more text, leave it out, or lower --seq");
        // Drawn, such a domain fails the batch (the check above keeps a run from getting there).
        TokenStreams alone = new TokenStreams(Corpus.fromTexts(Map.of("short", "x".repeat(48))));
        assertThat(alone.trainBatch(3, 0, 2, 49)).hasNumberOfRows(2);
        assertThatThrownBy(() -> alone.trainBatch(3, 0, 1, 50)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain 'short' has 50 tokens, fewer than one window of 51");
        assertThatThrownBy(() -> s.trainBatch(3, 0, 1, 8, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no batch sampler 3 (1, 2)");
    }

    /**
     * Every window is a slice of one domain's stream, and the offsets reach both ends: a domain two tokens longer than
     * a window has two, 0 and 1, and both are drawn (a window one further would end past the stream, where the copy
     * pads with zeros).
     */
    @Test
    void windowsAreSlicesOfOneDomainFromItsFirstOffsetToItsLast() {
        String shortText = varied(60);
        String longText = varied(Corpus.DOCUMENT_CHARS);
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("short", shortText);
        texts.put("long", longText);
        TokenStreams s = new TokenStreams(Corpus.fromTexts(texts));
        int[] shortStream = framed(shortText);
        int[] longStream = framed(longText);
        int seq = shortStream.length - 2;
        Set<Integer> shortOffsets = new HashSet<>();
        int longRows = 0;
        for (int step = 0; step < 400; step++) {
            for (int[] row : s.trainBatch(11, step, 4, seq)) {
                assertThat(row).hasSize(seq + 1);
                if (Arrays.equals(row, Arrays.copyOfRange(shortStream, 0, seq + 1))) {
                    shortOffsets.add(0);
                } else if (Arrays.equals(row, Arrays.copyOfRange(shortStream, 1, seq + 2))) {
                    shortOffsets.add(1);
                } else {
                    longRows++;
                    int at = indexOf(longStream, row);
                    assertThat(at).as("a window of the long domain").isBetween(0, longStream.length - seq - 1);
                }
            }
        }
        assertThat(shortOffsets).containsExactlyInAnyOrder(0, 1);
        assertThat(longRows).isPositive();
    }

    private static int indexOf(int[] stream, int[] row) {
        for (int i = 0; i + row.length <= stream.length; i++) {
            if (Arrays.equals(stream, i, i + row.length, row, 0, row.length)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The batches against a reference written from the class's description: the step's generator is
     * SplittableRandom over mix64(seed x 0x9E3779B97F4A7C15 + step) (the legacy sampler: unmixed), a window's domain
     * the first whose running total of tokens exceeds a draw below the total, its offset a draw below
     * {@code length - seq}. A resumed run draws what the run it continues drew: the batches must not change.
     */
    @Test
    void batchesMatchAReferenceSampler() {
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("a", varied(70));
        texts.put("b", varied(300));
        texts.put("c", varied(45));
        TokenStreams s = new TokenStreams(Corpus.fromTexts(texts));
        List<int[]> streams = List.of(framed(varied(70)), framed(varied(300)), framed(varied(45)));
        int seq = 40;
        // 6,000 windows over 421 tokens: draws land on the domains' first tokens, where a window changes domain.
        for (long seed = -3; seed < 47; seed++) {
            for (long step = 0; step < 10; step++) {
                long state = seed * 0x9E3779B97F4A7C15L + step;
                for (int sampler : new int[] {TokenStreams.LEGACY_SAMPLER, TokenStreams.SAMPLER}) {
                    SplittableRandom rnd = new SplittableRandom(sampler == TokenStreams.SAMPLER ? mix64(state)
                            : state);
                    List<int[]> expected = new ArrayList<>();
                    for (int b = 0; b < 6; b++) {
                        long pick = rnd.nextLong(72 + 302 + 47);
                        int d = pick < 72 ? 0 : pick < 72 + 302 ? 1 : 2;
                        int off = rnd.nextInt(streams.get(d).length - seq);
                        expected.add(Arrays.copyOfRange(streams.get(d), off, off + seq + 1));
                    }
                    assertThat(s.trainBatch(seed, step, 6, seq, sampler)).as("seed %d step %d sampler %d", seed,
                            step, sampler).isDeepEqualTo(expected.toArray(new int[0][]));
                }
            }
        }
    }

    /** Stafford's mix 13 (SplittableRandom's finalizer), as published. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Validation windows by hand: a held-out stream of L tokens has (L - 1) / seq windows of seq + 1 tokens end to
     * end (each window's last token the next one's first); at most {@code maxWindows} of them are taken, window
     * {@code floor(i x available / n)} for i below n. A domain with none is left out.
     */
    @Test
    void validationWindowsByHand() {
        Map<String, String> texts = new LinkedHashMap<>();
        String held = varied(Corpus.DOCUMENT_CHARS);
        texts.put("v", held + "\n\n" + held);
        TokenStreams s = new TokenStreams(Corpus.fromTexts(texts));
        int[] stream = framed(held); // either document: they are the same text
        assertThat(stream).hasSize(8002);
        // (8002 - 1) / 1000 = 8 windows available; 3 taken: windows 0, 2 and 5 (floor of 0, 8/3, 16/3).
        int[][] three = s.validationWindows(1000, 3).get("v");
        assertThat(three).hasNumberOfRows(3);
        int[] starts = {0, 2000, 5000};
        for (int i = 0; i < 3; i++) {
            assertThat(three[i]).as("window %d", i).isEqualTo(Arrays.copyOfRange(stream, starts[i], starts[i] + 1001));
        }
        // All 8, end to end; the last ends at token 8001 of 8002.
        int[][] all = s.validationWindows(1000, 100).get("v");
        assertThat(all).hasNumberOfRows(8);
        for (int i = 0; i < 8; i++) {
            assertThat(all[i]).isEqualTo(Arrays.copyOfRange(stream, i * 1000, i * 1000 + 1001));
        }
        // 8002 tokens make one window of 8001 predicted tokens and none of 8002.
        assertThat(s.validationWindows(8002, 4)).isEmpty();
        assertThat(s.validationWindows(8001, 4).get("v")).isDeepEqualTo(new int[][] {stream});
    }

    /** The held-out text written for each domain: its documents in order, a blank line between, a newline after. */
    @Test
    void validationTextsJoinTheHeldOutDocumentsByBlankLines() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            sb.append(String.valueOf((char) ('a' + i)).repeat(Corpus.DOCUMENT_CHARS)).append("\n\n");
        }
        Corpus c = Corpus.fromTexts(Map.of("d", sb.toString()));
        List<Document> heldOut = c.validation().get("d");
        assertThat(heldOut).hasSize(2);
        assertThat(TokenStreams.validationTexts(c)).containsExactly(Map.entry("d", heldOut.get(0).text() + "\n\n"
                + heldOut.get(1).text() + "\n"));
        // The stream they were encoded to: each document framed, one after the other (one window of all of it).
        int[] first = framed(heldOut.get(0).text());
        int[] second = framed(heldOut.get(1).text());
        int[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        assertThat(new TokenStreams(c).validationWindows(both.length - 1, 1).get("d"))
                .isDeepEqualTo(new int[][] {both});
    }
}
