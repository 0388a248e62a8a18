package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Bit-for-bit comparisons of a model's results across code paths, robust to the JIT. Until C2 compiles a kernel the
 * Vector API computes {@code exp} (attention's softmax, SiLU) by its Java fallback, a few ulps off the compiled one,
 * so two computations on either side of a compilation can differ in the last bits although both are right: such a
 * comparison failed once in a team-size test and once between batched prefill and decoding.
 */
final class CompiledKernels {
    /** Tries before a difference counts: each compiles more, and a real difference stays. */
    private static final int TRIES = 40;

    private CompiledKernels() {
    }

    /** Decodes a few thousand tokens and prefills short prompts, so that both of the model's paths are compiled. */
    static void warm(MoeModel model) {
        int vocab = model.config().vocabSize();
        for (int round = 0; round < 60; round++) {
            KvCache cache = model.newCache(40);
            for (int t = 0; t < 40; t++) {
                model.forward((round * 7 + t * 13) % vocab, t, cache);
            }
            int[] prompt = new int[6];
            for (int t = 0; t < prompt.length; t++) {
                prompt[t] = (round * 5 + t * 11) % vocab;
            }
            model.prefill(prompt, 0, model.newCache(prompt.length), true);
        }
    }

    /** Every position's logits, decoded token by token on a fresh KV cache. */
    static float[][] decoded(MoeModel model, int[] tokens) {
        KvCache cache = model.newCache(tokens.length);
        float[][] logits = new float[tokens.length][];
        for (int t = 0; t < tokens.length; t++) {
            logits[t] = model.forward(tokens[t], t, cache);
        }
        return logits;
    }

    /**
     * Asserts that {@code a} and {@code b} compute the same bits once their code is compiled: both are recomputed
     * until they agree, {@value #TRIES} times at most. A deterministic difference (a wrong cache position, another
     * summation order) differs every time and fails; a difference that only a compilation in between caused goes.
     */
    static void assertSameOnceCompiled(Supplier<float[][]> a, Supplier<float[][]> b, String what) {
        float[][] x = null;
        float[][] y = null;
        for (int i = 0; i < TRIES; i++) {
            x = a.get();
            y = b.get();
            if (Arrays.deepEquals(x, y)) {
                return;
            }
        }
        for (int r = 0; r < x.length; r++) {
            assertThat(y[r]).as("%s, row %d (%d tries)", what, r, TRIES).containsExactly(x[r]);
        }
        assertThat(y).as(what).hasSameDimensionsAs(x);
    }
}
