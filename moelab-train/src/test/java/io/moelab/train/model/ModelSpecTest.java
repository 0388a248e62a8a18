package io.moelab.train.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ModelSpecTest {
    /**
     * A constraint between two settings says the problem of each, so that a command line can name the one the user
     * gave (top-k is 1 in both presets, so only a ModelSpec of its own reaches the top-k/experts check with a
     * top-k not given).
     */
    @Test
    void aConstraintBetweenTwoSettingsSaysItOfBoth() {
        String[][] cases = {
            // d-model, heads, kv-heads, experts, top-k; setting, problem, other, other's problem
            {"64", "3", "1", "8", "1", "d-model", "64 is not a multiple of heads 3", "heads",
                "3 does not divide d-model 64"},
            {"64", "4", "3", "8", "1", "heads", "4 is not a multiple of kv-heads 3", "kv-heads",
                "3 does not divide heads 4"},
            {"7", "1", "1", "8", "1", "d-model", "7 with heads 1 leaves a head dimension of 7, which must be even for "
                + "RoPE", "heads", "1 head leaves a head dimension of 7, which must be even for RoPE"},
            {"64", "4", "2", "1", "2", "top-k", "2 exceeds the 1 expert", "experts", "1 is fewer than top-k 2"}};
        for (String[] c : cases) {
            SettingException e = catchThrowableOfType(SettingException.class, () -> new ModelSpec(258, 1,
                    Integer.parseInt(c[0]), Integer.parseInt(c[1]), Integer.parseInt(c[2]), Integer.parseInt(c[3]),
                    Integer.parseInt(c[4]), 8, false, 10000, 1e-6));
            assertThat(e).as(c[5]).isNotNull();
            assertThat(e.getMessage()).isEqualTo(c[5] + " " + c[6]);
            assertThat(new String[] {e.setting(), e.problem(), e.other(), e.otherProblem()})
                    .containsExactly(c[5], c[6], c[7], c[8]);
        }
        SettingException single = catchThrowableOfType(SettingException.class,
                () -> new ModelSpec(258, 0, 64, 4, 2, 8, 1, 8, false, 10000, 1e-6));
        assertThat(new String[] {single.setting(), single.problem(), single.other(), single.otherProblem()})
                .containsExactly("layers", "must be positive, got 0", null, null);
    }

    /** A value out of range is carried as a number beside its requirement, so no caller reads it back from text. */
    @Test
    void aValueOutOfRangeIsCarriedAsANumber() {
        SettingException layers = catchThrowableOfType(SettingException.class,
                () -> new ModelSpec(258, 0, 64, 4, 2, 8, 1, 8, false, 10000, 1e-6));
        assertThat(layers.requirement()).isEqualTo("must be positive");
        assertThat(layers.got()).isEqualTo(0);
        SettingException theta = catchThrowableOfType(SettingException.class,
                () -> new ModelSpec(258, 1, 64, 4, 2, 8, 1, 8, false, -2.5, 1e-6));
        assertThat(theta.requirement()).isEqualTo("must be a finite number > 0");
        assertThat(theta.got()).isEqualTo(-2.5);
        assertThat(theta.getMessage()).isEqualTo("rope-theta must be a finite number > 0, got -2.5");
        SettingException heads = catchThrowableOfType(SettingException.class,
                () -> new ModelSpec(258, 1, 64, 3, 1, 8, 1, 8, false, 10000, 1e-6));
        assertThat(heads.requirement()).isNull();
        assertThat(heads.got()).isNull();
    }
}
