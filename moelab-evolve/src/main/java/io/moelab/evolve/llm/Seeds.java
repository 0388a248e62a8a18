package io.moelab.evolve.llm;

/** SplitMix64 mixing: values that depend only on (seed, salt, iteration), never on call order. */
final class Seeds {
    static final long ENSEMBLE = 0x5EED_E45E_4B1EL;
    static final long SAMPLING = 0x5A3B_1E5EEDL;
    static final long JITTER = 0x1177_E125EEDL;

    private Seeds() {}

    /** The SplitMix64 finalizer. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A well-mixed 64-bit value for (seed, salt, a, b). */
    static long mix(long seed, long salt, long a, long b) {
        long z = mix64(seed + 0x9E3779B97F4A7C15L * (salt + 1));
        z = mix64(z + 0x9E3779B97F4A7C15L * (a + 1));
        return mix64(z + 0x9E3779B97F4A7C15L * (b + 1));
    }

    /** A uniform double in [0, 1) from a mixed value. */
    static double unit(long mixed) {
        return (mixed >>> 11) * 0x1.0p-53;
    }
}
