package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.F32_LE;
import static io.moelab.runtime.tensor.Kernels.L;
import static io.moelab.runtime.tensor.Kernels.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/**
 * F32 weights copied at load time into a layout that a matrix-vector product reads in one sequential stream:
 * rows in groups of {@value #ROWS}, and within a group, for each block of {@link Kernels#L} columns, the block of
 * each of the eight rows in turn (llama.cpp repacks its CPU weights the same way). Row by row the arithmetic is
 * exactly {@link F32Matrix}'s, so every product has the same bits as on the memory-mapped checkpoint; only the
 * order in which memory is read changes. On two threads of the 2-vCPU test machine the sequential stream read
 * 1.4x the bytes per second of eight interleaved row streams (docs/BENCHMARKS.md).
 *
 * <p>Memory: four bytes per weight, off-heap (a copy: the checkpoint's mapped pages are no longer read).
 */
public final class PackedF32Matrix implements WeightMatrix {
    /** Rows per group. */
    public static final int ROWS = 8;

    private final MemorySegment data;
    private final int rows;
    private final int cols;
    /** Bytes of one group: {@code ROWS * cols} floats. */
    private final long groupBytes;

    private PackedF32Matrix(MemorySegment data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.groupBytes = (long) ROWS * cols * Float.BYTES;
    }

    /** Whether a {@code rows × cols} matrix can be packed: whole groups of rows, whole vectors of columns. */
    public static boolean fits(int rows, int cols) {
        return rows % ROWS == 0 && cols % L == 0;
    }

