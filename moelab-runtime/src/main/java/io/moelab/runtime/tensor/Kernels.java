package io.moelab.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Species, layouts and shared pieces of the Vector API kernels.
 *
 * <p>All float dot products here use the same accumulation scheme (two accumulators over blocks of two vectors,
 * then one accumulator, a fixed halving lane reduction, a fused scalar tail), so a row dotted by a
 * {@link WeightMatrix} and the same row dequantized and dotted by {@link MatVec#dot} give identical bits for the
 * float formats. The lane reduction is done by hand because {@code reduceLanes(ADD)} leaves the order open, and the
 * interpreter and C2 might then disagree from one call to the next. The quantized formats, which owe no bit
 * equality to {@link MatVec#dot}, reduce with the shorter {@link #sumStored} instead.
 */
final class Kernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Four float lanes, where {@link #sum} stops halving. */
    static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    /** Eight float lanes, the half of a 512-bit vector that {@link #sum} adds first. */
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED.withShape(F.vectorShape()).check(int.class);
    /** Shorts with as many lanes as {@link #F}: half the bits. */
    static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 16))
            .check(short.class);
    /**
     * Bytes with as many lanes as {@link #F}, or null where no such shape exists (fewer than 8 float lanes); the
     * quantized formats then run their scalar loops.
     */
    static final VectorSpecies<Byte> B = byteSpecies();

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Kernels() {
    }

    private static VectorSpecies<Byte> byteSpecies() {
        int bits = L * 8;
        return bits >= 64 && Integer.bitCount(bits) == 1 && bits <= VectorShape.preferredShape().vectorBitSize()
                ? ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(bits)).check(byte.class)
                : null;
    }

    /**
     * Sum of the lanes in a fixed order: the upper half of the vector added to the lower half until four lanes
     * remain, then {@code (l0 + l1) + (l2 + l3)}. Lanewise adds are exact IEEE operations in every execution tier,
     * so the bits never depend on the JIT, unlike {@code reduceLanes(ADD)}, whose order is left open. A halving
     * tree rather than sixteen dependent lane extracts: the extracts' shuffles and their chain held the F32 row
     * kernels at two thirds of their streaming speed (docs/BENCHMARKS.md).
     */
    static float sum(FloatVector v) {
        FloatVector q;
        if (L == 16) {
            q = halves(halves(v, F8), F4);
        } else if (L == 8) {
            q = halves(v, F4);
        } else if (L == 4) {
            q = v;
        } else {
            float s = 0f;
            for (int i = 0; i < L; i++) {
                s += v.lane(i);
            }
            return s;
        }
        return (q.lane(0) + q.lane(1)) + (q.lane(2) + q.lane(3));
    }

    /**
     * {@link #sum} of a vector stored at {@code lanes[off..off+L)}, in exactly its order and so with its bits: for
     * kernels that reduce many rows at once, where calling {@link #sum} on each would outgrow C2's inlining budget
     * and box the vectors.
     */
    static float sumLanes(float[] lanes, int off) {
        float q0;
        float q1;
        float q2;
        float q3;
        if (L == 16) {
            q0 = (lanes[off] + lanes[off + 8]) + (lanes[off + 4] + lanes[off + 12]);
            q1 = (lanes[off + 1] + lanes[off + 9]) + (lanes[off + 5] + lanes[off + 13]);
            q2 = (lanes[off + 2] + lanes[off + 10]) + (lanes[off + 6] + lanes[off + 14]);
            q3 = (lanes[off + 3] + lanes[off + 11]) + (lanes[off + 7] + lanes[off + 15]);
        } else if (L == 8) {
            q0 = lanes[off] + lanes[off + 4];
            q1 = lanes[off + 1] + lanes[off + 5];
            q2 = lanes[off + 2] + lanes[off + 6];
            q3 = lanes[off + 3] + lanes[off + 7];
        } else if (L == 4) {
            q0 = lanes[off];
            q1 = lanes[off + 1];
            q2 = lanes[off + 2];
            q3 = lanes[off + 3];
        } else {
            float s = 0f;
            for (int i = 0; i < L; i++) {
                s += lanes[off + i];
            }
            return s;
        }
        return (q0 + q1) + (q2 + q3);
    }

    /** The lower half of {@code v} plus its upper half, as a vector of {@code half} (half the bits of v). */
    private static FloatVector halves(FloatVector v, VectorSpecies<Float> half) {
        return ((FloatVector) v.reinterpretShape(half, 0)).add((FloatVector) v.reinterpretShape(half, 1));
    }

    /**
     * Sum of the {@link #L} lanes stored at {@code lanes[off..off+L)}: the 128-bit blocks added first to last, then
     * their four lanes as {@code (l0 + l1) + (l2 + l3)}. A fixed order like {@link #sum}, but with a chain of a few
     * adds instead of {@code L}.
     *
     * <p>Scalar on purpose. The same order written with 128-bit vectors and {@code lane(i)} fell out of C2's inlining
     * budget inside the two-row quantized kernels, whose lane extracts then ran the Vector API's Java fallback:
     * 10.7 ns a call against 3.8 ns for these adds (docs/BENCHMARKS.md), about a fifth of an INT4 decode step.
     */
    static float sumStored(float[] lanes, int off) {
        float q0 = lanes[off];
        float q1 = lanes[off + 1];
        float q2 = lanes[off + 2];
        float q3 = lanes[off + 3];
        for (int k = 4; k < L; k += 4) {
            q0 += lanes[off + k];
            q1 += lanes[off + k + 1];
            q2 += lanes[off + k + 2];
            q3 += lanes[off + k + 3];
        }
        return (q0 + q1) + (q2 + q3);
    }

    /** The float values of {@link #L} little-endian binary16 values at {@code offset}. */
    static FloatVector f16(MemorySegment seg, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, offset, LE)
                .convertShape(VectorOperators.S2I, I, 0);
        // Exponent and mantissa moved into binary32 position read as a float 2^112 too small: scaling by 2^112
        // rebiases normals and turns half subnormals into float normals, exactly. Inf and NaN need exponent 255.
        IntVector em = h.and(0x7FFF);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        IntVector bits = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = em.compare(VectorOperators.GE, 0x7C00);
        bits = bits.blend(shifted.or(0x7F800000), special);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return bits.or(sign).reinterpretAsFloats();
    }

    /** The float values of {@link #L} little-endian bfloat16 values at {@code offset}. */
    static FloatVector bf16(MemorySegment seg, long offset) {
        // bfloat16 is the upper half of a binary32; the left shift also drops the sign extension of S2I.
        return ((IntVector) ShortVector.fromMemorySegment(S, seg, offset, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static float f16Scalar(MemorySegment seg, long offset) {
        return Float.float16ToFloat(seg.get(I16_LE, offset));
    }

    static float bf16Scalar(MemorySegment seg, long offset) {
        return Float.intBitsToFloat((seg.get(I16_LE, offset) & 0xFFFF) << 16);
    }

    /** The {@link #L} signed bytes of {@code b} as floats. */
    static FloatVector bytesToFloats(ByteVector b) {
        return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
    }

    // exp: Cephes' single-precision polynomial (range reduction by ln 2, degree-5 correction, scaling by 2^n in
    // two steps so that n from -150 to 128 stays within the exponent field).
    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float below 2^22 in magnitude to the nearest integer. */
    private static final float ROUND = 12582912f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    /** Below it exp rounds to zero; above the upper clamp it overflows to infinity. */
    private static final float EXP_LOW = -104f;
    private static final float EXP_HIGH = 89f;

    /**
     * {@code exp(x)} within one ulp of the correctly rounded float for normal results (subnormal ones rounded from the
     * same polynomial), NaN for NaN, from additions, multiplications, fused multiply-adds, a float-to-int
     * conversion and shifts only: each is one exact IEEE operation in every execution tier, so the bits never depend
     * on the JIT. The Vector API's {@code EXP} does: C2 calls the JDK's SVML routines, the interpreter and C1
     * {@link Math#exp}, and 1.1% of random inputs differ in the last bit between the two, so a model's logits
     * changed once C2 had compiled a kernel. {@link #exp(FloatVector)} performs the same operations lane by lane:
     * the same bits at every vector width.
     */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LOW), EXP_HIGH);
        float n = Math.fma(xc, LOG2E, ROUND) - ROUND;
        float r = Math.fma(-n, LN2_HI, xc);
        r = Math.fma(-n, LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        int k = (int) n;
        int half = k >> 1;
        return y * Float.intBitsToFloat((half + 127) << 23) * Float.intBitsToFloat((k - half + 127) << 23);
    }

    /** {@link #exp(float)} of every lane, bit for bit. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LOW).min(EXP_HIGH);
        FloatVector n = xc.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector minusN = n.neg();
        FloatVector r = minusN.fma(FloatVector.broadcast(F, LN2_HI), xc);
        r = minusN.fma(FloatVector.broadcast(F, LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector k = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = k.lanewise(VectorOperators.ASHR, 1);
        FloatVector first = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector second = k.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(first).mul(second);
    }
}
