package io.moelab.runtime.generate;

import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;

/**
 * How well a model predicts a text: the negative log-likelihood of every token given the ones before it, in
 * windows of at most {@code context} tokens (each window starts a fresh KV cache, so its first token is
 * predicted from nothing and is not scored, unless a BOS token opens every window).
 */
public final class Perplexity {
    private static final int CHUNK = 64;
    private Perplexity() {
    }

    /**
     * The result.
     *
     * @param tokens        tokens scored
     * @param nllPerToken   mean negative log-likelihood per scored token, in nats
     * @param totalNll      total negative log-likelihood, in nats
     */
    public record Result(long tokens, double nllPerToken, double totalNll) {
        /** exp(mean NLL). */
        public double perplexity() {
            return Math.exp(nllPerToken);
        }

        /** Bits per byte of a text of {@code bytes} UTF-8 bytes. */
        public double bitsPerByte(long bytes) {
            return totalNll / Math.log(2) / bytes;
        }
    }

    /**
     * Scores {@code tokens}.
     *
     * @param bos     a token to open every window with (then every text token is scored), or -1 for none
     * @param context the longest window, BOS included
     */
    public static Result compute(MoeModel model, int[] tokens, int bos, int context) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be at least 2 tokens, got " + context);
        }
        double total = 0;
        long scored = 0;
        int step = bos >= 0 ? context - 1 : context;
        for (int start = 0; start < tokens.length; start += step) {
            int end = Math.min(tokens.length, start + step);
            // The window's input: BOS (if any) and its tokens but the last, whose logits would predict nothing.
            int[] input = new int[(bos >= 0 ? 1 : 0) + end - start - 1];
            int off = 0;
            if (bos >= 0) {
                input[off++] = bos;
            }
            System.arraycopy(tokens, start, input, off, end - start - 1);
            int firstTarget = bos >= 0 ? start : start + 1;
            KvCache cache = model.newCache(Math.max(1, input.length));
            // Chunks bound the logits held at once (chunk x vocabulary floats).
            for (int c = 0; c < input.length; c += CHUNK) {
                int len = Math.min(CHUNK, input.length - c);
                float[][] logits = model.prefill(java.util.Arrays.copyOfRange(input, c, c + len), c, cache, true);
                for (int i = 0; i < len; i++) {
                    total -= logSoftmax(logits[i], tokens[firstTarget + c + i]);
                    scored++;
                }
            }
        }
        return new Result(scored, scored == 0 ? Double.NaN : total / scored, total);
    }

    /** log softmax(logits)[target], computed stably. */
    static double logSoftmax(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return logits[target] - max - Math.log(sum);
    }
}
