package io.moelab.sim.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** The public contract of ModelSpec and ClusterSpec as library types. */
class SpecTypesTest {

    @Test
    void presetNamesCannotBeChangedThroughTheSetReturned() {
        Set<String> names = ModelSpec.presets();
        assertThat(names).containsExactly("deepseek-v3", "deepseek-v2-lite", "qwen3-30b-a3b", "qwen3-235b-a22b",
                "mixtral-8x7b");
        assertThatThrownBy(() -> names.remove("mixtral-8x7b")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(names::clear).isInstanceOf(UnsupportedOperationException.class);
        // The preset is still there for everyone else.
        assertThat(ModelSpec.preset("mixtral-8x7b").experts()).isEqualTo(8);
        assertThat(ModelSpec.presets()).hasSize(5);
    }

    @Test
    void aSpecWithoutANameIsRefusedWhenMade() {
        // A null name was kept and reports read "null (2 MoE layers x ...)".
        assertThatThrownBy(() -> new ModelSpec(null, 2, 32, 4, 512, 256, 1, 2, 0, 0, 0))
                .isInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> new ClusterSpec(null, 1, 8, 1, 1.0, 1, 1, 1, 2, 10, 80))
                .isInstanceOf(NullPointerException.class).hasMessage("name");
        assertThat(new ClusterSpec("c", 1, 8, 1, 1.0, 1, 1, 1, 2, 10, 80).gpus()).isEqualTo(8);
    }
}
