package io.moelab.evolve.edit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EvolveBlocksTest {
    private static final String PROGRAM = """
            import os
            # EVOLVE-BLOCK-START
            def a():
                return 1
            # EVOLVE-BLOCK-END
            x = 1
            // EVOLVE-BLOCK-START
            // EVOLVE-BLOCK-END
            # EVOLVE-BLOCK-START
            b = 2
            # EVOLVE-BLOCK-END
            """;

    @Test
    void findsEveryRegionIncludingEmptyOnes() {
        assertThat(EvolveBlocks.regions(PROGRAM)).containsExactly(new int[] {2, 4}, new int[] {7, 7},
                new int[] {9, 10});
        assertThat(EvolveBlocks.regions("no markers\n")).isEmpty();
    }

    @Test
    void unmatchedOrNestedMarkersThrow() {
        assertThatThrownBy(() -> EvolveBlocks.regions("# EVOLVE-BLOCK-START\nx\n"))
                .isInstanceOf(EditException.class).hasMessageContaining("line 1 has no EVOLVE-BLOCK-END");
        assertThatThrownBy(() -> EvolveBlocks.regions("x\n# EVOLVE-BLOCK-END\n"))
                .isInstanceOf(EditException.class).hasMessageContaining("line 2 has no EVOLVE-BLOCK-START");
        assertThatThrownBy(() -> EvolveBlocks.regions("# EVOLVE-BLOCK-START\n# EVOLVE-BLOCK-START\n"))
                .isInstanceOf(EditException.class).hasMessageContaining("nested");
        assertThatThrownBy(() -> EvolveBlocks.regions("x\n# EVOLVE-BLOCK-START EVOLVE-BLOCK-END\n"))
                .isInstanceOf(EditException.class)
                .hasMessage("line 2 holds both EVOLVE-BLOCK-START and EVOLVE-BLOCK-END");
    }

    @Test
    void spliceKeepsCodeOutsideTheMarkers() {
        String rewrite = """
                import sys
                # EVOLVE-BLOCK-START
                def a():
                    return 42
                # EVOLVE-BLOCK-END
                x = 999
                // EVOLVE-BLOCK-START
                y = 0
                // EVOLVE-BLOCK-END
                # EVOLVE-BLOCK-START
                # EVOLVE-BLOCK-END
                print("extra")
                """;
        assertThat(EvolveBlocks.splice(PROGRAM, rewrite)).isEqualTo("""
                import os
                # EVOLVE-BLOCK-START
                def a():
                    return 42
                # EVOLVE-BLOCK-END
                x = 1
                // EVOLVE-BLOCK-START
                y = 0
                // EVOLVE-BLOCK-END
                # EVOLVE-BLOCK-START
                # EVOLVE-BLOCK-END
                """);
    }

    @Test
    void spliceKeepsCrlfAndReturnsRewriteWithoutMarkers() {
        String original = "a\r\n# EVOLVE-BLOCK-START\r\nb\r\n# EVOLVE-BLOCK-END\r\n";
        assertThat(EvolveBlocks.splice(original, "z\n# EVOLVE-BLOCK-START\nc\nd\n# EVOLVE-BLOCK-END\n"))
                .isEqualTo("a\r\n# EVOLVE-BLOCK-START\r\nc\r\nd\r\n# EVOLVE-BLOCK-END\r\n");
        assertThat(EvolveBlocks.splice("plain\n", "other\n")).isEqualTo("other\n");
    }

    @Test
    void spliceRejectsAMarkerCountMismatch() {
        assertThatThrownBy(() -> EvolveBlocks.splice(PROGRAM, "# EVOLVE-BLOCK-START\nq\n# EVOLVE-BLOCK-END\n"))
                .isInstanceOf(EditException.class)
                .hasMessageContaining("the rewrite has 1").hasMessageContaining("the program has 3");
        assertThatThrownBy(() -> EvolveBlocks.splice(PROGRAM, "def a(): pass\n"))
                .isInstanceOf(EditException.class).hasMessageContaining("the rewrite has 0");
    }

    /** A program without markers takes a rewrite with balanced markers, but not one with a lone or nested marker. */
    @Test
    void spliceIntoAProgramWithoutMarkersRefusesUnbalancedOnes() {
        String paired = "x\n# EVOLVE-BLOCK-START\ny\n# EVOLVE-BLOCK-END\n";
        assertThat(EvolveBlocks.splice("plain\n", paired)).isEqualTo(paired);
        assertThatThrownBy(() -> EvolveBlocks.splice("plain\n", "x\n# EVOLVE-BLOCK-START\ny\n"))
                .isInstanceOf(EditException.class)
                .hasMessageContaining("EVOLVE-BLOCK-START at line 2 has no EVOLVE-BLOCK-END after it");
        assertThatThrownBy(() -> EvolveBlocks.splice("plain\n", "x\n# EVOLVE-BLOCK-END\n"))
                .isInstanceOf(EditException.class)
                .hasMessageContaining("EVOLVE-BLOCK-END at line 2 has no EVOLVE-BLOCK-START before it");
    }
}
