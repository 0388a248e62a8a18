package io.moelab.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Test matrices built byte by byte, and naive references computed independently of the kernels. */
final class TestData {
    private TestData() {
    }

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return v;
    }

    /** Little-endian bytes of {@code values}, written one byte at a time. */
    static MemorySegment f32Segment(float[] values) {
        byte[] b = new byte[values.length * 4];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            for (int k = 0; k < 4; k++) {
                b[4 * i + k] = (byte) (bits >>> (8 * k));
            }
        }
        return MemorySegment.ofArray(b);
    }

    /** Little-endian bytes of 16-bit patterns, written one byte at a time. */
    static MemorySegment shortSegment(short[] bits) {
        byte[] b = new byte[bits.length * 2];
        for (int i = 0; i < bits.length; i++) {
            b[2 * i] = (byte) bits[i];
            b[2 * i + 1] = (byte) (bits[i] >>> 8);
        }
        return MemorySegment.ofArray(b);
    }

    static float decodeF16(short s) {
        return Float.float16ToFloat(s);
    }

    static float decodeBF16(short s) {
        return Float.intBitsToFloat((s & 0xFFFF) << 16);
    }

    static double refDot(float[] w, int from, float[] x, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) w[from + i] * x[i];
        }
        return s;
    }

    static double absDot(float[] w, int from, float[] x, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs((double) w[from + i] * x[i]);
        }
        return s;
    }

    static float[] row(WeightMatrix m, int r) {
        float[] dst = new float[m.cols()];
        m.row(r, dst);
        return dst;
    }
}
