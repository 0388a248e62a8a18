package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.F32_LE;
import static io.moelab.runtime.tensor.Kernels.L;
import static io.moelab.runtime.tensor.Kernels.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/**
 * F32 weights copied at load time into a layout that a matrix-vector product reads in one sequential stream:
 * rows in groups of {@value #ROWS}, and within a group, for each block of {@link Kernels#L} columns, the block of
 * each of the eight rows in turn (llama.cpp repacks its CPU weights the same way). Each row sums into one
 * accumulator of {@code L} lanes, column block after column block, then the lanes are added in
 * {@link Kernels#sum}'s order: {@link F32Matrix} uses two accumulators, so products agree with the memory-mapped
 * checkpoint's to float rounding, not bit for bit. One accumulator per row streamed 1.2-1.8x the bytes per second
 * of two in this layout, single-threaded, and decoded 1.24x as fast on two threads (AVX-512 host,
 * docs/BENCHMARKS.md); on the mapped checkpoint, whose tensors need not start on a cache line, the same change
 * made decode slower, so F32Matrix keeps two.
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
        return pack(source, Arena.ofAuto());
    }

    /**
     * As {@link #pack(WeightMatrix)}, allocating from {@code arena} (an {@link Arena} or {@link WeightSlabs}).
     *
     * @throws IllegalArgumentException if the shape does not {@linkplain #fits fit}
     */
    public static PackedF32Matrix pack(WeightMatrix source, SegmentAllocator arena) {
        int rows = source.rows();
        int cols = source.cols();
        if (!fits(rows, cols)) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix does not pack into groups of "
                    + ROWS + " rows and blocks of " + L + " columns");
        }
        MemorySegment data = arena.allocate((long) rows * cols * Float.BYTES, 64);
        PackedF32Matrix m = new PackedF32Matrix(data, rows, cols);
        RowConversion.run(rows, cols, (r, row) -> {
            source.row(r, row);
            for (int j = 0; j < cols; j += L) {
                MemorySegment.copy(row, j, data, F32_LE, m.offset(r, j), L);
            }
        });
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

    /**
     * One accumulator, as each row of {@link #dotRows} (the same bits); a row's blocks lie {@code ROWS * L} floats
     * apart.
     */
    @Override
    public float dot(int row, float[] x) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        long o = offset(row, 0);
        long step = (long) ROWS * L * Float.BYTES;
        int n = cols;
        int i = 0;
        FloatVector a0 = FloatVector.zero(F);
        for (; i < n; i += L, o += step) {
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(FloatVector.fromArray(F, x, i), a0);
        }
        return Kernels.sum(a0);
    }

    /** A group per pass, its memory read front to back; whole groups only, as {@link #fits} guarantees. */
    @Override
    public void dotRows(int from, int to, float[] x, float[] out) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(0, cols, x.length);
        Objects.checkFromToIndex(from, to, out.length);
        int n = cols;
        float[] lanes = new float[ROWS * L];
        int r = from;
        for (; r < to && r % ROWS != 0; r++) {
            out[r] = dot(r, x);
        }
        for (; r + ROWS <= to; r += ROWS) {
            dotGroup((r / ROWS) * groupBytes, x, n, lanes);
            for (int k = 0; k < ROWS; k++) {
                out[r + k] = Kernels.sumLanes(lanes, k * L);
            }
        }
        for (; r < to; r++) {
            out[r] = dot(r, x);
        }
    }

    /**
     * The vector part of one group's eight dot products with {@code x}, its memory read front to back, one
     * accumulator per row: row {@code k}'s vector sum lands in {@code lanes[k * L..(k + 1) * L)}, reduced from memory
     * by the caller (eight inlined vector reductions would exceed C2's inlining budget and box the vectors).
     */
    private void dotGroup(long group, float[] x, int n, float[] lanes) {
        long v = (long) L * Float.BYTES;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        long o = group;
        for (int i = 0; i < n; i += L, o += ROWS * v) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            a0 = FloatVector.fromMemorySegment(F, data, o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, data, o + v, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, data, o + 2 * v, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, data, o + 3 * v, LE).fma(xv, a3);
            a4 = FloatVector.fromMemorySegment(F, data, o + 4 * v, LE).fma(xv, a4);
            a5 = FloatVector.fromMemorySegment(F, data, o + 5 * v, LE).fma(xv, a5);
            a6 = FloatVector.fromMemorySegment(F, data, o + 6 * v, LE).fma(xv, a6);
            a7 = FloatVector.fromMemorySegment(F, data, o + 7 * v, LE).fma(xv, a7);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        a4.intoArray(lanes, 4 * L);
        a5.intoArray(lanes, 5 * L);
        a6.intoArray(lanes, 6 * L);
        a7.intoArray(lanes, 7 * L);
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
