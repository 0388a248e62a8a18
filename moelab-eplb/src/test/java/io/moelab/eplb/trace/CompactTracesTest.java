package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link CompactTraces} at its bounds: steps past the 2^16 values its reader starts with, counts, 2^53. */
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

    /** A count of 2^31 - 1 steps is one the header may state (the file then ends early); 2^31 is not. */
    @Test
    void aStepCountIsReadUpToTheLargestInt() {
        byte[] magic = CompactTraces.MAGIC;
        byte[] most = {1, 1, 1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 0};
        byte[] past = {1, 1, 1, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08, 0};
        assertThatThrownBy(() -> CompactTraces.read(stream(magic, most), "t", step -> { }))
                .isInstanceOf(InvalidInputException.class).hasMessage("t: truncated compact trace");
        assertThatThrownBy(() -> CompactTraces.read(stream(magic, past), "t", step -> { }))
                .isInstanceOf(InvalidInputException.class).hasMessage("t: invalid steps count 2147483648");
    }

    /**
     * A varint holds 64 bits: its tenth byte carries bit 63 and nothing more. One whose tenth byte sets bit 64 or
     * above (0x02) states a number no long holds, so the file is corrupt; it was read as if that bit were absent.
     */
    @Test
    void aVarintPastSixtyFourBitsIsCorrupt() throws IOException {
        byte[] magic = CompactTraces.MAGIC;
        // 1 layer, 1 expert, 1 step, integers; then the one load's zig-zag delta in ten bytes.
        byte[] header = {1, 1, 1, 1, 0};
        byte[] past = new byte[10];
        java.util.Arrays.fill(past, 0, 9, (byte) 0x80);
        past[9] = 0x02;
        assertThatThrownBy(() -> CompactTraces.read(stream(magic, concat(header, past)), "t", step -> { }))
                .isInstanceOf(InvalidInputException.class).hasMessage("t: corrupt varint");
        // The largest ten-byte varint a long holds, 2^64 - 2 zig-zagged: a delta of 2^63 - 1, read whole.
        byte[] most = new byte[10];
        java.util.Arrays.fill(most, 0, 9, (byte) 0xff);
        most[0] = (byte) 0xfe;
        most[9] = 0x01;
        List<LoadMatrix> read = new ArrayList<>();
        CompactTraces.read(stream(magic, concat(header, most)), "t", read::add);
        assertThat(read.getFirst().load(0, 0)).isEqualTo((double) Long.MAX_VALUE);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return stream(a, b).readAllBytes();
    }

    private static ByteArrayInputStream stream(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return new ByteArrayInputStream(all);
    }

    /** "A whole number below 2^53", as the format says: 2^53 itself is written as a double. */
    @Test
    void integersStopBelowTwoToThe53() throws IOException {
        LoadMatrix below = LoadMatrix.of(new double[][] {{0x1p53 - 1, 3}}, "step");
        LoadMatrix at = LoadMatrix.of(new double[][] {{0x1p53, 3}}, "step");
        assertThat(CompactTraces.isIntegral(ExpertLoadTrace.of(List.of(below)))).isTrue();
        assertThat(CompactTraces.isIntegral(ExpertLoadTrace.of(List.of(below, at)))).isFalse();
        StepWriter writer = CompactTraces.writer(new ByteArrayOutputStream(), 1, 2, 1, true);
        assertThatThrownBy(() -> writer.accept(at)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("load 9.007199254740992E15 of layer 0 expert 0 is not a whole number below 2^53, in a "
                        + "trace written as integers");
    }
}
