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
}
