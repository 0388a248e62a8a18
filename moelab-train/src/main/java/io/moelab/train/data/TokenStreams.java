package io.moelab.train.data;

import io.moelab.runtime.tokenizer.ByteTokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A corpus turned into byte-level token streams, one per domain and split: each document becomes
 * {@code BOS, its UTF-8 bytes, EOS}, documents concatenated. Training batches are windows drawn across domains;
 * validation windows are fixed.
 */
public final class TokenStreams {
    /** The vocabulary of moelab's byte-level models: 256 bytes, BOS and EOS. */
    public static final int VOCAB = 258;

    private final List<String> domains;
    private final List<int[]> train;
    private final long[] cumulative;
    private final Map<String, int[]> validation;

    /** Encodes {@code corpus}. */
    public TokenStreams(Corpus corpus) {
        this.domains = List.copyOf(corpus.train().keySet());
        this.train = new ArrayList<>();
        this.cumulative = new long[domains.size()];
        long total = 0;
        for (int d = 0; d < domains.size(); d++) {
            int[] s = encode(corpus.train().get(domains.get(d)));
            train.add(s);
            total += s.length;
            cumulative[d] = total;
        }
        this.validation = new LinkedHashMap<>();
        corpus.validation().forEach((domain, docs) -> validation.put(domain, encode(docs)));
    }

    /** The training domains, in corpus order. */
    public List<String> domains() {
        return domains;
    }

    /** The length of {@code domain}'s held-out stream in tokens (0 if it holds nothing out). */
    public int validationTokens(String domain) {
        int[] s = validation.get(domain);
        return s == null ? 0 : s.length;
    }

    /** Training tokens in all. */
    public long trainTokens() {
        return cumulative[cumulative.length - 1];
    }

    /**
     * Refuses a corpus with a domain too short for one training window. Such a domain would be drawn, in
     * proportion to its size, only now and then: the run failed at whichever step first drew it, and a resume drew
     * it again at that step.
     *
     * @throws Corpus.CorpusException naming the first such domain
     */
    public void requireTrainingWindows(int seq) {
        for (int d = 0; d < domains.size(); d++) {
            int tokens = train.get(d).length;
            if (tokens < seq + 1) {
                throw new Corpus.CorpusException(String.format(java.util.Locale.ROOT, "domain '%s' has %,d training "
                        + "tokens (its bytes, with BOS and EOS around each document), fewer than one window of "
                        + "--seq + 1 = %,d: give it more text, leave it out, or lower --seq", domains.get(d), tokens,
                        (long) seq + 1));
            }
        }
    }

    /**
     * The batch sampler of runs started before {@link #SAMPLER} (their checkpoints record none): its generator's seed,
     * {@code seed x 0x9E3779B97F4A7C15 + step}, used the constant SplittableRandom adds per draw, so seed s + 1 drew
     * seed s's numbers one draw later and seed s + 2's batches were seed s's moved up one window. Kept so that such a
     * run resumes on the batches it trained on.
     */
    public static final int LEGACY_SAMPLER = 1;

    /** The batch sampler of new runs: independent batches for every seed and step. */
    public static final int SAMPLER = 2;

    /**
     * The training batch of {@code step}: {@code batch} windows of {@code seq + 1} tokens, each from a domain
     * drawn with probability proportional to its size and a uniformly drawn offset. A function of
     * {@code (seed, step)} only, so a resumed run draws what an uninterrupted one would.
     *
     * @return {@code batch} rows of {@code seq + 1} token ids
     * @throws IllegalArgumentException if some domain is shorter than one window
     */
    public int[][] trainBatch(long seed, long step, int batch, int seq) {
        return trainBatch(seed, step, batch, seq, SAMPLER);
    }

    /**
     * {@link #trainBatch(long, long, int, int)} drawn by sampler {@code sampler}: {@link #SAMPLER}, or
     * {@link #LEGACY_SAMPLER} for a run that started with it.
     *
     * @throws IllegalArgumentException if some domain is shorter than one window, or for another sampler
     */
    public int[][] trainBatch(long seed, long step, int batch, int seq, int sampler) {
        long state = seed * 0x9E3779B97F4A7C15L + step;
        SplittableRandom rnd = switch (sampler) {
            // Hashed: SplittableRandom(x) draws mix64(x + i * 0x9E3779B97F4A7C15), so seeds that differ by a
            // multiple of that constant draw one stream shifted; hashed, they no longer do.
            case SAMPLER -> new SplittableRandom(mix64(state));
            case LEGACY_SAMPLER -> new SplittableRandom(state);
            default -> throw new IllegalArgumentException("no batch sampler " + sampler + " (" + LEGACY_SAMPLER
                    + ", " + SAMPLER + ")");
        };
        int[][] rows = new int[batch][];
        for (int b = 0; b < batch; b++) {
            long pick = rnd.nextLong(trainTokens());
            int d = 0;
            while (cumulative[d] <= pick) {
                d++;
            }
            int[] s = train.get(d);
            if (s.length < seq + 1) {
                throw new IllegalArgumentException("domain '" + domains.get(d) + "' has " + s.length
                        + " tokens, fewer than one window of " + (seq + 1));
            }
            int off = rnd.nextInt(s.length - seq);
            rows[b] = java.util.Arrays.copyOfRange(s, off, off + seq + 1);
        }
        return rows;
    }

    /** Stafford's mix 13, SplittableRandom's own finalizer: a bijection that scatters nearby inputs. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Fixed validation windows by domain: up to {@code maxWindows} non-overlapping windows of {@code seq + 1}
     * tokens spread evenly over the domain's held-out stream.
     */
    public Map<String, int[][]> validationWindows(int seq, int maxWindows) {
        Map<String, int[][]> out = new LinkedHashMap<>();
        validation.forEach((domain, s) -> {
            int available = (s.length - 1) / seq;
            int n = Math.min(available, maxWindows);
            if (n == 0) {
                return;
            }
            int[][] rows = new int[n][];
            for (int i = 0; i < n; i++) {
                int start = (int) ((long) i * available / n) * seq;
                rows[i] = java.util.Arrays.copyOfRange(s, start, start + seq + 1);
            }
            out.put(domain, rows);
        });
        return out;
    }

    /** The held-out text of each domain, as it was encoded (documents separated by blank lines). */
    public static Map<String, String> validationTexts(Corpus corpus) {
        Map<String, String> out = new LinkedHashMap<>();
        corpus.validation().forEach((d, docs) -> out.put(d,
                String.join("\n\n", docs.stream().map(Document::text).toList()) + "\n"));
        return out;
    }

    private static int[] encode(List<Document> docs) {
        ByteTokenizer tok = new ByteTokenizer(VOCAB);
        int n = 0;
        List<int[]> parts = new ArrayList<>();
        for (Document doc : docs) {
            int[] ids = tok.encode(doc.text());
            parts.add(ids);
            n += ids.length + 2;
        }
        int[] out = new int[n];
        int i = 0;
        for (int[] ids : parts) {
            out[i++] = ByteTokenizer.BOS;
            System.arraycopy(ids, 0, out, i, ids.length);
            i += ids.length;
            out[i++] = ByteTokenizer.EOS;
        }
        return out;
    }
}
