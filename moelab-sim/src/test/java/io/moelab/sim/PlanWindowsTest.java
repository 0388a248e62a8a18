package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.util.ArrayList;
import java.util.List;
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
}
