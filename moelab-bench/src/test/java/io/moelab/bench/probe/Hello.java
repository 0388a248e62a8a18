package io.moelab.bench.probe;

/** For {@code BuildLoaderTest}: the harness's own copy of a class that a build also holds. */
public final class Hello {
    private Hello() {
    }

    /** Which copy this is. */
    public static String id() {
        return "harness";
    }
}
