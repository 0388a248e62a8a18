package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.DeepSeekBalancer;
import io.moelab.eplb.trace.BuiltinTraces;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The initial program, compiled in-process, reproduces DeepSeekBalancer exactly. */
class InitialProgramTest {
    @TempDir
    static Path dir;
    private static URLClassLoader loader;
    private static BalancerAlgorithm initial;
    private final BalancerAlgorithm reference = new DeepSeekBalancer();

    @BeforeAll
    static void compile() throws Exception {
        Path classes = dir.resolve("classes");
        assertThat(CandidateCompiler.compile(EplbTask.initialProgram(), EplbTask.classpath(), classes)).isTrue();
        assertThat(CandidateCompiler.compile(EplbTask.initialProgram(), EplbTask.classpath(), classes))
                .as("second compile of the same source is cached").isFalse();
        loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, InitialProgramTest.class.getClassLoader());
        initial = (BalancerAlgorithm) Class.forName("EvolvedBalancer", true, loader).getConstructor().newInstance();
    }

    @AfterAll
    static void close() throws Exception {
        loader.close();
    }

    @Test
    void identicalToDeepSeekOnRandomCases() {
        Random random = new Random(7);
        int hierarchical = 0;
        int global = 0;
        for (int i = 0; i < 80; i++) {
            Topology topology;
            int experts;
            while (true) {
                int nodes = 1 + random.nextInt(4);
                int gpus = nodes * (1 + random.nextInt(4));
                int replicas = gpus * (1 + random.nextInt(5));
                int groups = 1 + random.nextInt(8);
                experts = 1 + random.nextInt(replicas);
                boolean hier = groups % nodes == 0;
                if (hier) {
                    experts = Math.max(groups, experts / groups * groups);
                }
                if (experts <= replicas) {
                    topology = new Topology(replicas, groups, nodes, gpus);
                    break;
                }
            }
            if (topology.groupsDivideNodes() && topology.nodes() > 1) {
                hierarchical++;
            } else if (!topology.groupsDivideNodes()) {
                global++;
            }
            LoadMatrix load = randomLoad(random, 1 + random.nextInt(4), experts, i % 5);
            assertSame(BalancingRequest.of(load, topology), "case " + i);
        }
        assertThat(hierarchical).isGreaterThanOrEqualTo(10);
        assertThat(global).isGreaterThanOrEqualTo(10);
    }

    @Test
    void identicalToDeepSeekOnRealLoads() {
        LoadMatrix prefill = BuiltinTraces.read("deepseek-v3/prefill_in4096").step(0);
        assertSame(BalancingRequest.of(prefill, EplbWorkloads.PREFILL), "prefill");
        LoadMatrix decode = BuiltinTraces.read("deepseek-v3/decode_in1000out1000").step(0);
        assertSame(BalancingRequest.of(decode, EplbWorkloads.DECODE), "decode");
    }

    @Test
    void identicalToDeepSeekOnStageOneCases() {
        for (EplbWorkloads.Case c : EplbWorkloads.stageOneCases()) {
            assertSame(BalancingRequest.of(c.first(), c.topology()), c.name());
        }
    }

    private void assertSame(BalancingRequest request, String what) {
        Placement expected = reference.rebalance(request);
        Placement actual = initial.rebalance(request);
        assertThat(actual).as(what + " " + request.topology() + " E=" + request.weight().experts())
                .isEqualTo(expected);
    }

    /**
     * Loads of one of five kinds: skewed integers with zeros, few distinct values (many ties), fractional values
     * that round in float32, huge values whose float32 sums lose digits, and an all-zero first layer.
     */
    private static LoadMatrix randomLoad(Random random, int layers, int experts, int kind) {
        double[][] rows = new double[layers][experts];
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < experts; e++) {
                rows[l][e] = switch (kind) {
                    case 0 -> random.nextDouble() < 0.25 ? 0 : Math.rint(Math.exp(random.nextGaussian()) * 50);
                    case 1 -> random.nextInt(4) * 10;
                    case 2 -> random.nextDouble() * 1000;
                    case 3 -> 1e9 + random.nextInt(64);
                    default -> l == 0 ? 0 : random.nextInt(1000);
                };
            }
        }
        return LoadMatrix.of(rows, "weight");
    }
}
