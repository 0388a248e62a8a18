package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link CompactTraces} on steps past the 2^16 values its reader starts with. */
class CompactTracesTest {

    /** A load that changes from step to step, up and down, by more than a one-byte varint holds. */
    private static double load(int step, int cell) {
        return (cell * 7919L + step * 104729L) % 100_003;
    }

    private static LoadMatrix step(int step, int layers, int experts) {
        double[] values = new double[layers * experts];
        for (int c = 0; c < values.length; c++) {
            values[c] = load(step, c);
        }
        return LoadMatrix.ofFlat(layers, experts, values, "step");
    }

    /**
     * Steps of 2 x 40,000 loads (the reader's arrays grow once, to the cells' count) and of 3 x 65,536 (twice, the
     * second time to the count again, not to twice the size), in both encodings: every load read back by the
     * formula that made it.
     */
    @Test
    void stepsLargerThanTheFirstAllocationAreReadWhole() throws IOException {
        for (int[] shape : new int[][] {{2, 40_000}, {3, 65_536}}) {
            int layers = shape[0];
            int experts = shape[1];
            for (boolean integral : new boolean[] {true, false}) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                StepWriter writer = CompactTraces.writer(bytes, layers, experts, 3, integral);
                for (int s = 0; s < 3; s++) {
                    writer.accept(step(s, layers, experts));
                }
                writer.finish();
                List<LoadMatrix> read = new ArrayList<>();
                int steps = CompactTraces.read(new ByteArrayInputStream(bytes.toByteArray()), "t", read::add);
                assertThat(steps).isEqualTo(3);
                assertThat(read).hasSize(3);
                for (int s = 0; s < 3; s++) {
                    LoadMatrix m = read.get(s);
                    assertThat(m.layers()).isEqualTo(layers);
                    assertThat(m.experts()).isEqualTo(experts);
                    for (int l = 0; l < layers; l++) {
                        for (int e = 0; e < experts; e++) {
                            if (m.load(l, e) != load(s, l * experts + e)) {
                                assertThat(m.load(l, e)).as("%s %d x %d step %d layer %d expert %d",
                                        integral ? "integers" : "doubles", layers, experts, s, l, e)
                                        .isEqualTo(load(s, l * experts + e));
                            }
                        }
                    }
                }
            }
        }
    }
}
