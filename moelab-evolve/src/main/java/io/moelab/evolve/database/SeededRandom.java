package io.moelab.evolve.database;

import java.util.List;

/**
 * SplitMix64: a tiny generator whose whole state is one long, so that it can be derived per iteration from
 * the run's seed and saved in checkpoints. Not thread-safe; make one per use.
 */
public final class SeededRandom {
    private long state;

    /** A generator starting at {@code seed}. */
    public SeededRandom(long seed) {
        this.state = seed;
    }

    /** The generator for one iteration of a run: independent of how many draws other iterations made. */
    public static SeededRandom forIteration(long seed, long iteration) {
        // Both hashed: a state of seed + iteration * gamma would make iteration i + 1 replay iteration i's stream
        // one draw later, so that consecutive iterations made correlated choices.
        long s = new SeededRandom(seed ^ 0x5DEECE66DL).nextLong();
        return new SeededRandom(s ^ new SeededRandom(iteration).nextLong());
    }

    /** The next 64 random bits. */
    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive: " + bound);
        }
        return (int) ((nextLong() >>> 1) % bound);
    }

    /** A uniformly chosen element. */
    public <T> T pick(List<T> items) {
        return items.get(nextInt(items.size()));
    }
}
