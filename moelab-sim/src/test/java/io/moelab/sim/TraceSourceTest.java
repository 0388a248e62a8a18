package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TraceSource} at its edges: readings of no steps, a last step of another shape, load only late. */
class TraceSourceTest {

    private static LoadMatrix step(double[]... rows) {
        return LoadMatrix.of(rows, "step");
    }

    @Test
    void aReadingOfNoStepsDoesNotReadAndLimitsOutsideTheTraceAreRefused() {
        List<LoadMatrix> steps = List.of(step(new double[] {1, 2, 3}, new double[] {0, 1, 0}),
                step(new double[] {4, 0, 6}, new double[] {1, 1, 1}));
        int[] readings = {0};
        TraceSource source = TraceSource.of(sink -> {
            readings[0]++;
            steps.forEach(sink::accept);
        });
        assertThat(readings[0]).isEqualTo(1);
        List<LoadMatrix> read = new ArrayList<>();
        source.read(0, read::add);
        assertThat(read).isEmpty();
        assertThat(readings[0]).as("a reading of no steps opens nothing").isEqualTo(1);
        source.read(2, read::add);
        assertThat(read).isEqualTo(steps);
        assertThatThrownBy(() -> source.read(-1, read::add)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit -1 outside 0..2");
        assertThatThrownBy(() -> source.read(3, read::add)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit 3 outside 0..2");
        assertThat(source).hasToString("TraceSource[2 steps, 2 layers x 3 experts]");
    }

    /** Only the last of two steps has another shape: the shape is named, not a trace without steps. */
    @Test
    void aLastStepOfAnotherShapeIsNamed() {
        LoadMatrix first = step(new double[] {1, 2, 3}, new double[] {4, 5, 6});
        LoadMatrix other = step(new double[] {1, 2}, new double[] {4, 5});
        assertThatThrownBy(() -> TraceSource.of(sink -> List.of(first, other).forEach(sink::accept)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("step 1: is 2 layers x 2 experts, expected 2 layers x 3 experts");
        assertThatThrownBy(() -> TraceSource.of(sink -> List.of(first, other, other).forEach(sink::accept)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("step 1: is 2 layers x 2 experts, expected 2 layers x 3 experts");
        assertThatThrownBy(() -> TraceSource.of(sink -> { })).isInstanceOf(InvalidInputException.class)
                .hasMessage("trace: has no steps");
    }

    @Test
    void theFirstStepTheTotalAndWhetherAnyStepRoutesATokenAreKept() {
        LoadMatrix zero = step(new double[] {0, 0}, new double[] {0, 0});
        LoadMatrix late = step(new double[] {0, 0}, new double[] {0, 0.5});
        TraceSource source = TraceSource.of(sink -> List.of(zero, zero, late).forEach(sink::accept));
        assertThat(source.steps()).isEqualTo(3);
        assertThat(source.layers()).isEqualTo(2);
        assertThat(source.experts()).isEqualTo(2);
        assertThat(source.first()).isEqualTo(zero);
        assertThat(source.total()).isEqualTo(step(new double[] {0, 0}, new double[] {0, 0.5}));
        assertThat(source.hasLoad()).as("load in the last step's last layer only").isTrue();
        assertThat(TraceSource.of(sink -> List.of(zero, zero).forEach(sink::accept)).hasLoad()).isFalse();
        TraceSource summed = TraceSource.of(sink -> List.of(late, step(new double[] {1, 2}, new double[] {3, 4}))
                .forEach(sink::accept));
        assertThat(summed.total()).isEqualTo(step(new double[] {1, 2}, new double[] {3, 4.5}));
    }
}
