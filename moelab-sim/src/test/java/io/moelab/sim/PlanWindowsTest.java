package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlanWindowsTest {

    /** Each rebalance's windows, summed as the steps go past, are the held steps' sums to the bit. */
    @Test
    void everyRebalanceGetsTheSumsOfItsWindowsFromTheHeldSteps() {
        ExpertLoadTrace trace = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(3, 16, 97, 4));
        List<LoadMatrix> steps = trace.stepList();
        int[][] settings = {{10, 10, 16}, {1, 1, 3}, {1, 7, 5}, {3, 20, Integer.MAX_VALUE}, {20, 3, 4}, {13, 13, 0},
            {96, 50, 16}, {97, 1, 1}, {5, 200, 16}};
        for (int[] s : settings) {
            int k = s[0];
            int w = s[1];
            int h = s[2];
            PlanWindows windows = new PlanWindows(k, w, h, steps.size(), 3, 16);
            int plans = 0;
            for (int t = 0; t < steps.size(); t++) {
                if (t > 0 && t % k == 0) {
                    List<LoadMatrix> expected = new ArrayList<>();
                    expected.add(LoadMatrix.sum(steps.subList(Math.max(0, t - w), t)));
                    for (int j = Math.min(h, t / w - 1); j >= 1; j--) {
                        int start = t - (j + 1) * w;
                        expected.add(LoadMatrix.sum(steps.subList(start, start + w)));
                    }
                    assertThat(windows.at(t)).as("K %d W %d H %d t %d", k, w, h, t).isEqualTo(expected);
                    windows.done(t);
                    plans++;
                }
                windows.add(t, steps.get(t));
            }
            assertThat(plans).isEqualTo((steps.size() - 1) / k);
        }
    }

    /**
     * What is held after each step is, by the class's rule, the distinct windows of the rebalances not yet planned
     * whose first window step is past ((H + 1) W steps before them): those that are done are let go, and none is
     * registered for a rebalance at the trace's end, which never plans.
     */
    @Test
    void theWindowsHeldAreThoseOfTheRebalancesStillToPlan() {
        int steps = 97;
        LoadMatrix step = LoadMatrix.of(new double[][] {{1, 2}}, "step");
        int[][] settings = {{10, 10, 16}, {1, 1, 3}, {1, 7, 5}, {3, 20, Integer.MAX_VALUE}, {20, 3, 4}, {13, 13, 0},
            {96, 50, 16}, {97, 1, 1}, {5, 200, 16}, {97, 97, 2}, {1, 97, 0}};
        for (int[] s : settings) {
            int k = s[0];
            int w = s[1];
            int h = s[2];
            PlanWindows windows = new PlanWindows(k, w, h, steps, 1, 2);
            for (int t = 0; t < steps; t++) {
                if (t > 0 && t % k == 0) {
                    windows.at(t);
                    windows.done(t);
                }
                windows.add(t, step);
                Set<List<Integer>> expected = new HashSet<>();
                for (long r = k; r < steps; r += k) {
                    if (r > t && r - (h + 1L) * w <= t) {
                        expected.addAll(ranges((int) r, w, h));
                    }
                }
                assertThat(windows.held()).as("K %d W %d H %d after step %d", k, w, h, t).isEqualTo(expected.size());
            }
        }
    }

    /** The windows of the rebalance before step {@code t}, by the rule the test above checks the sums of. */
    private static List<List<Integer>> ranges(int t, int w, int h) {
        List<List<Integer>> ranges = new ArrayList<>();
        ranges.add(List.of(Math.max(0, t - w), t));
        for (int j = Math.min(h, t / w - 1); j >= 1; j--) {
            ranges.add(List.of(t - (j + 1) * w, t - j * w));
        }
        return ranges;
    }
}
