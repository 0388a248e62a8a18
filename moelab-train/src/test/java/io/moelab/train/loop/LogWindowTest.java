package io.moelab.train.loop;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogWindowTest {
    /** A window sums its steps' values and counts them; each field is checked by name. */
    @Test
    void sumsStepsAndRefusesDamagedFieldsByName() {
        LogWindow w = LogWindow.EMPTY.plus(1.5, 0.25, 0.125, 0.5).plus(2.0, 0.5, 0.25, 0.0);
        assertThat(w).isEqualTo(new LogWindow(2, 3.5, 0.75, 0.375, 0.5));
        assertThat(LogWindow.EMPTY).isEqualTo(new LogWindow(0, 0, 0, 0, 0));
        assertThatThrownBy(() -> new LogWindow(-1, 0, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window steps must be at least 0, got -1");
        assertThatThrownBy(() -> new LogWindow(1, Double.NaN, 0, 0, 0)).hasMessage("window loss must be a finite "
                + "number, got NaN");
        assertThatThrownBy(() -> new LogWindow(1, 0, Double.POSITIVE_INFINITY, 0, 0)).hasMessage("window aux must "
                + "be a finite number, got Infinity");
        assertThatThrownBy(() -> new LogWindow(1, 0, 0, Double.NEGATIVE_INFINITY, 0)).hasMessage("window z must be "
                + "a finite number, got -Infinity");
        assertThatThrownBy(() -> new LogWindow(1, 0, 0, 0, Double.NaN)).hasMessage("window dropped must be a "
                + "finite number, got NaN");
    }
}
