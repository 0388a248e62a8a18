package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Supplier;

/**
 * Bit-for-bit comparisons of a model's results across code paths. Every kernel gives the same bits in every execution
 * tier (exp included: {@code Kernels.exp}), so a comparison needs no warm-up and no second try: with the Vector API's
 * {@code EXP}, computations on either side of a compilation differed in the last bits, and such a comparison failed
 * once in a team-size test, once between batched prefill and decoding and once between two models' logits.
 */
final class CompiledKernels {
    private CompiledKernels() {
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
     * Asserts that {@code a} and {@code b} compute the same bits, computed once each, whatever the JIT has compiled
     * so far.
     */
    static void assertSameOnceCompiled(Supplier<float[][]> a, Supplier<float[][]> b, String what) {
        float[][] x = a.get();
        float[][] y = b.get();
        for (int r = 0; r < Math.min(x.length, y.length); r++) {
            assertThat(y[r]).as("%s, row %d", what, r).containsExactly(x[r]);
        }
        assertThat(y).as(what).hasSameDimensionsAs(x);
    }
}
