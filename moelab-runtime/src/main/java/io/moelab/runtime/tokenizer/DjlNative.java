package io.moelab.runtime.tokenizer;

import java.nio.file.Path;

/**
 * Settles, before DJL is first touched, where DJL extracts its Hugging Face tokenizers native library and that it
 * never downloads one.
 *
 * <p>DJL's {@code ai.djl.huggingface.tokenizers.jni.LibUtils} (0.35.1) loads {@code libtokenizers} from, in order:
 * {@code RUST_LIBRARY_PATH} (env or system property) if set; a copy already in
 * {@code <cache>/tokenizers/<version>-<flavor>-<os-arch>/}; the copy bundled in the tokenizers jar under
 * {@code native/lib/<os-arch>/<flavor>/}, extracted into that cache; and, only for a CUDA flavor ({@code cu...}),
 * a download from {@code publish.djl.ai}. The flavor is {@code RUST_FLAVOR} if set, {@code cpu} in DJL's offline
 * mode, else the detected platform's (a CUDA flavor on a machine with a supported GPU). The jar bundles only
 * {@code cpu} builds, so forcing {@code cpu} means the bundled library or an error, never the network.
 * {@code <cache>} is {@code ENGINE_CACHE_DIR}, else {@code DJL_CACHE_DIR}, else {@code ~/.djl.ai}; environment
 * variables win over system properties.
 */
public final class DjlNative {
    private static boolean prepared;

    private DjlNative() {}

    /**
     * Sets, unless the user already chose them: {@code DJL_CACHE_DIR} to {@code $XDG_CACHE_HOME/moelab/djl} (or
     * {@code ~/.cache/moelab/djl}), {@code ai.djl.offline=true} and {@code RUST_FLAVOR=cpu}.
     *
     * @return null when DJL will not download anything; otherwise why it might
     */
    static synchronized String prepare() {
        if (!prepared) {
            useCacheAndOffline();
            if (unset("RUST_FLAVOR")) {
                System.setProperty("RUST_FLAVOR", "cpu");
            }
            prepared = true;
        }
        String flavor = value("RUST_FLAVOR");
        if (!"cpu".equals(flavor) && unset("RUST_LIBRARY_PATH")) {
            return "RUST_FLAVOR=" + flavor + " would make DJL download its tokenizers library;"
                    + " unset it or set RUST_LIBRARY_PATH to a local libtokenizers";
        }
        return null;
    }

    /**
     * Sets, unless the user already chose them, {@code DJL_CACHE_DIR} to {@link #defaultCacheDir()} and
     * {@code ai.djl.offline=true}: what every DJL engine moelab loads (tokenizers, PyTorch) needs before DJL is
     * first touched.
     */
    public static synchronized void useCacheAndOffline() {
        if (unset("DJL_CACHE_DIR") && unset("ENGINE_CACHE_DIR")) {
            System.setProperty("DJL_CACHE_DIR", defaultCacheDir().toString());
        }
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    /** Where moelab has DJL extract its native libraries unless told otherwise. */
    public static Path defaultCacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("moelab").resolve("djl");
    }

    /** Like DJL's {@code Utils.getEnvOrSystemProperty}: the environment variable first, then the property. */
    static String value(String key) {
        String v = System.getenv(key);
        return v != null ? v : System.getProperty(key);
    }

    private static boolean unset(String key) {
        String v = value(key);
        return v == null || v.isEmpty();
    }
}
