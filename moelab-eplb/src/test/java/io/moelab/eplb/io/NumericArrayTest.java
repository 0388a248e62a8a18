package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.io.StringReader;
import org.junit.jupiter.api.Test;

class NumericArrayTest {
    private static NumericArray read(String json) {
        return NumericArray.read(new JsonReader(new StringReader(json), "t"), "w");
    }

    @Test
    void readsShapeAndRowMajorValues() {
        NumericArray a = read("[[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]");
        assertThat(a.shape()).containsExactly(2, 3, 2);
        assertThat(a.values()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        assertThat(a.block(1)).containsExactly(7, 8, 9, 10, 11, 12);
        assertThat(read("[1.5]").shape()).containsExactly(1);
    }

    @Test
    void errorsNameThePath() {
        assertThatThrownBy(() -> read("[[1, 2], [3]]")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("w[1]: has 1 elements where earlier arrays at this depth have 2");
        assertThatThrownBy(() -> read("[[1, 2], [3, [4]]]")).hasMessageStartingWith("w[1][1]: expected a number but found an array");
        assertThatThrownBy(() -> read("[[1, 2], 3]")).hasMessageStartingWith("w[1]: expected an array but found a number");
        assertThatThrownBy(() -> read("[[1, null]]")).hasMessageStartingWith("w[0][1]: expected a number but found null");
        assertThatThrownBy(() -> read("[]")).hasMessageStartingWith("w: is an empty array");
        assertThatThrownBy(() -> read("[[]]")).hasMessageStartingWith("w[0]: is an empty array");
        assertThatThrownBy(() -> read("{}")).hasMessageStartingWith("w: expected an array but found an object");
    }

    @Test
    void toLoadMatrixValidatesLoads() {
        assertThat(read("[[1, 2], [3, 4]]").toLoadMatrix("w").load(1, 0)).isEqualTo(3);
        assertThatThrownBy(() -> read("[1, 2]").toLoadMatrix("w")).hasMessageStartingWith("w: expected [layers][experts]");
        assertThatThrownBy(() -> read("[[1, -2]]").toLoadMatrix("w")).hasMessage("w[0][1]: load is negative (-2.0)");
    }
}
