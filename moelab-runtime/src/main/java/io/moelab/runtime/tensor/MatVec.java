package io.moelab.runtime.tensor;

import static io.moelab.runtime.tensor.Kernels.F;
import static io.moelab.runtime.tensor.Kernels.L;

import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/**
 * Matrix-vector products over {@link WeightMatrix} and the vectorized float helpers a model needs.
 *
 * <p>Products run on the {@linkplain ProductTeam#shared() shared product team}, split over its threads by blocks of
 * rows when they have at least {@value ProductTeam#MIN_PARALLEL_WEIGHTS} weights. Each output element is computed
 * by the same kernel whichever thread runs its rows, so results do not depend on the split.
 */
public final class MatVec {
    private MatVec() {
    }

    /**
     * {@code out[r] = w.dot(r, x)} for every row.
     *
     * @throws IllegalArgumentException if {@code x} is shorter than {@code w.cols()} or {@code out} than
     *                                  {@code w.rows()}
     */
    public static void multiply(WeightMatrix w, float[] x, float[] out) {
        multiplyAll(new WeightMatrix[] {w}, new float[][] {x}, new float[][] {out});
    }

    /**
     * Several independent products at once, {@code outs[i][r] = ws[i].dot(r, xs[i])}, as one job of the product
     * team: one hand-off for all of them (a layer's q, k and v projections; the chosen experts' gate and up).
     *
     * @throws IllegalArgumentException if the arrays differ in length or a vector is too short for its matrix
     */
    public static void multiplyAll(WeightMatrix[] ws, float[][] xs, float[][] outs) {
        if (ws.length != xs.length || ws.length != outs.length) {
            throw new IllegalArgumentException(ws.length + " matrices, " + xs.length + " inputs and " + outs.length
                    + " outputs");
        }
        int[] rows = new int[ws.length];
        int[] cols = new int[ws.length];
        for (int i = 0; i < ws.length; i++) {
            checkLengths(ws[i], xs[i], outs[i]);
            rows[i] = ws[i].rows();
            cols[i] = f32Weights(ws[i]);
        }
        ProductTeam.shared().run(rows, cols, (item, from, to, thread) -> ws[item].dotRows(from, to, xs[item],
                outs[item]));
    }

    /**
     * A row's weight for the team's chunking: its bytes in F32 weights (four bytes each), so that a chunk streams
     * about the same bytes in every format. Counting weights instead gave compressed formats chunks of a few KB: an
     * INT4 expert of 448x512 (122 KB) cut in four to eight pieces, each thread restarting its stream at every
     * piece. Side by side (m100 decode, {@code DecodeSideBySide}, builds in both orders): INT4 with int8 activations
     * 1.11-1.20x; Q8 0.95-1.01x and BF16 1.01-1.03x, within the harness's spread; F32 rows keep their weight.
     */
    private static int f32Weights(WeightMatrix w) {
        return (int) Math.max(1, Math.min(w.cols(), w.bytes() / Float.BYTES / Math.max(1, w.rows())));
    }

