package io.moelab.cli.runtime;

import io.moelab.cli.support.Heap;
import io.moelab.eplb.InvalidInputException;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.ModelConfig;
import java.util.Locale;

/**
 * Refuses, as bad input naming the option, a KV cache that the options ask for but that cannot exist: more
 * positions than a cache of the model holds, or more bytes than the heap. Without this a large {@code --max-tokens}
 * or {@code --context} ended in an internal error or in running out of memory.
 */
final class KvCacheSize {
    private KvCacheSize() {
    }

    /**
     * @param option    the option to name in the error
     * @param config    the model's configuration
     * @param positions positions the cache must hold
     * @param what      what needs them, e.g. "a prompt of 3 tokens plus 100 new ones"
     */
    static void require(String option, ModelConfig config, long positions, String what) {
        int most = KvCache.maxPositions(config);
        if (positions > most) {
            // The sliding window, where it is the limit, is the model's, not a size the user could change.
            String why = most == config.window() ? " (its config.json's sliding_window, past which transformers "
                    + "hides the oldest keys and moelab does not)" : "";
            throw new InvalidInputException(option, String.format(Locale.ROOT,
                    "%s needs a KV cache of %d positions; this model's holds at most %d%s", what, positions, most,
                    why));
        }
        Heap.require(option, KvCache.bytes(config, positions), String.format(Locale.ROOT,
                "%s needs a KV cache of %d positions, which", what, positions), "fewer");
    }
}
