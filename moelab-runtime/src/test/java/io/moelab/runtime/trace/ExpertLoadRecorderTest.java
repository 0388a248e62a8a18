package io.moelab.runtime.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.model.Family;
import io.moelab.runtime.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The recorder's counts, token counts and shares worked by hand, routing given directly rather than by a model
 * (whose tests check the counts only through their sums and against a second recorder).
 */
class ExpertLoadRecorderTest {
    /**
     * A Qwen2-MoE-style model of 5 layers with every second layer sparse (layers 1 and 3; layer 0, the first, is
     * dense, so the first MoE layer is layer 1), 4 experts, top-2.
     */
    private static ModelConfig config() {
        return new ModelConfig(Family.QWEN2_MOE, 50, 16, 5, 4, 2, 4, 32, 32, 4, 2, false, 0, 2, Set.of(), true, false,
                1e6, 1e-6, false);
    }

    /** One token routed through both MoE layers. */
    private static void token(ExpertLoadRecorder r, int[] first, int[] second) {
        r.routed(1, first);
        r.routed(3, second);
    }

    @Test
    void countsEachExpertPerMoeLayerAndTokensByTheFirstMoeLayer() {
        ExpertLoadRecorder r = new ExpertLoadRecorder(config());
        assertThat(r.moeLayers()).isEqualTo(2);
        assertThat(r.tokensInStep()).isZero();
        token(r, new int[] {0, 2}, new int[] {1, 2});
        token(r, new int[] {2, 3}, new int[] {1, 0});
        token(r, new int[] {2, 0}, new int[] {3, 1});
        assertThat(r.tokensInStep()).isEqualTo(3);
        r.endStep();
        assertThat(r.tokensInStep()).isZero();
        token(r, new int[] {3, 1}, new int[] {2, 3});
        assertThat(r.tokensInStep()).isEqualTo(1);
        r.endStep();
        r.endStep(); // empty: not a step
        List<long[][]> steps = r.steps();
        assertThat(steps).hasSize(2);
        assertThat(steps.get(0)).isDeepEqualTo(new long[][] {{2, 0, 3, 1}, {1, 3, 1, 1}});
        assertThat(steps.get(1)).isDeepEqualTo(new long[][] {{0, 1, 0, 1}, {0, 0, 1, 1}});
    }

    @Test
    void aTokenCountsWhenTheFirstMoeLayerRoutesIt() {
        // A token is counted once, at the first MoE layer (layer 1), not at every MoE layer it passes.
        ExpertLoadRecorder r = new ExpertLoadRecorder(config());
        r.routed(1, new int[] {0, 1});
        assertThat(r.tokensInStep()).isEqualTo(1);
        r.routed(3, new int[] {2, 3});
        assertThat(r.tokensInStep()).isEqualTo(1);
        r.routed(1, new int[] {1, 2});
        assertThat(r.tokensInStep()).isEqualTo(2);
        r.endStep();
        assertThat(r.steps()).hasSize(1);
        assertThat(r.steps().get(0)).isDeepEqualTo(new long[][] {{1, 2, 1, 0}, {0, 0, 1, 1}});
    }

    @Test
    void handedOnStepsAreTheSameCountsInArraysOfTheirOwn() {
        List<long[][]> handed = new ArrayList<>();
        ExpertLoadRecorder r = new ExpertLoadRecorder(config(), handed::add);
        token(r, new int[] {0, 2}, new int[] {1, 2});
        r.endStep();
        token(r, new int[] {0, 1}, new int[] {1, 3});
        token(r, new int[] {0, 3}, new int[] {1, 2});
        r.endStep();
        r.endStep();
        assertThat(r.steps()).isEmpty();
        assertThat(handed).hasSize(2);
        assertThat(handed.get(0)).isDeepEqualTo(new long[][] {{1, 0, 1, 0}, {0, 1, 1, 0}});
        assertThat(handed.get(1)).isDeepEqualTo(new long[][] {{2, 1, 0, 1}, {0, 2, 1, 1}});
    }

    @Test
    void sharesAreEachCountOverTheTotal() {
        assertThat(ExpertLoadRecorder.shares(new long[] {1, 3, 0, 4})).containsExactly(0.125, 0.375, 0, 0.5);
        assertThat(ExpertLoadRecorder.shares(new long[] {7})).containsExactly(1.0);
        assertThat(ExpertLoadRecorder.shares(new long[] {0, 0, 0})).containsExactly(0, 0, 0);
        assertThat(ExpertLoadRecorder.shares(new long[0])).isEmpty();
    }
}
