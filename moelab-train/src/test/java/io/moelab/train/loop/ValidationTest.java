package io.moelab.train.loop;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValidationTest {
    /**
     * A batch of 0 windows was taken, and run() then looped for ever on its first domain (its chunks advance by the
     * batch); a window of another length than seq + 1 failed the forward pass with an index out of bounds.
     */
    @Test
    void refusesWhatItCannotEvaluate() {
        Map<String, int[][]> windows = Map.of("a", new int[][] {{256, 1, 2, 3}});
        assertThatThrownBy(() -> new Validation(windows, 3, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("batch must be at least 1, got 0");
        assertThatThrownBy(() -> new Validation(windows, 0, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("seq must be at least 1, got 0");
        assertThatThrownBy(() -> new Validation(windows, 4, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window 1 of domain a has 4 tokens, not seq + 1 = 5");
        Map<String, int[][]> withNull = new HashMap<>();
        withNull.put("a", null);
        assertThatThrownBy(() -> new Validation(withNull, 3, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain a has no windows (null)");
    }
}
