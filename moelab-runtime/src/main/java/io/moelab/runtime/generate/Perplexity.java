package io.moelab.runtime.generate;

import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;
import java.util.function.LongConsumer;

/**
 * How well a model predicts a text: the negative log-likelihood of every token given the ones before it, in
 * windows of at most {@code context} tokens, each on a fresh KV cache. With a BOS token, BOS opens every window and
 * every token is scored. Without one, a window's first token can only be conditioned on: windows overlap by that
 * one token, so that every token but the text's first is scored whatever the window length (disjoint windows left
 * one token in {@code context} unscored, whose bytes bits per byte still counted: a shorter window read lower).
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
     * @param context the longest window, its opening BOS or conditioning token included
     * @throws IllegalArgumentException if {@code context} is under 2, {@code bos} is negative but not -1, or
     *                                  {@code bos} or a token is outside the model's vocabulary
     */
    public static Result compute(MoeModel model, int[] tokens, int bos, int context) {
        return compute(model, tokens, bos, context, scored -> { });
    }

    /**
     * Scores {@code tokens}, telling {@code progress} the number of tokens scored so far after each batched pass
     * (a long text takes minutes on a large model).
     *
     * @param bos      a token to open every window with (then every text token is scored), or -1 for none
     * @param context  the longest window, its opening BOS or conditioning token included
     * @param progress told the tokens scored so far, rising to {@link Result#tokens()}
     * @throws IllegalArgumentException if {@code context} is under 2, {@code bos} is negative but not -1, or
     *                                  {@code bos} or a token is outside the model's vocabulary (before anything
     *                                  is scored)
     */
    public static Result compute(MoeModel model, int[] tokens, int bos, int context, LongConsumer progress) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be at least 2 tokens, got " + context);
        }
        if (bos < -1) {
            // Only -1 means "none": another negative id is a caller's bug, not to be read silently as no BOS.
            throw new IllegalArgumentException("bos must be a token id or -1 for none, got " + bos);
        }
        // Checked here, as the model checks the ids it is fed: a window's last target is never fed, and its logit
        // was looked up unchecked (an index out of bounds).
        if (bos >= 0) {
            model.requireToken(bos);
        }
        for (int t : tokens) {
            model.requireToken(t);
        }
        double total = 0;
        long scored = 0;
        int conditioning = bos >= 0 ? 0 : 1;
        // Each window scores the tokens [start, end) (targets) given BOS or the token before them.
        for (int start = conditioning; start < tokens.length; ) {
            int end = Math.min(tokens.length, start + context - 1);
            // The window's input: BOS or the token before the targets, then the targets but the last, whose logits
            // would predict nothing.
            int[] input = new int[end - start];
            input[0] = bos >= 0 ? bos : tokens[start - 1];
            System.arraycopy(tokens, start, input, 1, end - start - 1);
            KvCache cache = model.newCache(input.length);
            // Chunks bound the logits held at once (chunk x vocabulary floats).
            for (int c = 0; c < input.length; c += CHUNK) {
                int len = Math.min(CHUNK, input.length - c);
                float[][] logits = model.prefill(java.util.Arrays.copyOfRange(input, c, c + len), c, cache, true);
                for (int i = 0; i < len; i++) {
                    total -= logSoftmax(logits[i], tokens[start + c + i]);
                    scored++;
                }
                progress.accept(scored);
            }
            start = end;
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
