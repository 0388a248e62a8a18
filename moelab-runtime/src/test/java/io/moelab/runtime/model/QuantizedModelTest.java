package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.tensor.DType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Load-time quantization end to end: the quantized model computes what a float64 forward pass computes with
 * the weights rounded as the formats define them (rounded here by an independent implementation), and stays
 * within a documented distance of the unquantized model.
 */
class QuantizedModelTest {
    private static final int[] TOKENS = {4, 9, 33, 2, 47, 11};

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(Family.class)
    void q8AndInt4MatchTheReferenceOnRoundedWeights(Family family) throws Exception {
        TinyModel tiny = TinyModel.create(family, DType.F32, 21 + family.ordinal(), true);
        Path dir = tiny.write(tmp.resolve("m"));
        double[][] exact = new ReferenceForward(tiny).logits(TOKENS);
        for (WeightFormat format : new WeightFormat[] {WeightFormat.Q8, WeightFormat.INT4}) {
            double[][] expected = new ReferenceForward(tiny, rounded(tiny, format)).logits(TOKENS);
            try (MoeModel model = MoeModel.load(dir, format)) {
                float[][] actual = model.logits(TOKENS);
                double worst = 0;
                for (int t = 0; t < TOKENS.length; t++) {
                    double scale = maxAbs(expected[t]);
                    for (int i = 0; i < actual[t].length; i++) {
                        assertThat((double) actual[t][i]).as("%s %s position %d logit %d", family, format, t, i)
                                .isCloseTo(expected[t][i], org.assertj.core.data.Offset.offset(1e-4 * scale));
                        worst = Math.max(worst, Math.abs(actual[t][i] - exact[t][i]) / maxAbs(exact[t]));
                    }
                }
                // How far the formats move these random models' logits, as a share of the largest logit
                // (docs/RUNTIME.md): Q8 2-3%, INT4 up to half, where rounding flips an expert choice. The
                // per-weight bounds are the tensor package's tests; this guards against a format gone wrong.
                assertThat(worst).as("%s %s distance from the unquantized logits", family, format)
                        .isLessThan(format == WeightFormat.Q8 ? 0.05 : 1.0).isGreaterThan(0);
            }
        }
    }

    /**
     * INT4 with int8 activations rounds every activation vector it multiplies, in prefill as in decoding: the batched
     * prompt used to multiply dequantized rows by float activations (plain INT4's arithmetic), so that {@code logits}
     * and {@code perplexity} measured INT4 under the int4-i8 name and a prompt's KV cache mixed the two.
     */
    @ParameterizedTest
    @EnumSource(Family.class)
    void int4WithInt8ActivationsPrefillsAsItDecodes(Family family) throws Exception {
        TinyModel tiny = TinyModel.create(family, DType.F32, 31 + family.ordinal(), true);
        Path dir = tiny.write(tmp.resolve("i8"));
        try (MoeModel i8 = MoeModel.load(dir, WeightFormat.INT4_I8);
             MoeModel int4 = MoeModel.load(dir, WeightFormat.INT4)) {
            CompiledKernels.assertSameOnceCompiled(() -> i8.logits(TOKENS), () -> CompiledKernels.decoded(i8, TOKENS),
                    family + ": int4-i8 decoding against batched prefill");
            float[][] batched = i8.logits(TOKENS);
            assertThat(java.util.Arrays.deepEquals(batched, int4.logits(TOKENS)))
                    .as("int8 activations round differently from float ones").isFalse();
        }
    }

