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

    @Test
    void countsOfZeroAreRefusedForEveryCountField() {
        assertThatThrownBy(() -> new ModelSpec("m", 0, 32, 4, 512, 256, 1, 2, 0, 0, 0))
                .hasMessage("moe_layers: must be at least 1, got 0");
        assertThatThrownBy(() -> new ModelSpec("m", 2, 32, 4, 512, 256, 1, 0, 0, 0, 0))
                .hasMessage("bytes_per_param: must be at least 1, got 0");
        assertThatThrownBy(() -> new ClusterSpec("c", 0, 8, 1, 1.0, 1, 1, 1, 2, 10, 80))
                .hasMessage("nodes: must be at least 1, got 0");
        assertThatThrownBy(() -> new ClusterSpec("c", 1, 0, 1, 1.0, 1, 1, 1, 2, 10, 80))
                .hasMessage("gpus_per_node: must be at least 1, got 0");
        // Zero shared experts and zero dense FLOPs are a model without them.
        assertThat(new ModelSpec("m", 1, 1, 1, 1, 1, 1, 1, 0, 0, 0).uniformFlopsPerToken()).isZero();
    }

    @Test
    void clusterPresetsReachAPlacementsSlotsAndNoFurther() {
        assertThat(ClusterSpec.preset("256x256-h100").gpus()).isEqualTo(65_536);
        assertThat(ClusterSpec.preset("1x65536-h800").gpus()).isEqualTo(65_536);
        assertThatThrownBy(() -> ClusterSpec.preset("257x256-h100"))
                .hasMessage("cluster: '257x256-h100' has more GPUs than a placement has slots (at most 65536)");
        assertThatThrownBy(() -> ClusterSpec.preset("300x300-h100"))
                .hasMessage("cluster: '300x300-h100' has more GPUs than a placement has slots (at most 65536)");
        assertThatThrownBy(() -> ClusterSpec.preset("0x8-h100"))
                .hasMessage("cluster: '0x8-h100' needs at least one node of one GPU");
        assertThatThrownBy(() -> ClusterSpec.preset("8x0-H800"))
                .hasMessage("cluster: '8x0-H800' needs at least one node of one GPU");
    }

    /** The rates the step model divides by, worked by hand from the units in the fields' names. */
    @Test
    void ratesAreTheFieldsInBaseUnits() {
        ClusterSpec h100 = ClusterSpec.preset("4x8-H100");
        assertThat(h100.name()).isEqualTo("4x8-h100");
        assertThat(h100.flopsPerSecond()).isEqualTo(494.5e12); // 989 TFLOP/s at 50%
        assertThat(h100.hbmBytesPerSecond()).isEqualTo(3.35e12);
        assertThat(h100.nvlinkBytesPerSecond()).isEqualTo(450e9);
        assertThat(h100.networkBytesPerSecond()).isEqualTo(50e9);
        assertThat(ClusterSpec.preset("2x8-h800").nvlinkBytesPerSecond()).isEqualTo(200e9);
        ClusterSpec quarter = new ClusterSpec("c", 1, 8, 400, 0.25, 1, 1, 1, 2, 10, 80);
        assertThat(quarter.flopsPerSecond()).isEqualTo(100e12);
    }

    /** A preset's dense FLOPs are the four H x H attention projections, two FLOPs per multiply-add. */
    @Test
    void modelsFromSizesDefaultToTheAttentionProjections() {
        assertThat(ModelSpec.of("m", 2, 16, 2, 1000, 10, 1, 0, 0).denseFlopsPerToken()).isEqualTo(8e6);
        ModelSpec v3 = ModelSpec.preset("DeepSeek-V3");
        assertThat(v3.denseFlopsPerToken()).isEqualTo(411_041_792.0); // 8 x 7168^2
        // Plus the shared expert's 6 x 7168 x 2048.
        assertThat(v3.uniformFlopsPerToken()).isEqualTo(411_041_792.0 + 88_080_384.0);
        assertThat(v3.expertFlopsPerToken()).isEqualTo(88_080_384.0);
        assertThat(ModelSpec.preset("mixtral-8x7b").denseFlopsPerToken()).isEqualTo(8.0 * 4096 * 4096);
        assertThat(v3.toString()).isEqualTo("deepseek-v3 (58 MoE layers x 256 experts, top-8, hidden 7168, "
                + "expert FFN 2048)");
    }
}
