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
 * <p>All float dot products here use the same accumulation scheme (four accumulators over blocks of four vectors,
 * then one accumulator, a fixed sequential lane reduction, a fused scalar tail), so a row dotted by a
 * {@link WeightMatrix} and the same row dequantized and dotted by {@link MatVec#dot} give identical bits for the
 * float formats. The lane reduction is done by hand because {@code reduceLanes(ADD)} leaves the order open, and the
 * interpreter and C2 might then disagree from one call to the next. The quantized formats, which owe no bit
 * equality to {@link MatVec#dot}, reduce with the shorter {@link #sumStored} instead.
 */
final class Kernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Four float lanes, the narrowest block {@link #sumStored} reduces. */
    static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
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

    /** Sum of the lanes, first to last: a fixed order, unlike {@code reduceLanes}. */
    static float sum(FloatVector v) {
        // Lane extracts with a constant trip count: C2 unrolls them into register moves, where toArray() would
        // store the vector and, unless escape analysis removes it, allocate an array for every row.
        float s = 0f;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /**
     * Sum of the {@link #L} lanes stored at {@code lanes[off..off+L)}: the 128-bit blocks added first to last, then
     * their four lanes as {@code (l0 + l1) + (l2 + l3)}. A fixed order like {@link #sum}, but with a chain of a few
     * adds instead of {@code L}, and reading the lanes back from memory instead of extracting each from a register.
     */
    static float sumStored(float[] lanes, int off) {
        FloatVector v = FloatVector.fromArray(F4, lanes, off);
        for (int k = 4; k < L; k += 4) {
            v = v.add(FloatVector.fromArray(F4, lanes, off + k));
        }
        return (v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3));
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

    /** {@link #L} signed bytes at {@code offset} as floats. */
    static FloatVector bytesToFloats(ByteVector b) {
        return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
    }
}
