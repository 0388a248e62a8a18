package io.moelab.runtime.tensor;

/** The symmetric group-wise rounding shared by {@link Q8Matrix} and {@link Int4Matrix}. */
final class GroupQuantizer {
    private GroupQuantizer() {
    }

    /**
     * The binary16 scale of {@code w[from..from+n)}: {@code maxabs / qmax}, rounded to binary16.
     *
     * @throws IllegalArgumentException if a weight is not finite or the scale overflows binary16
     */
    static short scale(float[] w, int from, int n, int qmax, int row) {
        float maxAbs = 0f;
        for (int i = from; i < from + n; i++) {
            if (!Float.isFinite(w[i])) {
                throw new IllegalArgumentException("cannot quantize non-finite weight " + w[i] + " in row " + row
                        + ", column " + i);
            }
            maxAbs = Math.max(maxAbs, Math.abs(w[i]));
        }
        short h = Float.floatToFloat16(maxAbs / qmax);
        if (!Float.isFinite(Float.float16ToFloat(h))) {
            throw new IllegalArgumentException("row " + row + ": group scale " + maxAbs / qmax
                    + " is beyond the binary16 range");
        }
        return h;
    }

    /**
     * The code of {@code w} for the stored (already rounded) {@code scale}, clamped to {@code [qmin, qmax]}.
     * Rounding against the stored scale, not the exact one, is what makes the per-element bound hold.
     */
    static int code(float w, float scale, int qmin, int qmax) {
        if (scale == 0f) {
            return 0;
        }
        long q = Math.round((double) w / scale);
        return (int) Math.max(qmin, Math.min(qmax, q));
    }
}
