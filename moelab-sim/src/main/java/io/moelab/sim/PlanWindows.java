package io.moelab.sim;

import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The window sums that rebalances before steps K, 2K, ... plan from, summed as the steps go past instead of from
 * a held trace. The rebalance before step t plans from steps {@code [max(0, t - W), t)} and, as history, the whole
 * W-step windows before them, at most H, oldest first. Each window is summed once, from zero and step by step in
 * order: the additions of {@link LoadMatrix#sum} over its steps, so the same bits as summing held steps. A window is
 * kept from its first step until the last rebalance that plans from it, so what is held is the windows that overlap
 * the last (H + 1) W steps and are still wanted, not steps.
 */
final class PlanWindows {
    private final int every;
    private final int window;
    private final int history;
    private final int end;
    private final int layers;
    private final int experts;
    /** The next rebalance whose windows are not yet registered. */
    private long next;
    private final Map<Long, Window> byRange = new HashMap<>();
    private final PriorityQueue<Window> waiting = new PriorityQueue<>((a, b) -> Integer.compare(a.from, b.from));
    private final List<Window> open = new ArrayList<>();
    private int seen;

    /**
     * Windows for the rebalances before steps {@code every}, {@code 2 every}, ... below {@code end}.
     *
     * @param every   K: steps between rebalances
     * @param window  W: steps of the latest window, and of each earlier one
     * @param history H: earlier windows at most
     * @param end     the first step no rebalance is planned before (the trace's length, or K + 1 for the first
     *                rebalance alone)
     */
    PlanWindows(int every, int window, int history, int end, int layers, int experts) {
        this.every = every;
        this.window = window;
        this.history = history;
        this.end = end;
        this.layers = layers;
        this.experts = experts;
        this.next = every;
    }

    /** Adds step {@code t}; steps come in order from 0. */
    void add(int t, LoadMatrix step) {
        if (t != seen) {
            throw new IllegalStateException("step " + t + " after " + seen + " steps");
        }
        seen++;
        // A rebalance's windows start no earlier than (H + 1) W steps before it: registered by then, each is summed
        // from its first step.
        while (next < end && next - (history + 1L) * window <= t) {
            for (Window w : windows((int) next)) {
                w.uses++;
            }
            next += every;
        }
        while (!waiting.isEmpty() && waiting.peek().from <= t) {
            Window w = waiting.poll();
            if (w.from < t) {
                throw new IllegalStateException("window [" + w.from + ", " + w.to + ") registered at step " + t);
            }
            w.sum = new LoadMatrix.Sum(layers, experts);
            open.add(w);
        }
        for (int i = open.size() - 1; i >= 0; i--) {
            Window w = open.get(i);
            w.sum.add(step);
            if (w.to == t + 1) {
                w.value = w.sum.take();
                w.sum = null;
                open.remove(i);
            }
        }
    }

    /**
     * The latest window of the rebalance before step {@code t}, then its history oldest first. Called once all steps
     * before {@code t} were added, and before {@link #done(int)}.
     */
    List<LoadMatrix> at(int t) {
        List<Window> windows = windows(t);
        List<LoadMatrix> sums = new ArrayList<>(windows.size());
        for (Window w : windows) {
            if (w.value == null) {
                throw new IllegalStateException("window [" + w.from + ", " + w.to + ") of step " + t + " not summed");
            }
            sums.add(w.value);
        }
        return sums;
    }

    /** Drops the windows no later rebalance plans from, once the rebalance before step {@code t} has planned. */
    void done(int t) {
        for (Window w : windows(t)) {
            if (--w.uses == 0) {
                byRange.remove(key(w.from, w.to));
            }
        }
    }

    /** Windows held now: registered for a rebalance that has not yet planned (summing, summed or not started). */
    int held() {
        return byRange.size();
    }

    /**
     * The windows of the rebalance before step {@code t}: the latest, then the history oldest first (only the whole
     * windows that start at step 0 or later: (j + 1) W <= t).
     */
    private List<Window> windows(int t) {
        List<Window> windows = new ArrayList<>();
        windows.add(window(Math.max(0, t - window), t));
        for (int j = Math.min(history, t / window - 1); j >= 1; j--) {
            int start = t - (j + 1) * window;
            windows.add(window(start, start + window));
        }
        return windows;
    }

    private Window window(int from, int to) {
        return byRange.computeIfAbsent(key(from, to), k -> {
            Window w = new Window(from, to);
            waiting.add(w);
            return w;
        });
    }

    private static long key(int from, int to) {
        return ((long) from << 32) | to;
    }

    /** One window: summing, summed, or waiting for its first step. */
    private static final class Window {
        final int from;
        final int to;
        int uses;
        LoadMatrix.Sum sum;
        LoadMatrix value;

        Window(int from, int to) {
            this.from = from;
            this.to = to;
        }
    }
}
