package io.moelab.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What a program embedding the library relies on: shapes, indices, nulls and ownership of arrays. */
class LibraryContractTest {

    @Test
    void aMatrixTooLargeForOneArrayIsRefusedNotWrappedAround() {
        // 65,536 x 65,536 = 2^32 loads, which an int product wraps to 0: ofFlat took an empty array for it and
        // built a matrix with no values, of returned an index error from the copy.
        assertThatThrownBy(() -> LoadMatrix.ofFlat(65536, 65536, new double[0], "w"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("w: 65536 layers x 65536 experts is more loads than one matrix holds (at most "
                        + Integer.MAX_VALUE + ")");
        double[][] rows = new double[65536][];
        Arrays.fill(rows, new double[65536]);
        assertThatThrownBy(() -> LoadMatrix.of(rows, "w")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("w: 65536 layers x 65536 experts is more loads");
        // A product that fits but differs from the array's length is a caller's mistake, as before.
        assertThatThrownBy(() -> LoadMatrix.ofFlat(2, 3, new double[5], "w"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("expected 6 values, got 5");
    }

    @Test
    void aLoadOutsideTheMatrixIsAnIndexErrorNotTheNextLayersLoad() {
        LoadMatrix m = LoadMatrix.of(new double[][] {{5, 1, 1, 1}, {7, 2, 3, 4}}, "w");
        assertThat(m.load(1, 3)).isEqualTo(4);
        // Row-major storage put (0, 4) at (1, 0) and (1, -1) at (0, 3): both read a load silently.
        assertThatThrownBy(() -> m.load(0, 4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.load(1, -1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.load(2, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.layerTotal(2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.copyLayer(-1, new double[4])).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void placementFactoriesNameANullArgument() {
        Topology topology = new Topology(8, 1, 1, 4);
        int[][] slots = {{0, 1, 2, 3, 0, 1, 2, 3}};
        assertThatThrownBy(() -> Placement.of(null, 4, slots)).isInstanceOf(NullPointerException.class)
                .hasMessage("topology");
        assertThatThrownBy(() -> Placement.of(topology, 4, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("phy2log");
        assertThatThrownBy(() -> Placement.ofOwned(null, 4, slots)).hasMessage("topology");
        assertThatThrownBy(() -> Placement.ofOwned(topology, 4, null)).hasMessage("phy2log");
        assertThatThrownBy(() -> Placement.withRanks(null, 4, slots, slots)).hasMessage("topology");
        assertThatThrownBy(() -> Placement.withRanks(topology, 4, null, slots)).hasMessage("phy2log");
        assertThatThrownBy(() -> Placement.withRanks(topology, 4, slots, null)).hasMessage("ranks");
        assertThatThrownBy(() -> LoadMatrix.ofFlat(1, 1, null, "w")).isInstanceOf(NullPointerException.class)
                .hasMessage("rowMajor");
    }
}
