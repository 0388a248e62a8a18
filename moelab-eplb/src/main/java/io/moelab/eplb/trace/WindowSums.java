package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.List;

/**
 * Sums steps into consecutive windows as they arrive, holding the windows and the window being summed but no
 * step: memory grows with windows x layers x experts, not with steps. The windows are
 * {@link ExpertLoadTrace#windows(int)}'s to the bit (the same additions in the same order), a trailing partial
 * window dropped; the steps are counted for messages.
 */
public final class WindowSums implements StepSink {
    private final int window;
    private final List<LoadMatrix> windows = new ArrayList<>();
    private LoadMatrix.Sum current;
    private int layers;
    private int experts;
    private long steps;

    /**
     * Windows of {@code window} steps.
     *
     * @throws InvalidInputException naming {@code window} if it is not positive
     */
    public WindowSums(int window) {
        if (window <= 0) {
            throw new InvalidInputException("window", "must be at least 1 step, got " + window);
        }
        this.window = window;
    }

    /** The windows of a trace held whole: equal to {@code trace.windows(window)}, with its step count. */
    public static WindowSums of(ExpertLoadTrace trace, int window) {
        WindowSums sums = new WindowSums(window);
        trace.stepList().forEach(sums::accept);
        return sums;
    }

    /**
     * Adds the next step.
     *
     * @throws InvalidInputException naming the step (counted from 0 over every step given) if its shape differs
     *                               from the first's, as {@link ExpertLoadTrace#of} does
     */
    @Override
    public void accept(LoadMatrix step) {
        if (current == null) {
            layers = step.layers();
            experts = step.experts();
            current = new LoadMatrix.Sum(layers, experts);
        } else {
            step.requireShape(layers, experts, "step " + steps);
        }
        current.add(step);
        steps++;
        if (current.added() == window) {
            windows.add(current.take());
        }
    }

    /** Steps per window. */
    public int window() {
        return window;
    }

    /** Steps given so far, a trailing partial window's included. */
    public long steps() {
        return steps;
    }

    /**
     * MoE layers per step.
     *
     * @throws IllegalStateException before the first step
     */
    public int layers() {
        requireSteps();
        return layers;
    }

    /**
     * Logical experts per layer.
     *
     * @throws IllegalStateException before the first step
     */
    public int experts() {
        requireSteps();
        return experts;
    }

    /** The complete windows so far, each summed, oldest first (a trailing partial window is left out). */
    public List<LoadMatrix> windows() {
        return List.copyOf(windows);
    }

    private void requireSteps() {
        if (current == null) {
            throw new IllegalStateException("no steps yet");
        }
    }

    @Override
    public String toString() {
        return "WindowSums[" + steps + " steps, " + windows.size() + " windows of " + window + "]";
    }
}
