package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A configuration built in code is held to what {@link ModelConfig#of} requires of config.json: the record's
 * constructor took any values, and the fault surfaced later and elsewhere (a KV cache of a model without KV heads
 * divided by zero, {@code isMoe} of a sparse step of 0 as well, an odd head dimension rotated half a pair).
 */
class ModelConfigConstructorTest {

    /** The tiny Mixtral's values, with the fields given as name-value pairs replaced. */
    private static ModelConfig config(Object... edits) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("vocabSize", 50);
        v.put("hidden", 16);
        v.put("layers", 3);
        v.put("heads", 4);
        v.put("kvHeads", 2);
        v.put("headDim", 4);
        v.put("intermediate", 32);
        v.put("expertIntermediate", 32);
        v.put("experts", 4);
        v.put("topK", 2);
        v.put("sharedIntermediate", 0);
        v.put("sparseStep", 1);
        v.put("ropeTheta", 1e6);
        v.put("rmsNormEps", 1e-5);
        for (int i = 0; i < edits.length; i += 2) {
            assertThat(v).containsKey((String) edits[i]);
            v.put((String) edits[i], edits[i + 1]);
        }
        return new ModelConfig(Family.MIXTRAL, (int) v.get("vocabSize"), (int) v.get("hidden"), (int) v.get("layers"),
                (int) v.get("heads"), (int) v.get("kvHeads"), (int) v.get("headDim"), (int) v.get("intermediate"),
                (int) v.get("expertIntermediate"), (int) v.get("experts"), (int) v.get("topK"), true,
                (int) v.get("sharedIntermediate"), (int) v.get("sparseStep"), Set.of(), false, false,
                (double) v.get("ropeTheta"), (double) v.get("rmsNormEps"), false);
    }

    private static void refused(String message, Supplier<ModelConfig> build) {
        assertThatThrownBy(build::get).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void valuesConfigJsonCouldNotHoldAreRefusedByName() {
        refused("vocabSize must be positive, got 0", () -> config("vocabSize", 0));
        refused("hidden must be positive, got -16", () -> config("hidden", -16));
        refused("layers must be positive, got 0", () -> config("layers", 0));
        refused("heads must be positive, got 0", () -> config("heads", 0));
        refused("kvHeads must be positive, got 0", () -> config("kvHeads", 0));
        refused("headDim must be positive, got 0", () -> config("headDim", 0));
        refused("intermediate must be positive, got 0", () -> config("intermediate", 0));
        refused("expertIntermediate must be positive, got 0", () -> config("expertIntermediate", 0));
        refused("experts must not be negative, got -1", () -> config("experts", -1));
        refused("topK must be positive, got 0", () -> config("topK", 0));
        refused("sharedIntermediate must not be negative, got -1", () -> config("sharedIntermediate", -1));
        refused("sparseStep must be positive, got 0", () -> config("sparseStep", 0));
        refused("heads 4 is not a multiple of kvHeads 3", () -> config("kvHeads", 3));
        refused("headDim 5 must be even for RoPE", () -> config("headDim", 5));
        refused("heads x headDim = 65536 x 65536 is more rows than a projection can have",
                () -> config("heads", 65536, "kvHeads", 1, "headDim", 65536));
        refused("topK 5 exceeds the 4 experts", () -> config("topK", 5));
        refused("ropeTheta must be a finite positive number, got NaN", () -> config("ropeTheta", Double.NaN));
        refused("rmsNormEps must be a finite positive number, got 0.0", () -> config("rmsNormEps", 0.0));
        refused("rmsNormEps must be a finite positive number, got Infinity",
                () -> config("rmsNormEps", Double.POSITIVE_INFINITY));
        assertThatThrownBy(() -> new ModelConfig(null, 50, 16, 3, 4, 2, 4, 32, 32, 4, 2, true, 0, 1, Set.of(), false,
                false, 1e6, 1e-5, false)).isInstanceOf(NullPointerException.class).hasMessage("family");
    }

    @Test
    void whatConfigJsonCanHoldIsKept() {
        ModelConfig c = config();
        assertThat(c.kvHeads() * c.headDim()).isEqualTo(8);
        assertThat(KvCache.maxPositions(c)).isEqualTo(268435392);
        // A Qwen-style dense model: no experts, whatever its top-k.
        assertThat(config("experts", 0, "topK", 8).isMoe(0)).isFalse();
        assertThat(config("sparseStep", 2).isMoe(1)).isTrue();
    }
}
