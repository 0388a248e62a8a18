package io.moelab.train.engine;

import ai.djl.engine.Engine;
import io.moelab.runtime.tokenizer.DjlNative;

/**
 * DJL's PyTorch engine, set up so that it never reaches the network: its native library comes from the
 * {@code pytorch-native-cpu} jar on the class path (DJL extracts it into a cache directory on first use) and DJL
 * runs in offline mode.
 */
public final class Pytorch {
    private static Engine engine;

    private Pytorch() {}

    /**
     * The engine. Before first touching DJL, sets (unless the user already did) {@code DJL_CACHE_DIR} to
     * {@code $XDG_CACHE_HOME/moelab/djl} (else {@code ~/.cache/moelab/djl}) and {@code ai.djl.offline=true}.
     *
     * @throws IllegalStateException if the engine cannot be loaded
     */
    public static synchronized Engine engine() {
        if (engine == null) {
            DjlNative.useCacheAndOffline();
            try {
                engine = Engine.getEngine("PyTorch");
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                throw new IllegalStateException("cannot load DJL's PyTorch engine: " + e.getMessage(), e);
            }
        }
        return engine;
    }
}
