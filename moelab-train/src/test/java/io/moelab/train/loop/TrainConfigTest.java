package io.moelab.train.loop;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrainConfigTest {
    /** The tiny preset with another window length and batch. */
    private static TrainConfig tiny(int seq, int batch) {
        TrainConfig t = TrainConfig.preset("tiny");
        return new TrainConfig("tiny", t.model(), seq, batch, t.steps(), t.lr(), t.minLrRatio(), t.warmup(),
                t.weightDecay(), t.beta1(), t.beta2(), t.clip(), t.auxWeight(), t.zWeight(), t.capacityFactor(),
                t.seed(), t.logEvery(), t.evalEvery(), t.evalWindows(), t.corpus());
    }

    /**
     * A window of --seq 2147483647 is 2^31 tokens: seq + 1 wrapped to a negative int, so the check passed, and so
     * did the corpus's (a domain "shorter than a negative window"); the run failed at its first batch with
     * "train: bound must be positive" from java.util.Random.
     */
    @Test
    void aWindowOfMoreThanOneArrayIsRefusedWithoutOverflow() {
        assertThatThrownBy(() -> tiny(Integer.MAX_VALUE, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("batch x (seq + 1) = 1 x 2147483648 = 2147483648 tokens a step is more than one array "
                        + "holds (at most 2147483639)");
        assertThatThrownBy(() -> tiny(Integer.MAX_VALUE, 16))
                .hasMessageStartingWith("batch x (seq + 1) = 16 x 2147483648 = 34359738368 tokens");
    }

    /**
     * A null part was taken: a null model failed the run (or the command's resume check) with a
     * NullPointerException, a null preset trained and reported "trained 4 steps of null", a null corpus failed with
     * List.copyOf's NullPointerException ("coll" is null). Each is refused by name.
     */
    @Test
    void nullPartsAreRefusedByName() {
        TrainConfig t = TrainConfig.preset("tiny");
        assertThatThrownBy(() -> new TrainConfig(null, t.model(), t.seq(), t.batch(), t.steps(), t.lr(),
                t.minLrRatio(), t.warmup(), t.weightDecay(), t.beta1(), t.beta2(), t.clip(), t.auxWeight(),
                t.zWeight(), t.capacityFactor(), t.seed(), t.logEvery(), t.evalEvery(), t.evalWindows(), t.corpus()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no preset");
        assertThatThrownBy(() -> new TrainConfig("tiny", null, t.seq(), t.batch(), t.steps(), t.lr(),
                t.minLrRatio(), t.warmup(), t.weightDecay(), t.beta1(), t.beta2(), t.clip(), t.auxWeight(),
                t.zWeight(), t.capacityFactor(), t.seed(), t.logEvery(), t.evalEvery(), t.evalWindows(), t.corpus()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no model");
        assertThatThrownBy(() -> t.withCorpus(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no corpus");
        List<String> withNull = Arrays.asList("/data/a.txt", null);
        assertThatThrownBy(() -> t.withCorpus(withNull))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("corpus path 2 of 2 is null");
    }
}
