package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.List;

/**
 * A time series of expert load: for each step (a forward pass, or any recording interval), the tokens routed
 * to each logical expert of each MoE layer. Immutable; every step has the same shape.
 */
public final class ExpertLoadTrace {
    private final List<LoadMatrix> steps;

    private ExpertLoadTrace(List<LoadMatrix> steps) {
        this.steps = steps;
    }

    /**
     * A trace of the given steps, oldest first.
     *
     * @throws InvalidInputException if there are no steps or their shapes differ
     */
    public static ExpertLoadTrace of(List<LoadMatrix> steps) {
        if (steps.isEmpty()) {
            throw new InvalidInputException("trace", "has no steps");
        }
        LoadMatrix first = steps.getFirst();
        for (int i = 1; i < steps.size(); i++) {
            steps.get(i).requireShape(first.layers(), first.experts(), "step " + i);
        }
        return new ExpertLoadTrace(List.copyOf(steps));
    }

    /** Concatenates traces of equal shape, e.g. one-step recordings of successive workloads. */
    public static ExpertLoadTrace concat(List<ExpertLoadTrace> traces) {
        List<LoadMatrix> all = new ArrayList<>();
        for (ExpertLoadTrace t : traces) {
            all.addAll(t.steps);
        }
        return of(all);
    }

    /** Number of steps. */
    public int steps() {
        return steps.size();
    }

    /** MoE layers per step. */
    public int layers() {
        return steps.getFirst().layers();
    }

    /** Logical experts per layer. */
    public int experts() {
        return steps.getFirst().experts();
    }

    /** The load of one step. */
    public LoadMatrix step(int index) {
        return steps.get(index);
    }

    /** Every step, oldest first. */
    public List<LoadMatrix> stepList() {
        return steps;
    }

    /** The summed load of steps {@code [from, to)}. */
    public LoadMatrix sum(int from, int to) {
        return LoadMatrix.sum(steps.subList(from, to));
    }

    /**
     * Consecutive windows of {@code window} steps, each summed; a trailing partial window is dropped so that
     * every window weighs the same.
     *
     * @throws InvalidInputException naming {@code window} if it is not positive
     */
    public List<LoadMatrix> windows(int window) {
        if (window <= 0) {
            throw new InvalidInputException("window", "must be at least 1 step, got " + window);
        }
        List<LoadMatrix> windows = new ArrayList<>();
        for (int start = 0; start + window <= steps.size(); start += window) {
            windows.add(sum(start, start + window));
        }
        return windows;
    }

    @Override
    public String toString() {
        return "ExpertLoadTrace[" + steps() + " steps, " + layers() + " layers x " + experts() + " experts]";
    }
}
