package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.L;

import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;

/**
 * Matrix-vector products over {@link WeightMatrix} and the vectorized float helpers a model needs.
 *
 * <p>Products with more than {@value #PARALLEL_THRESHOLD} weights run in parallel over blocks of rows on the
 * common {@link ForkJoinPool}; smaller ones run on the caller's thread, where the fork would cost more than it
 * saves. Either way each output element is computed by the same call, so both paths give identical bits.
 */
public final class MatVec {
    /**
     * Weight count above which products are split over the common pool. A decode step makes about ten products
     * per layer; forking each costs tens of microseconds of wake-up and join, so matrices up to 1 MB of F32
     * run on the caller's thread, while larger ones, which stream long enough to repay the fork, use every core
     * (on 2 cores, 2^20 made a 493M-parameter model's 1024 x 1024 projections single-threaded and its decode 13%
     * slower; docs/BENCHMARKS.md).
     */
    public static final int PARALLEL_THRESHOLD = 1 << 18;
    /** Enough weights per task that scheduling is noise next to the arithmetic. */
    private static final int MIN_TASK_WEIGHTS = 1 << 14;

    private MatVec() {
    }

    /**
     * {@code out[r] = w.dot(r, x)} for every row.
     *
     * @throws IllegalArgumentException if {@code x} is shorter than {@code w.cols()} or {@code out} than
     *                                  {@code w.rows()}
     */
    public static void multiply(WeightMatrix w, float[] x, float[] out) {
        checkLengths(w, x, out);
        int rows = w.rows();
        if ((long) rows * w.cols() <= PARALLEL_THRESHOLD) {
            w.dotRows(0, rows, x, out);
            return;
        }
        int block = blockRows(w);
        IntStream.range(0, (rows + block - 1) / block).parallel()
                .forEach(b -> w.dotRows(b * block, Math.min(rows, (b + 1) * block), x, out));
    }

    /**
     * For a small batch: {@code outs[b][r] = dot(row r of w, xs[b], cols)}, loading (dequantizing) each row once
     * and dotting it with every vector. For F32, F16 and BF16 this equals {@code w.dot(r, xs[b])} bit for bit; for
     * quantized formats it is the float dot of the dequantized row, within the format's bound of the same.
     *
     * @throws IllegalArgumentException if {@code xs} and {@code outs} differ in length or a vector is too short
     */
    public static void multiply(WeightMatrix w, float[][] xs, float[][] outs) {
        if (xs.length != outs.length) {
            throw new IllegalArgumentException(xs.length + " inputs but " + outs.length + " outputs");
        }
        for (int b = 0; b < xs.length; b++) {
            checkLengths(w, xs[b], outs[b]);
        }
        if (xs.length == 0) {
            return;
        }
        int rows = w.rows();
        int cols = w.cols();
        if ((long) rows * cols <= PARALLEL_THRESHOLD) {
            batchRows(w, xs, outs, 0, rows, new float[cols]);
            return;
        }
        int block = blockRows(w);
        IntStream.range(0, (rows + block - 1) / block).parallel()
                .forEach(b -> batchRows(w, xs, outs, b * block, Math.min(rows, (b + 1) * block), new float[cols]));
    }

    private static void batchRows(WeightMatrix w, float[][] xs, float[][] outs, int from, int to, float[] scratch) {
        int cols = w.cols();
        for (int r = from; r < to; r++) {
            w.row(r, scratch);
            for (int b = 0; b < xs.length; b++) {
                outs[b][r] = dot(scratch, xs[b], cols);
            }
        }
    }

    private static int blockRows(WeightMatrix w) {
        // A few blocks per worker so that uneven progress evens out, none so small that it is all overhead.
        int targetBlocks = 4 * ForkJoinPool.getCommonPoolParallelism();
        int byCount = (w.rows() + targetBlocks - 1) / targetBlocks;
        int bySize = (MIN_TASK_WEIGHTS + w.cols() - 1) / w.cols();
        return Math.max(1, Math.max(byCount, bySize));
    }

    private static void checkLengths(WeightMatrix w, float[] x, float[] out) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(out, "out");
        if (x.length < w.cols() || out.length < w.rows()) {
            throw new IllegalArgumentException("a " + w.rows() + "x" + w.cols() + " product needs x of at least "
                    + w.cols() + " and out of at least " + w.rows() + ", got " + x.length + " and " + out.length);
        }
    }

    /** {@code Σ a[i]·b[i]} over {@code [0, n)}, with the same accumulation order as {@link F32Matrix#dot}. */
    public static float dot(float[] a, float[] b, int n) {
        Objects.checkFromIndexSize(0, n, a.length);
        Objects.checkFromIndexSize(0, n, b.length);
        int i = 0;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (; i <= n - 4 * L; i += 4 * L) {
            a0 = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, i), a0);
            a1 = FloatVector.fromArray(F, a, i + L).fma(FloatVector.fromArray(F, b, i + L), a1);
            a2 = FloatVector.fromArray(F, a, i + 2 * L).fma(FloatVector.fromArray(F, b, i + 2 * L), a2);
            a3 = FloatVector.fromArray(F, a, i + 3 * L).fma(FloatVector.fromArray(F, b, i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) {
            a0 = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, i), a0);
        }
        float s = Kernels.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            s = Math.fma(a[i], b[i], s);
        }
        return s;
    }

    /**
     * {@code dst[i] += src[i]} for {@code i < dst.length}.
     *
     * @throws IndexOutOfBoundsException if {@code src} is shorter than {@code dst}
     */
    public static void add(float[] dst, float[] src) {
        int n = dst.length;
        Objects.checkFromIndexSize(0, n, src.length);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, dst, i).add(FloatVector.fromArray(F, src, i)).intoArray(dst, i);
        }
        for (; i < n; i++) {
            dst[i] += src[i];
        }
    }

    /**
     * {@code dst[i] = fma(s, src[i], dst[i])} (fused: one rounding) for {@code i < dst.length}.
     *
     * @throws IndexOutOfBoundsException if {@code src} is shorter than {@code dst}
     */
    public static void scaleAdd(float[] dst, float[] src, float s) {
        int n = dst.length;
        Objects.checkFromIndexSize(0, n, src.length);
        FloatVector sv = FloatVector.broadcast(F, s);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, src, i).fma(sv, FloatVector.fromArray(F, dst, i)).intoArray(dst, i);
        }
        for (; i < n; i++) {
            dst[i] = Math.fma(s, src[i], dst[i]);
        }
    }

    /**
     * {@code Σ x[i]²} over {@code [0, n)}: squares accumulated in float lanes, the lanes and tail summed in double
     * (relative error about {@code n/(4L) · 2^-24}, ample for RMS normalization).
     */
    public static double sumOfSquares(float[] x, int n) {
        Objects.checkFromIndexSize(0, n, x.length);
        int i = 0;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (; i <= n - 4 * L; i += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(F, x, i);
            FloatVector v1 = FloatVector.fromArray(F, x, i + L);
            FloatVector v2 = FloatVector.fromArray(F, x, i + 2 * L);
            FloatVector v3 = FloatVector.fromArray(F, x, i + 3 * L);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
            a2 = v2.fma(v2, a2);
            a3 = v3.fma(v3, a3);
        }
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            a0 = v.fma(v, a0);
        }
        double s = 0;
        for (float lane : a0.add(a1).add(a2.add(a3)).toArray()) {
            s += lane;
        }
        for (; i < n; i++) {
            s += (double) x[i] * x[i];
        }
        return s;
    }
}
