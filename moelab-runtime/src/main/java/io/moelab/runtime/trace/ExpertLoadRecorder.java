package io.moelab.runtime.trace;

import io.moelab.runtime.model.ModelConfig;
import io.moelab.runtime.model.RoutingListener;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Counts, per step, how many tokens each expert of each MoE layer received: the expert-load statistics an EPLB
 * plans from. A step is a batch of tokens ({@link #endStep()} closes one). Dense layers are left out, as serving
 * systems record them. Steps are kept ({@link #steps()}), or handed on as they close to a consumer that writes them
 * (a trace of one token a step holds layers x experts counts per token, more than a heap holds for a long text). Not
 * thread-safe: it hears one model's tokens, which the model routes on its caller's thread.
 */
public final class ExpertLoadRecorder implements RoutingListener {
    private final int[] moeIndex;
    private final int moeLayers;
    private final int experts;
    private final List<long[][]> steps = new ArrayList<>();
    /** Null where closed steps are kept in {@link #steps}. */
    private final Consumer<long[][]> onStep;
    private long[][] current;
    private long tokensInStep;

    /** A recorder for a model's MoE layers that keeps every closed step. */
    public ExpertLoadRecorder(ModelConfig config) {
        this(config, null);
    }

    /**
     * A recorder for a model's MoE layers that hands each closed step, [moe layer][expert] token counts, to
     * {@code onStep} and keeps none ({@link #steps()} stays empty). The array is the consumer's: the recorder counts
     * the next step in a new one.
     *
     * @param onStep the consumer of closed steps, or null to keep them
     */
    public ExpertLoadRecorder(ModelConfig config, Consumer<long[][]> onStep) {
        this.onStep = onStep;
        this.moeIndex = new int[config.layers()];
        int n = 0;
        for (int l = 0; l < config.layers(); l++) {
            moeIndex[l] = config.isMoe(l) ? n++ : -1;
        }
        this.moeLayers = n;
        this.experts = config.experts();
        this.current = new long[moeLayers][experts];
    }

    @Override
    public void routed(int layer, int[] chosen) {
        int m = moeIndex[layer];
        for (int e : chosen) {
            current[m][e]++;
        }
        if (m == 0) {
            tokensInStep++;
        }
    }

    /** Closes the current step (ignored when it saw no token). */
    public void endStep() {
        if (tokensInStep > 0) {
            if (onStep == null) {
                steps.add(current);
            } else {
                onStep.accept(current);
            }
            current = new long[moeLayers][experts];
            tokensInStep = 0;
        }
    }

    /** Tokens routed in the step not yet closed. */
    public long tokensInStep() {
        return tokensInStep;
    }

    /**
     * Closed steps: [step][moe layer][expert] token counts (none where they are handed to a consumer). The list is a
     * copy, the arrays are the recorder's own (a trace holds thousands of steps, too many to copy on each call): they
     * no longer change, and callers must not change them.
     */
    public List<long[][]> steps() {
        return List.copyOf(steps);
    }

    /** MoE layers recorded. */
    public int moeLayers() {
        return moeLayers;
    }

    /** Each count's share of their total (all zeros when the total is zero). */
    public static double[] shares(long[] counts) {
        double total = 0;
        for (long c : counts) {
            total += c;
        }
        double[] s = new double[counts.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = total == 0 ? 0 : counts[i] / total;
        }
        return s;
    }
}