    /**
     * For a small batch: {@code outs[b][r] = dot(row r of w, xs[b], cols)}, loading (dequantizing) each row once
     * and dotting it with every vector. For F32, F16 and BF16 this equals {@code w.dot(r, xs[b])} bit for bit; for
     * quantized formats it is the float dot of the dequantized row, within the format's bound of the same. An
     * {@link Int4BlockMatrix}, whose products round the activations to int8, runs its own kernel per vector instead
     * (equal to {@code w.dotRows} bit for bit), so that a prompt is computed as its tokens would be decoded.
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
        if (w instanceof Int4BlockMatrix) {
            // One item per vector: its chunks keep the kernel's 32-row blocks, and a thread's consecutive chunks
            // of one vector quantize it once. The matrix is re-read per vector, from cache for an expert's size.
            WeightMatrix[] ws = new WeightMatrix[xs.length];
            Arrays.fill(ws, w);
            multiplyAll(ws, xs, outs);
            return;
        }
        int cols = w.cols();
        ProductTeam team = ProductTeam.shared();
        float[][] scratch = new float[team.threads()][];
        // The batch multiplies the arithmetic per weight: chunks are sized by weights times batch, a row's weight
        // saturating at the largest int (a chunk of one row; multiplyExact failed such a batch outright).
        int weight = (int) Math.min(Integer.MAX_VALUE, (long) cols * xs.length);
        team.run(new int[] {w.rows()}, new int[] {weight}, (item, from, to, thread) -> {
            if (scratch[thread] == null) {
                scratch[thread] = new float[cols];
            }
            batchRows(w, xs, outs, from, to, scratch[thread]);
        });
    }

    private static void batchRows(WeightMatrix w, float[][] xs, float[][] outs, int from, int to, float[] scratch) {
        int cols = w.cols();
        float[] lanes = new float[L];
        for (int r = from; r < to; r++) {
            w.row(r, scratch);
            for (int b = 0; b < xs.length; b++) {
                outs[b][r] = dot(scratch, 0, xs[b], 0, cols, lanes);
            }
        }
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
        return dot(a, 0, b, 0, n);
    }

    /**
     * {@code Σ a[aOff + i]·b[bOff + i]} over {@code i < n}, accumulated as {@link #dot(float[], float[], int)}
     * does.
     */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Objects.checkFromIndexSize(aOff, n, a.length);
        Objects.checkFromIndexSize(bOff, n, b.length);
        return dot(a, aOff, b, bOff, n, new float[L]);
    }

    /**
     * {@code out[oOff + t] = Σ_{d < m} a[aOff + d] b[bOff + d * stride + t]} for {@code t < n}, each summed over
     * {@code d} in order by fused multiply-adds from zero (so every {@code t} has the bits of that scalar loop,
     * whichever path computes it): an attention head's query against {@code n} cached keys stored transposed, one
     * row per dimension. Positions go in whole vectors, four at a time, so there is no lane reduction at all; the
     * last {@code n mod L} positions are scalar, each a serial chain of {@code m} multiply-adds, so callers that
     * can should round {@code n} up to whole vectors.
     *
     * @throws IndexOutOfBoundsException if a range lies outside its array
     */
    public static void dotColumns(float[] a, int aOff, float[] b, int bOff, int stride, int m, int n, float[] out,
                                  int oOff) {
        Objects.checkFromIndexSize(aOff, m, a.length);
        Objects.checkFromIndexSize(oOff, n, out.length);
        if (m > 0 && n > 0) {
            checkStrided(bOff, stride, m, n, b.length);
        }
        int t = 0;
        for (; t <= n - 4 * L; t += 4 * L) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int d = 0, o = bOff + t; d < m; d++, o += stride) {
                FloatVector ad = FloatVector.broadcast(F, a[aOff + d]);
                s0 = FloatVector.fromArray(F, b, o).fma(ad, s0);
                s1 = FloatVector.fromArray(F, b, o + L).fma(ad, s1);
                s2 = FloatVector.fromArray(F, b, o + 2 * L).fma(ad, s2);
                s3 = FloatVector.fromArray(F, b, o + 3 * L).fma(ad, s3);
            }
            s0.intoArray(out, oOff + t);
            s1.intoArray(out, oOff + t + L);
            s2.intoArray(out, oOff + t + 2 * L);
            s3.intoArray(out, oOff + t + 3 * L);
        }
        for (; t <= n - L; t += L) {
            FloatVector s0 = FloatVector.zero(F);
            for (int d = 0, o = bOff + t; d < m; d++, o += stride) {
                s0 = FloatVector.fromArray(F, b, o).fma(FloatVector.broadcast(F, a[aOff + d]), s0);
            }
            s0.intoArray(out, oOff + t);
        }
        for (; t < n; t++) {
            float s0 = 0;
            for (int d = 0, o = bOff + t; d < m; d++, o += stride) {
                s0 = Math.fma(b[o], a[aOff + d], s0);
            }
            out[oOff + t] = s0;
        }
    }

    /**
     * Checks that {@code count >= 1} rows of {@code n} floats, the first at {@code off} and each {@code stride} after
     * the previous, lie within an array of {@code length}.
     */
    private static void checkStrided(int off, int stride, int count, int n, int length) {
        if (n < 0 || stride < 0 || off < 0 || off + (long) (count - 1) * stride + n > length) {
            throw new IndexOutOfBoundsException(count + " rows of " + n + " from " + off + " every " + stride
                    + " in " + length);
        }
    }

    /**
     * The dot product, its lanes reduced from {@code lanes} (scratch of {@link Kernels#L} floats) by
     * {@link Kernels#sumLanes}: {@link Kernels#sum}'s order, without its in-register halving. Inlined deep in a
     * call chain (an attention loop in a product team's job, a batched product), that halving exceeded C2's inlining
     * depth and ran the Vector API's Java fallback, which builds a shuffle per call: on an AVX-512 host it took
     * about 5% of an INT4 decode profile's samples (docs/BENCHMARKS.md). Bounds are the caller's to check.
     */
    private static float dot(float[] a, int aOff, float[] b, int bOff, int n, float[] lanes) {
        int i = 0;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (; i <= n - 2 * L; i += 2 * L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
            a1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), a1);
        }
        for (; i <= n - L; i += L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
        }
        a0.add(a1).intoArray(lanes, 0);
        float s = Kernels.sumLanes(lanes, 0);
        for (; i < n; i++) {
            s = Math.fma(a[aOff + i], b[bOff + i], s);
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
     * Whether every value of {@code a} is finite (no NaN, no infinity). {@code v - v} is 0 for a finite {@code v}
     * and NaN otherwise, so the lanes' running sums are NaN exactly where some value was not finite; checked once
     * per decoded token on its logits, so it is vectorized (a scalar test per value cost about 2% of a small
     * model's token).
     */
    public static boolean allFinite(float[] a) {
        int n = a.length;
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, a, i);
            acc = acc.add(v.sub(v));
        }
        float[] lanes = new float[L];
        acc.intoArray(lanes, 0);
        for (float lane : lanes) {
            if (lane != 0f) {
                return false;
            }
        }
        for (; i < n; i++) {
            if (!Float.isFinite(a[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * Softmax in place of {@code x[off..off+n)} scaled by {@code scale}: {@code x[i] = exp(scale x[i] - m) / Σ}, with
     * {@code m} the largest scaled value and {@code Σ} the float sum of the exponentials. Whole vectors take
     * {@link Kernels#exp(FloatVector)}, the rest its scalar twin (the same bits, whatever the JIT); the lane
     * maximum and sum are reduced through memory, in a fixed order (in-register reductions fell back to the Vector
     * API's Java code deep inside team jobs, where attention runs). An attention head's weights over its cached
     * positions: at 100 positions 234-281 ns a head, against 560-582 with {@code Math.exp} per position (a
     * 103M-parameter model's decode step has 64 heads: about 36 -> 16 µs).
     *
     * @throws IndexOutOfBoundsException if the range lies outside {@code x}
     */
    public static void softmax(float[] x, int off, int n, float scale) {
        Objects.checkFromIndexSize(off, n, x.length);
        float[] lanes = new float[L];
        FloatVector sv = FloatVector.broadcast(F, scale);
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i).mul(sv);
            v.intoArray(x, off + i);
            mv = mv.max(v);
        }
        mv.intoArray(lanes, 0);
        float max = Float.NEGATIVE_INFINITY;
        for (float lane : lanes) {
            max = Math.max(max, lane);
        }
        for (int j = i; j < n; j++) {
            float v = x[off + j] * scale;
            x[off + j] = v;
            max = Math.max(max, v);
        }
        FloatVector m = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        for (i = 0; i <= n - L; i += L) {
            FloatVector e = Kernels.exp(FloatVector.fromArray(F, x, off + i).sub(m));
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        acc.intoArray(lanes, 0);
        float sum = Kernels.sumLanes(lanes, 0);
        for (int j = i; j < n; j++) {
            float e = Kernels.exp(x[off + j] - max);
            x[off + j] = e;
            sum += e;
        }
        float inverse = 1 / sum;
        FloatVector inv = FloatVector.broadcast(F, inverse);
        for (i = 0; i <= n - L; i += L) {
            FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (int j = i; j < n; j++) {
            x[off + j] *= inverse;
        }
    }

    /**
     * SwiGLU's gating in place: {@code gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i]} for {@code i < n}, in
     * floats. Whole vectors take {@code exp} from {@link Kernels#exp(FloatVector)}, the last {@code n mod L}
     * elements from its scalar twin: the same bits whatever the JIT has compiled (within an ulp of {@link Math#exp}).
     * Vectorized, a 448-wide call measured 0.16-0.21 µs against 3.5 µs with {@code Math.exp} per element on an
     * AVX-512 host: about 53 µs of a 103M-parameter model's decode step, all of it on one thread.
     *
     * @throws IndexOutOfBoundsException if {@code gate} or {@code up} is shorter than {@code n}
     */
    public static void siluTimes(float[] gate, float[] up, int n) {
        Objects.checkFromIndexSize(0, n, gate.length);
        Objects.checkFromIndexSize(0, n, up.length);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector e = Kernels.exp(g.neg());
            g.div(e.add(1f)).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1 + Kernels.exp(-g)) * up[i];
        }
    }

    /**
     * {@code dst[i] = fma(s, src[i], dst[i])} (fused: one rounding) for {@code i < dst.length}.
     *
     * @throws IndexOutOfBoundsException if {@code src} is shorter than {@code dst}
     */
    public static void scaleAdd(float[] dst, float[] src, float s) {
        scaleAdd(dst, 0, src, 0, s, dst.length);
    }

    /**
     * {@code dst[dOff + i] = fma(s, src[sOff + i], dst[dOff + i])} for {@code i < n}, as
     * {@link #scaleAdd(float[], float[], float)} does element by element.
     */
    public static void scaleAdd(float[] dst, int dOff, float[] src, int sOff, float s, int n) {
        Objects.checkFromIndexSize(dOff, n, dst.length);
        Objects.checkFromIndexSize(sOff, n, src.length);
        FloatVector sv = FloatVector.broadcast(F, s);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, src, sOff + i).fma(sv, FloatVector.fromArray(F, dst, dOff + i))
                    .intoArray(dst, dOff + i);
        }
        for (; i < n; i++) {
            dst[dOff + i] = Math.fma(s, src[sOff + i], dst[dOff + i]);
        }
    }

    /**
     * {@code dst[dOff + i] = fma(w[wOff + t], src[sOff + t * stride + i], dst[dOff + i])} for {@code t = 0, 1, ...,
     * count - 1} in turn, for every {@code i < n}: {@link #scaleAdd(float[], int, float[], int, float, int)} once per
     * row, with the same bits (each element sees the same fused multiply-adds in the same order), but with up to four
     * vectors of {@code dst} held in registers across all rows instead of loaded and stored once per row. An
     * attention head's context is this sum over its cached values.
     */
    public static void weightedSumStrided(float[] dst, int dOff, float[] src, int sOff, int stride, float[] w,
                                          int wOff, int count, int n) {
        Objects.checkFromIndexSize(dOff, n, dst.length);
        Objects.checkFromIndexSize(wOff, count, w.length);
        if (count == 0 || n == 0) {
            return;
        }
        checkStrided(sOff, stride, count, n, src.length);
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            int d = dOff + i;
            FloatVector a0 = FloatVector.fromArray(F, dst, d);
            FloatVector a1 = FloatVector.fromArray(F, dst, d + L);
            FloatVector a2 = FloatVector.fromArray(F, dst, d + 2 * L);
            FloatVector a3 = FloatVector.fromArray(F, dst, d + 3 * L);
            for (int t = 0; t < count; t++) {
                FloatVector s = FloatVector.broadcast(F, w[wOff + t]);
                int o = sOff + t * stride + i;
                a0 = FloatVector.fromArray(F, src, o).fma(s, a0);
                a1 = FloatVector.fromArray(F, src, o + L).fma(s, a1);
                a2 = FloatVector.fromArray(F, src, o + 2 * L).fma(s, a2);
                a3 = FloatVector.fromArray(F, src, o + 3 * L).fma(s, a3);
            }
            a0.intoArray(dst, d);
            a1.intoArray(dst, d + L);
            a2.intoArray(dst, d + 2 * L);
            a3.intoArray(dst, d + 3 * L);
        }
        for (; i <= n - L; i += L) {
            FloatVector a = FloatVector.fromArray(F, dst, dOff + i);
            for (int t = 0; t < count; t++) {
                a = FloatVector.fromArray(F, src, sOff + t * stride + i).fma(FloatVector.broadcast(F, w[wOff + t]), a);
            }
            a.intoArray(dst, dOff + i);
        }
        for (; i < n; i++) {
            float a = dst[dOff + i];
            for (int t = 0; t < count; t++) {
                a = Math.fma(w[wOff + t], src[sOff + t * stride + i], a);
            }
            dst[dOff + i] = a;
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
