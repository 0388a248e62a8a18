package io.moelab.train.loop;

import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.SettingException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
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

    /** The tiny preset with the number field {@code field} (a command-line option's name) set to {@code v}. */
    private static TrainConfig with(String field, double v) {
        TrainConfig t = TrainConfig.preset("tiny");
        int i = (int) v;
        return new TrainConfig("tiny", t.model(), field.equals("seq") ? i : t.seq(),
                field.equals("batch") ? i : t.batch(), field.equals("steps") ? i : t.steps(),
                field.equals("lr") ? v : t.lr(), field.equals("min-lr-ratio") ? v : t.minLrRatio(),
                field.equals("warmup") ? i : t.warmup(), field.equals("weight-decay") ? v : t.weightDecay(),
                field.equals("beta1") ? v : t.beta1(), field.equals("beta2") ? v : t.beta2(),
                field.equals("clip") ? v : t.clip(), field.equals("aux-weight") ? v : t.auxWeight(),
                field.equals("z-weight") ? v : t.zWeight(), field.equals("capacity-factor") ? v : t.capacityFactor(),
                t.seed(), field.equals("log-every") ? i : t.logEvery(), field.equals("eval-every") ? i : t.evalEvery(),
                field.equals("eval-windows") ? i : t.evalWindows(), t.corpus());
    }

    /**
     * Each setting at the edge of its range: the least or greatest value taken, and the next one refused by the
     * setting's name. The integer settings' least values; the rates' open and closed ends; the float settings at
     * Float.MAX_VALUE and just past it (an infinite float at the first step).
     */
    @Test
    void eachSettingIsTakenAtItsEdgeAndRefusedPastIt() {
        Object[][] cases = {
                {"seq", 2.0, 1.0, "seq must be at least 2, got 1"},
                {"batch", 1.0, 0.0, "batch must be at least 1, got 0"},
                {"steps", 1.0, 0.0, "steps must be at least 1, got 0"},
                {"log-every", 1.0, 0.0, "log-every must be at least 1, got 0"},
                {"eval-every", 1.0, 0.0, "eval-every must be at least 1, got 0"},
                {"eval-windows", 1.0, 0.0, "eval-windows must be at least 1, got 0"},
                {"warmup", 0.0, -1.0, "warmup must be at least 0, got -1"},
                {"lr", Double.MIN_VALUE, 0.0, "lr must be a finite number > 0, got 0.0"},
                {"lr", (double) Float.MAX_VALUE, 1e39,
                        "lr must be at most 3.4028235E38 (it is used as a float), got 1.0E39"},
                {"lr", 1.0, Double.POSITIVE_INFINITY, "lr must be a finite number > 0, got Infinity"},
                {"min-lr-ratio", 0.0, -0.01, "min-lr-ratio must lie in [0, 1], got -0.01"},
                {"min-lr-ratio", 1.0, 1.01, "min-lr-ratio must lie in [0, 1], got 1.01"},
                {"min-lr-ratio", 0.5, Double.NaN, "min-lr-ratio must lie in [0, 1], got NaN"},
                {"weight-decay", 0.0, -0.1, "weight-decay must be a finite number >= 0, got -0.1"},
                {"weight-decay", (double) Float.MAX_VALUE, 1e39,
                        "weight-decay must be at most 3.4028235E38 (it is used as a float), got 1.0E39"},
                {"clip", 0.0, -1.0, "clip must be a finite number >= 0, got -1.0"},
                {"clip", 1e300, Double.POSITIVE_INFINITY, "clip must be a finite number >= 0, got Infinity"},
                {"aux-weight", 0.0, Double.NaN, "aux-weight must be a finite number >= 0, got NaN"},
                {"aux-weight", (double) Float.MAX_VALUE, 1e39,
                        "aux-weight must be at most 3.4028235E38 (it is used as a float), got 1.0E39"},
                {"z-weight", 0.0, -1e-9, "z-weight must be a finite number >= 0, got -1.0E-9"},
                {"z-weight", (double) Float.MAX_VALUE, 1e39,
                        "z-weight must be at most 3.4028235E38 (it is used as a float), got 1.0E39"},
                {"capacity-factor", 0.0, -0.5, "capacity-factor must be a finite number >= 0, got -0.5"},
                {"capacity-factor", 1e300, Double.NaN, "capacity-factor must be a finite number >= 0, got NaN"},
                {"beta1", 0.0, -0.1, "beta1 must lie in [0, 1), got -0.1"},
                {"beta1", Math.nextDown(1.0), 1.0, "beta1 must lie in [0, 1), got 1.0"},
                {"beta2", 0.0, -0.1, "beta2 must lie in [0, 1), got -0.1"},
                {"beta2", Math.nextDown(1.0), 1.0, "beta2 must lie in [0, 1), got 1.0"},
        };
        for (Object[] c : cases) {
            String field = (String) c[0];
            double taken = (Double) c[1];
            double refused = (Double) c[2];
            assertThat(with(field, taken)).as("%s %s", field, taken).isNotNull();
            assertThatThrownBy(() -> with(field, refused)).as("%s %s", field, refused)
                    .isInstanceOf(SettingException.class).hasMessage((String) c[3])
                    .satisfies(e -> assertThat(((SettingException) e).setting()).isEqualTo(field));
        }
        // A step of exactly the largest array's tokens is taken, one more refused.
        TrainConfig t = TrainConfig.preset("tiny");
        assertThat(new TrainConfig("tiny", t.model(), ModelSpec.MAX_TENSOR - 1, 1, 1, t.lr(), t.minLrRatio(), 0,
                t.weightDecay(), t.beta1(), t.beta2(), t.clip(), t.auxWeight(), t.zWeight(), t.capacityFactor(),
                t.seed(), 1, 1, 1, t.corpus()).seq()).isEqualTo(ModelSpec.MAX_TENSOR - 1);
        assertThatThrownBy(() -> new TrainConfig("tiny", t.model(), ModelSpec.MAX_TENSOR, 1, 1, t.lr(),
                t.minLrRatio(), 0, t.weightDecay(), t.beta1(), t.beta2(), t.clip(), t.auxWeight(), t.zWeight(),
                t.capacityFactor(), t.seed(), 1, 1, 1, t.corpus())).hasMessageStartingWith("batch x (seq + 1) = 1 x ");
        assertThatThrownBy(() -> t.withCorpus(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no corpus");
    }

    /**
     * The copies change what they say and nothing else: reporting values given as null keep the run's, and the
     * presets are what their Javadoc says.
     */
    @Test
    void copiesChangeOnlyTheirFieldsAndThePresetsAreAsDocumented() {
        TrainConfig t = TrainConfig.preset("tiny");
        assertThat(t.withReporting(null, null, null)).isEqualTo(t);
        TrainConfig r = t.withReporting(3, 7, 9);
        assertThat(List.of(r.logEvery(), r.evalEvery(), r.evalWindows())).containsExactly(3, 7, 9);
        assertThat(r.withReporting(t.logEvery(), t.evalEvery(), t.evalWindows())).isEqualTo(t);
        assertThat(t.withReporting(null, 7, null)).isEqualTo(t.withReporting(t.logEvery(), 7, t.evalWindows()));
        assertThat(t.withEvalWindows(11).evalWindows()).isEqualTo(11);
        assertThat(t.withEvalWindows(11).withEvalWindows(t.evalWindows())).isEqualTo(t);
        assertThat(t.withSteps(12).steps()).isEqualTo(12);
        assertThat(t.withSteps(12).withSteps(t.steps())).isEqualTo(t);
        assertThat(t.withCorpus(List.of("/a", "/b")).corpus()).containsExactly("/a", "/b");
        assertThat(t.withCorpus(List.of("/a")).withCorpus(TrainConfig.DEFAULT_CORPUS)).isEqualTo(t);
        // tiny: 2 layers, d 64, 8 experts, top-1; small: 4 layers, d 256, 16 experts of 512, top-1, capacity 1.25,
        // aux 0.01, z 0.001.
        assertThat(List.of(t.model().layers(), t.model().dModel(), t.model().experts(), t.model().topK()))
                .containsExactly(2, 64, 8, 1);
        TrainConfig s = TrainConfig.preset("small");
        assertThat(List.of(s.model().layers(), s.model().dModel(), s.model().experts(), s.model().expertDim(),
                s.model().topK())).containsExactly(4, 256, 16, 512, 1);
        assertThat(List.of(s.capacityFactor(), s.auxWeight(), s.zWeight())).containsExactly(1.25, 0.01, 0.001);
        assertThat(List.of(t.preset(), s.preset())).containsExactly("tiny", "small");
        assertThat(t.corpus()).isEqualTo(TrainConfig.DEFAULT_CORPUS);
        assertThatThrownBy(() -> TrainConfig.preset("huge")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown preset 'huge' (tiny, small)");
    }
}
