package io.moelab.runtime.bench;

import io.moelab.runtime.tensor.ProductTeam;
import io.moelab.runtime.tensor.WeightSlabs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's memory read bandwidth as decoding sees it: the roofline of a memory-bound matrix-vector product.
 *
 * <p><b>What is measured.</b> An off-heap buffer of the requested size (choose it well above the last-level
 * cache: 1 GiB by default on the command line), allocated as load-time weights are ({@link WeightSlabs}: on huge
 * pages where the OS gives them), is filled once, so that every page is mapped before timing, then
 * read start to end by summing it as floats with the Vector API (four independent accumulators, the preferred
 * species). The buffer is split in {@value #CHUNK_BYTES}-byte chunks shared out by the
 * {@linkplain ProductTeam#shared() product team}, the same threads that run a model's matrix products (on a
 * machine with {@code n} cores: the caller plus {@code n - 1} workers). A pass is timed from before the split to
 * after the join; the result is bytes read divided by the fastest of the timed passes, in decimal GB/s (10^9
 * bytes per second). Nothing is written
 * during the timed passes, so it is a pure read bandwidth, the traffic pattern of streaming weights; it is
 * neither a copy nor a triad bandwidth (STREAM's figures, which count writes too).
 */
public final class MemoryBandwidth {
    /** Bytes one parallel task reads. */
    public static final int CHUNK_BYTES = 1 << 20;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Bytes of one block of four vectors: the buffer is read in whole blocks. */
    private static final int BLOCK = 4 * F.vectorByteSize();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Keeps the sums observable so that no pass can be optimized away. */
    private static volatile float sink;

    private MemoryBandwidth() {
    }

    /**
     * Read bandwidth in GB/s (10^9 bytes per second) over {@code bytes} (rounded down to a whole number of vector
     * blocks), best of {@code repeats} timed passes after one untimed warm-up pass.
     *
     * @throws IllegalArgumentException if {@code bytes} is below one chunk or {@code repeats} is not positive
     */
    public static double measureGBps(long bytes, int repeats) {
        if (bytes < CHUNK_BYTES) {
            throw new IllegalArgumentException("measure at least " + CHUNK_BYTES + " bytes, got " + bytes);
        }
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be positive, got " + repeats);
        }
        long size = bytes - bytes % BLOCK;
        try (Arena arena = Arena.ofShared()) {
            // The weights' kind of memory (huge pages where the OS gives them), so that the roofline is the one
            // their products stream against; unmapped when the arena closes.
            MemorySegment data = new WeightSlabs(arena).allocate(size, 64);
            data.fill((byte) 0x3C);
            read(data);
            long best = Long.MAX_VALUE;
            for (int r = 0; r < repeats; r++) {
                long start = System.nanoTime();
                float s = read(data);
                long elapsed = System.nanoTime() - start;
                sink += s;
                best = Math.min(best, elapsed);
            }
            return (double) size / Math.max(1, best);
        }
    }

    /**
     * One parallel pass over {@code data} on the shared product team: the sum of all of it as floats. Public for
     * benchmarks that set the matrix products' streaming beside a bare read of the same bytes.
     */
    public static float read(MemorySegment data) {
        long size = data.byteSize();
        int chunks = Math.toIntExact((size + CHUNK_BYTES - 1) / CHUNK_BYTES);
        ProductTeam team = ProductTeam.shared();
        double[] partial = new double[team.threads()];
        // One "row" per chunk, weighing its floats: the team hands out a few chunks at a time.
        team.run(new int[] {chunks}, new int[] {CHUNK_BYTES / Float.BYTES}, (item, from, to, thread) -> {
            for (int c = from; c < to; c++) {
                partial[thread] += sum(data, (long) c * CHUNK_BYTES, Math.min(size, (long) (c + 1) * CHUNK_BYTES));
            }
        });
        double s = 0;
        for (double p : partial) {
            s += p;
        }
        return (float) s;
    }

    /** The float sum of {@code data[from, to)}; both ends are whole blocks. */
    private static float sum(MemorySegment data, long from, long to) {
        int v = F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (long o = from; o < to; o += BLOCK) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, data, o, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(F, data, o + v, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(F, data, o + 2L * v, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(F, data, o + 3L * v, LE));
        }
        float s = 0;
        for (float lane : a0.add(a1).add(a2.add(a3)).toArray()) {
            s += lane;
        }
        return s;
    }
}