    /**
     * Q8 and INT4 prefill a prompt in batches that dequantize each row once (code times scale, rounded to float per
     * weight) and dot it with F32's kernel, while decoding sums each group's codes times activations and scales the
     * sum once: the same products in another rounding, so the two agree to float rounding but not bit for bit (on
     * these models about nine logits in ten differ, by at most 2.2e-6 of the largest). A KV cache filled by prefill
     * and continued by decoding, as generate does, lies between the two.
     */
    @ParameterizedTest
    @EnumSource(Family.class)
    void q8AndInt4PrefillAgreesWithDecodingToFloatRounding(Family family) throws Exception {
        TinyModel tiny = TinyModel.create(family, DType.F32, 51 + family.ordinal(), true);
        Path dir = tiny.write(tmp.resolve("pd"));
        for (WeightFormat format : new WeightFormat[] {WeightFormat.Q8, WeightFormat.INT4}) {
            try (MoeModel model = MoeModel.load(dir, format)) {
                float[][] batched = model.logits(TOKENS);
                float[][] decoded = CompiledKernels.decoded(model, TOKENS);
                // Half prefilled, half decoded on the same cache.
                KvCache cache = model.newCache(TOKENS.length);
                float[][] mixed = new float[TOKENS.length][];
                System.arraycopy(model.prefill(java.util.Arrays.copyOf(TOKENS, 3), 0, cache, true), 0, mixed, 0, 3);
                for (int t = 3; t < TOKENS.length; t++) {
                    mixed[t] = model.forward(TOKENS[t], t, cache);
                }
                for (int t = 0; t < TOKENS.length; t++) {
                    double scale = 0;
                    for (float e : batched[t]) {
                        scale = Math.max(scale, Math.abs(e));
                    }
                    org.assertj.core.data.Offset<Float> within = org.assertj.core.data.Offset.offset((float) (1e-5
                            * scale));
                    for (int i = 0; i < batched[t].length; i++) {
                        assertThat(decoded[t][i]).as("%s %s decoded position %d logit %d", family, format, t, i)
                                .isCloseTo(batched[t][i], within);
                        assertThat(mixed[t][i]).as("%s %s prefill then decode, position %d logit %d", family, format,
                                t, i).isCloseTo(batched[t][i], within);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void packedF32GivesTheStoredModelsLogits(Family family) throws Exception {
        TinyModel tiny = TinyModel.create(family, DType.F32, 41 + family.ordinal(), true);
        Path dir = tiny.write(tmp.resolve("p"));
        try (MoeModel stored = MoeModel.load(dir, WeightFormat.STORED);
             MoeModel packed = MoeModel.load(dir, WeightFormat.PACKED)) {
            // Batched prefill multiplies rows read back from either layout with the same kernel: the same bits.
            CompiledKernels.assertSameOnceCompiled(() -> stored.logits(TOKENS), () -> packed.logits(TOKENS),
                    family + ": packed against stored");
            float[][] expected = stored.logits(TOKENS);
            // Decoding token by token runs the packed single-vector kernel, which sums each row in another order
            // (one accumulator, not two): the same logits to float rounding.
            KvCache cache = packed.newCache(TOKENS.length);
            for (int t = 0; t < TOKENS.length; t++) {
                float[] logits = packed.forward(TOKENS[t], t, cache);
                double scale = 0;
                for (float e : expected[t]) {
                    scale = Math.max(scale, Math.abs(e));
                }
                for (int i = 0; i < logits.length; i++) {
                    assertThat((double) logits[i]).as("%s decode position %d logit %d", family, t, i)
                            .isCloseTo(expected[t][i], org.assertj.core.data.Offset.offset(1e-5 * scale));
                }
            }
        }
    }

    /** The weights as the format stores them, for the matrices the runtime quantizes. */
    private static Map<String, double[]> rounded(TinyModel tiny, WeightFormat format) {
        Map<String, double[]> out = new LinkedHashMap<>(tiny.weights);
        tiny.weights.forEach((name, values) -> {
            long[] shape = tiny.shapes.get(name);
            boolean quantized = shape.length == 2 && !name.equals("model.embed_tokens.weight")
                    && !name.endsWith(".gate.weight") && !name.endsWith("shared_expert_gate.weight");
            if (quantized) {
                out.put(name, round(values, (int) shape[1], format == WeightFormat.Q8 ? 32 : 64,
                        format == WeightFormat.Q8 ? 127 : 7, format == WeightFormat.Q8 ? -127 : -8));
            }
        });
        return out;
    }

    /** Symmetric group quantization: scale = fp16(max|w| / qmax), code = clamp(round(w / scale)). */
    private static double[] round(double[] w, int cols, int group, int qmax, int qmin) {
        double[] out = new double[w.length];
        for (int start = 0; start < w.length; start += group) {
            double max = 0;
            for (int i = start; i < start + group; i++) {
                max = Math.max(max, Math.abs(w[i]));
            }
            float scale = Float.float16ToFloat(Float.floatToFloat16((float) (max / qmax)));
            for (int i = start; i < start + group; i++) {
                double code = scale == 0 ? 0 : Math.max(qmin, Math.min(qmax, Math.rint(w[i] / scale)));
                out[i] = code * scale;
            }
        }
        assertThat(cols % group).isZero();
        return out;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
