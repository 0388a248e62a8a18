package io.moelab.cli.runtime;

import io.moelab.cli.support.Heap;
import io.moelab.eplb.InvalidInputException;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.ModelConfig;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;

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

    /**
     * Warns on {@code err} where the positions a run uses go past the model's {@code max_position_embeddings}: RoPE
     * computes them, but at angles the model never saw in training, so its predictions there can be much worse, and
     * nothing else would say so (transformers' generate warns likewise). A warning, not an error: the run is still
     * what was asked for.
     *
     * @param positions positions the run feeds the model (0 to {@code positions - 1})
     * @param what      what needs them, e.g. "the longest window"
     */
    static void warnPastTrained(PrintWriter err, String option, ModelConfig config, long positions, String what) {
        if (positions > config.maxPositionEmbeddings()) {
            err.println(String.format(Locale.ROOT, "warning: %s needs %d positions, more than this model's "
                    + "max_position_embeddings %d (config.json): it was not trained on positions past that and may "
                    + "predict worse there (lower %s)", what, positions, config.maxPositionEmbeddings(), option));
            err.flush();
        }
    }

    /**
     * The window a command uses: {@code --context}'s value where the user gave it, else its default or the model's
     * {@code max_position_embeddings} where that is smaller, so that a default run stays within the positions the
     * model was trained on.
     */
    static int context(CommandSpec spec, int value, ModelConfig config) {
        return spec.commandLine().getParseResult().hasMatchedOption("--context") ? value
                : Math.min(value, config.maxPositionEmbeddings());
    }
}
