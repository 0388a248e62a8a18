package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The bundled workloads: the stage-1 cases are what their names say, their loads drawn as described (whole
 * numbers from a log-normal distribution of median 100 and log-spread 1.2, some experts idle), and the default
 * suite is what the task describes.
 */
class EplbWorkloadsTest {
    /** Made anew for each test: a class-wide copy hid changes to the generator from mutation testing. */
    private final List<EplbWorkloads.Case> cases = EplbWorkloads.stageOneCases();

    private static int named(String name, String regex, int otherwise) {
        Matcher m = Pattern.compile(regex).matcher(name);
        return m.find() ? Integer.parseInt(m.group(1)) : otherwise;
    }

    @Test
    void eachCasesShapeIsTheOneItsNameGives() {
        assertThat(cases).hasSize(8);
        for (EplbWorkloads.Case c : cases) {
            String n = c.name();
            for (LoadMatrix m : List.of(c.first(), c.second())) {
                assertThat(m.layers()).as(n).isEqualTo(named(n, "^(\\d+) layers?", -1));
                assertThat(m.experts()).as(n).isEqualTo(named(n, "(\\d+) experts", -1));
            }
            assertThat(c.topology().replicas()).as(n).isEqualTo(named(n, "R=(\\d+)", -1));
            assertThat(c.topology().groups()).as(n).isEqualTo(named(n, "G=(\\d+)", c.topology().groups()));
            assertThat(c.topology().nodes()).as(n).isEqualTo(named(n, "(\\d+) nodes", c.topology().nodes()));
            int gpusPerNode = named(n, "nodes x (\\d+) GPUs", -1);
            assertThat(c.topology().gpus()).as(n).isEqualTo(gpusPerNode > 0 ? gpusPerNode * c.topology().nodes()
                    : named(n, "on (\\d+) GPUs", c.topology().gpus()));
        }
    }

    @Test
    void idleAndEqualCasesAreSo() {
        EplbWorkloads.Case zero = cases.get(4);
        EplbWorkloads.Case equal = cases.get(5);
        EplbWorkloads.Case halfIdle = cases.get(3);
        assertThat(zero.name()).contains("layer 0 all zero");
        for (LoadMatrix m : List.of(zero.first(), zero.second())) {
            assertThat(m.layerTotal(0)).isZero();
            assertThat(m.layerTotal(1)).isPositive();
        }
        assertThat(equal.name()).contains("equal loads");
        for (LoadMatrix m : List.of(equal.first(), equal.second())) {
            for (int l = 0; l < m.layers(); l++) {
                for (int e = 0; e < m.experts(); e++) {
                    assertThat(m.load(l, e)).isEqualTo(100.0);
                }
            }
        }
        assertThat(halfIdle.name()).contains("half of them idle");
        // 128 experts in all, each idle with chance 1/2: 64 +- 4 standard deviations of 5.7.
        assertThat(idle(halfIdle)).isBetween(41, 87);
        // The others leave an expert idle with chance 0.2 or 0.1 (and layer 1 of the all-zero case 0.2).
        for (int i : new int[] {0, 1, 2, 6, 7}) {
            int all = 2 * cases.get(i).first().layers() * cases.get(i).first().experts();
            assertThat(idle(cases.get(i))).as(cases.get(i).name()).isLessThan(all * 2 / 5 + 2);
        }
        assertThat(idle(cases.get(0)) + idle(cases.get(1)) + idle(cases.get(2))).as("some idle at 0.2")
                .isPositive();
    }

    @Test
    void loadsAreWholeNumbersOfALogNormalOfMedian100() {
        List<Double> logs = new ArrayList<>();
        for (int i : new int[] {0, 1, 2, 3, 4, 6, 7}) {
            for (LoadMatrix m : List.of(cases.get(i).first(), cases.get(i).second())) {
                for (int l = 0; l < m.layers(); l++) {
                    for (int e = 0; e < m.experts(); e++) {
                        double load = m.load(l, e);
                        assertThat(load).isEqualTo(Math.rint(load)).isNotNegative();
                        if (load > 0) {
                            logs.add(Math.log(load / 100));
                        }
                    }
                }
            }
        }
        // About 750 draws of N(0, 1.2) (rounding moves a log by less than 1/load): the mean within 0.2 of 0
        // (4.6 standard errors), the spread within 10%.
        assertThat(logs.size()).isGreaterThan(600);
        double mean = logs.stream().mapToDouble(x -> x).average().orElseThrow();
        double variance = logs.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / (logs.size() - 1);
        assertThat(mean).isBetween(-0.2, 0.2);
        assertThat(Math.sqrt(variance)).isBetween(1.08, 1.32);
    }

    /**
     * The default suite is what the task's system message describes: 26 x 64 and 58 x 256 synthetic traces and
     * real DeepSeek-V3 loads, R=288, timed on the 58 x 256 prefill shape of 32 GPUs.
     */
    @Test
    void theDefaultSuitesWorkloadsHaveTheDescribedShapes() {
        EplbWorkloads.Suite suite = EplbWorkloads.suite("default");
        List<EplbWorkloads.Workload> workloads = suite.workloads().stream().map(w -> w.get()).toList();
        assertThat(workloads).extracting(EplbWorkloads.Workload::key)
                .containsExactly("adrs", "dsv3_decode", "real_dsv3_prefill");
        // Windows of 50 steps: 600 and 300 steps; the real loads are two windows, planned on one, scored on the other.
        int[][] shapes = {{26, 64, 12}, {58, 256, 6}, {58, 256, 2}};
        for (int w = 0; w < 3; w++) {
            EplbWorkloads.Workload workload = workloads.get(w);
            assertThat(workload.windows()).as(workload.key()).hasSize(shapes[w][2]);
            for (LoadMatrix m : workload.windows()) {
                assertThat(m.layers()).as(workload.key()).isEqualTo(shapes[w][0]);
                assertThat(m.experts()).as(workload.key()).isEqualTo(shapes[w][1]);
                assertThat(m.layerTotal(0)).as(workload.key()).isPositive();
            }
        }
        assertThat(workloads.get(0).topology()).isEqualTo(new io.moelab.eplb.Topology(288, 8, 4, 32));
        assertThat(workloads.get(1).topology()).isEqualTo(new io.moelab.eplb.Topology(288, 8, 18, 144));
        assertThat(workloads.get(2).topology()).isEqualTo(new io.moelab.eplb.Topology(288, 8, 4, 32));
        assertThat(workloads.get(2).windows().get(0)).isNotEqualTo(workloads.get(2).windows().get(1));
        assertThat(suite.timingWorkload()).isEqualTo(2);
        assertThat(List.of(suite.warmupMillis(), (long) suite.minTimedCalls(), (long) suite.maxTimedCalls(),
                suite.timingMillis())).containsExactly(300L, 5L, 200L, 1500L);
    }

    /** Idle experts over both matrices of a case. */
    private static int idle(EplbWorkloads.Case c) {
        int n = 0;
        for (LoadMatrix m : List.of(c.first(), c.second())) {
            for (int l = 0; l < m.layers(); l++) {
                for (int e = 0; e < m.experts(); e++) {
                    n += m.load(l, e) == 0 ? 1 : 0;
                }
            }
        }
        return n;
    }
}
