package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Load-time conversions (quantizing, packing) run over the shared team's threads: every row once, the same bytes
 * as one thread makes, and the same failure.
 */
class RowConversionTest {
    /** Large enough that the team splits the rows (well over {@link ProductTeam#MIN_PARALLEL_WEIGHTS}). */
    private static final int ROWS = 2048;
    private static final int COLS = 256;

    private int before;

    @BeforeEach
    void fourThreads() {
        before = ProductTeam.shared().threads();
        ProductTeam.useShared(4);
    }

    @AfterEach
    void restore() {
        ProductTeam.useShared(before);
    }

    @Test
    void convertsEveryRowExactlyOnce() {
        for (int round = 0; round < 20; round++) {
            AtomicIntegerArray seen = new AtomicIntegerArray(ROWS);
            RowConversion.run(ROWS, COLS, (r, scratch) -> {
                assertThat(scratch).hasSize(COLS);
                seen.incrementAndGet(r);
            });
            for (int r = 0; r < ROWS; r++) {
                assertThat(seen.get(r)).as("row %d, round %d", r, round).isEqualTo(1);
            }
        }
    }

    @Test
    void theLowestFailingRowIsReportedWhicheverThreadMetIt() {
        float[] w = TestData.gaussian(new Random(1), ROWS * COLS, 1.0);
        w[1900 * COLS + 7] = Float.NaN;
        w[130 * COLS + 3] = Float.POSITIVE_INFINITY;
        w[1200 * COLS + 5] = Float.NaN;
        WeightMatrix m = WeightMatrix.of(DType.F32, TestData.f32Segment(w), ROWS, COLS);
        for (int round = 0; round < 10; round++) {
            assertThatThrownBy(() -> Q8Matrix.quantize(m)).hasMessage(
                    "cannot quantize non-finite weight Infinity in row 130, column 3");
            assertThatThrownBy(() -> Int4Matrix.quantize(m, 64)).hasMessage(
                    "cannot quantize non-finite weight Infinity in row 130, column 3");
            assertThatThrownBy(() -> Int4BlockMatrix.quantize(m, 32)).hasMessage(
                    "cannot quantize non-finite weight Infinity in row 130, column 3");
        }
    }

    /** Bytes of the results equal those of a one-thread team; into memory confined to the caller too. */
    @Test
    void givesTheBytesOfOneThreadAndWorksIntoConfinedMemory() {
        float[] w = TestData.gaussian(new Random(2), ROWS * COLS, 0.05);
        WeightMatrix m = WeightMatrix.of(DType.F32, TestData.f32Segment(w), ROWS, COLS);
        List<BiFunction<WeightMatrix, Arena, WeightMatrix>> formats = List.of(
                (s, a) -> Q8Matrix.quantize(s, a), (s, a) -> Int4Matrix.quantize(s, 64, a),
                (s, a) -> Int4BlockMatrix.quantize(s, 64, a), (s, a) -> PackedF32Matrix.pack(s, a));
        for (BiFunction<WeightMatrix, Arena, WeightMatrix> format : formats) {
            ProductTeam.useShared(1);
            float[][] alone;
            try (Arena arena = Arena.ofShared()) {
                alone = rows(format.apply(m, arena));
            }
            ProductTeam.useShared(4);
            try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
                assertThat(rows(format.apply(m, shared))).isDeepEqualTo(alone);
                assertThat(rows(format.apply(m, confined))).isDeepEqualTo(alone);
            }
        }
    }

    private static float[][] rows(WeightMatrix m) {
        float[][] rows = new float[m.rows()][m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            m.row(r, rows[r]);
        }
        return rows;
    }
}