    /**
     * Copies {@code source} (any format, read row by row as floats) into packed memory that lives as long as the
     * result is reachable.
     *
     * @throws IllegalArgumentException if the shape does not {@linkplain #fits fit}
     */
    public static PackedF32Matrix pack(WeightMatrix source) {
        int rows = source.rows();
        int cols = source.cols();
        if (!fits(rows, cols)) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix does not pack into groups of "
                    + ROWS + " rows and blocks of " + L + " columns");
        }
        MemorySegment data = Arena.ofAuto().allocate((long) rows * cols * Float.BYTES, 64);
        PackedF32Matrix m = new PackedF32Matrix(data, rows, cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            source.row(r, row);
            for (int j = 0; j < cols; j += L) {
                MemorySegment.copy(row, j, data, F32_LE, m.offset(r, j), L);
            }
        }
        return m;
    }

    /** Byte offset of element {@code (r, c)}. */
    private long offset(int r, int c) {
        int block = c / L;
        return (r / ROWS) * groupBytes + (((long) block * ROWS + r % ROWS) * L + c % L) * Float.BYTES;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public String format() {
        return "F32_PACKED";
    }

    @Override
    public long bytes() {
        return data.byteSize();
    }

    /** Same accumulators and order as {@link F32Matrix#dot}; a row's blocks lie {@code ROWS * L} floats apart. */
    @Override
    public float dot(int row, float[] x) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        long o = offset(row, 0);
        long step = (long) ROWS * L * Float.BYTES;
        int n = cols;
        int i = 0;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (; i <= n - 2 * L; i += 2 * L, o += 2 * step) {
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(FloatVector.fromArray(F, x, i), a0);
            a1 = FloatVector.fromMemorySegment(F, data, o + step, LE).fma(FloatVector.fromArray(F, x, i + L), a1);
        }
        if (i < n) {
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(FloatVector.fromArray(F, x, i), a0);
        }
        return Kernels.sum(a0.add(a1));
    }

    /** A group per pass, its memory read front to back; whole groups only, as {@link #fits} guarantees. */
    @Override
    public void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        int n = cols;
        // Reduced from memory: eight inlined vector reductions would box the vectors (see F32Matrix.dotRows).
        float[] lanes = new float[ROWS * L];
        int r = from;
        for (; r < to && r % ROWS != 0; r++) {
            out[r] = dot(r, x);
        }
        for (; r + ROWS <= to; r += ROWS) {
            long o = (r / ROWS) * groupBytes;
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z;
            FloatVector c0 = z;
            FloatVector a1 = z;
            FloatVector c1 = z;
            FloatVector a2 = z;
            FloatVector c2 = z;
            FloatVector a3 = z;
            FloatVector c3 = z;
            FloatVector a4 = z;
            FloatVector c4 = z;
            FloatVector a5 = z;
            FloatVector c5 = z;
            FloatVector a6 = z;
            FloatVector c6 = z;
            FloatVector a7 = z;
            FloatVector c7 = z;
            int i = 0;
            for (; i <= n - 2 * L; i += 2 * L, o += 16L * L * Float.BYTES) {
                FloatVector x0 = FloatVector.fromArray(F, x, i);
                FloatVector x1 = FloatVector.fromArray(F, x, i + L);
                a0 = FloatVector.fromMemorySegment(F, data, o + 0L * L, LE).fma(x0, a0);
                a1 = FloatVector.fromMemorySegment(F, data, o + 4L * L, LE).fma(x0, a1);
                a2 = FloatVector.fromMemorySegment(F, data, o + 8L * L, LE).fma(x0, a2);
                a3 = FloatVector.fromMemorySegment(F, data, o + 12L * L, LE).fma(x0, a3);
                a4 = FloatVector.fromMemorySegment(F, data, o + 16L * L, LE).fma(x0, a4);
                a5 = FloatVector.fromMemorySegment(F, data, o + 20L * L, LE).fma(x0, a5);
                a6 = FloatVector.fromMemorySegment(F, data, o + 24L * L, LE).fma(x0, a6);
                a7 = FloatVector.fromMemorySegment(F, data, o + 28L * L, LE).fma(x0, a7);
                c0 = FloatVector.fromMemorySegment(F, data, o + 32L * L, LE).fma(x1, c0);
                c1 = FloatVector.fromMemorySegment(F, data, o + 36L * L, LE).fma(x1, c1);
                c2 = FloatVector.fromMemorySegment(F, data, o + 40L * L, LE).fma(x1, c2);
                c3 = FloatVector.fromMemorySegment(F, data, o + 44L * L, LE).fma(x1, c3);
                c4 = FloatVector.fromMemorySegment(F, data, o + 48L * L, LE).fma(x1, c4);
                c5 = FloatVector.fromMemorySegment(F, data, o + 52L * L, LE).fma(x1, c5);
                c6 = FloatVector.fromMemorySegment(F, data, o + 56L * L, LE).fma(x1, c6);
                c7 = FloatVector.fromMemorySegment(F, data, o + 60L * L, LE).fma(x1, c7);
            }
            if (i < n) {
                FloatVector xv = FloatVector.fromArray(F, x, i);
                a0 = FloatVector.fromMemorySegment(F, data, o + 0L * L, LE).fma(xv, a0);
                a1 = FloatVector.fromMemorySegment(F, data, o + 4L * L, LE).fma(xv, a1);
                a2 = FloatVector.fromMemorySegment(F, data, o + 8L * L, LE).fma(xv, a2);
                a3 = FloatVector.fromMemorySegment(F, data, o + 12L * L, LE).fma(xv, a3);
                a4 = FloatVector.fromMemorySegment(F, data, o + 16L * L, LE).fma(xv, a4);
                a5 = FloatVector.fromMemorySegment(F, data, o + 20L * L, LE).fma(xv, a5);
                a6 = FloatVector.fromMemorySegment(F, data, o + 24L * L, LE).fma(xv, a6);
                a7 = FloatVector.fromMemorySegment(F, data, o + 28L * L, LE).fma(xv, a7);
            }
            a0.add(c0).intoArray(lanes, 0);
            a1.add(c1).intoArray(lanes, 1 * L);
            a2.add(c2).intoArray(lanes, 2 * L);
            a3.add(c3).intoArray(lanes, 3 * L);
            a4.add(c4).intoArray(lanes, 4 * L);
            a5.add(c5).intoArray(lanes, 5 * L);
            a6.add(c6).intoArray(lanes, 6 * L);
            a7.add(c7).intoArray(lanes, 7 * L);
            for (int k = 0; k < ROWS; k++) {
                out[r + k] = Kernels.sumLanes(lanes, k * L);
            }
        }
        for (; r < to; r++) {
            out[r] = dot(r, x);
        }
    }

    @Override
    public void row(int row, float[] dst) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, dst.length);
        for (int j = 0; j < cols; j += L) {
            MemorySegment.copy(data, F32_LE, offset(row, j), dst, j, L);
        }
    }

    @Override
    public float get(int r, int c) {
        Objects.checkIndex(r, rows);
        Objects.checkIndex(c, cols);
        return data.get(F32_LE, offset(r, c));
    }
}
