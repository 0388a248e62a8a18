package io.moelab.bench;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times two (or more) builds of moelab-eplb side by side in one JVM: each build gets its own class loader, and
 * one rebalance of every layer runs in alternating 20 ms slices per (shape, algorithm, build), so a noisy
 * neighbour slows all builds alike. Prints the median, 10th percentile and minimum time per rebalance, and each
 * build's time as a ratio to the first build's: per round of slices (the builds of one shape and algorithm one after
 * another, their order rotating from round to round), so both sides of a ratio ran within a few tens of
 * milliseconds; the median and quartiles of those ratios. On a host whose speed swings by 1.5x within a minute
 * (other tenants' load), the medians of separate runs can rank builds either way; the paired ratio is the figure
 * to read.
 *
 * <p>Give the JVM {@code -Xms3g -XX:+AlwaysPreTouch}. Without them G1 keeps growing its young generation into heap
 * pages never touched for the first seconds of a run, and the kernel's page faults under the rebalances' allocations
 * (150 KB each on DeepSeek-V3) lasted past 50 warm-up and 150 timed slices: hierarchical DeepSeek-V3 prefill medians
 * of 466-475 µs against 309-318 pre-touched (2026-12-05). Ratios between builds in one JVM suffer less, as every
 * build meets the faults, but not equally. JMH's forks reach a steady heap within their warm-up (a young collection
 * every second, eden no longer growing).
 *
 * <p>Usage: {@code EplbSideBySide CLASSES[,CLASSES...] SHAPES ALGORITHMS SLICES} (each CLASSES a classes directory
 * or a jar of moelab-eplb), e.g.
 * {@code /tmp/base/moelab-eplb/target/classes,moelab-eplb/target/classes dsv3-prefill,adrs moelab:global 60}.
 * Only moelab-eplb's public API is called, so any build since issue 3 works; the loaders fall back to this
 * program's own class path (Jackson) for everything a build directory does not hold.
 */
public final class EplbSideBySide {
    private static final long SLICE_NS = 20_000_000L;
    private static final int WARMUP_SLICES = 50;
    private static volatile Object sink;

    private EplbSideBySide() {
    }

    /**
     * Runs the comparison; see the class comment for the arguments.
     *
     * @param args the arguments of the class comment
     * @throws Throwable what the build's code throws, passed on unwrapped through its method handles
     */
    public static void main(String[] args) throws Throwable {
        if (args.length != 4) {
            System.err.println("usage: EplbSideBySide CLASSES[,CLASSES...] SHAPES ALGORITHMS SLICES");
            System.exit(2);
        }
        String[] builds = args[0].split(",");
        int slices = Integer.parseInt(args[3]);
        List<String> labels = new ArrayList<>();
        List<MethodHandle> runs = new ArrayList<>();
        for (String shape : args[1].split(",")) {
            for (String algorithm : args[2].split(",")) {
                for (String build : builds) {
                    ClassLoader loader = BuildLoader.of(build, EplbSideBySide.class);
                    labels.add(String.format(Locale.ROOT, "%-14s %-22s %s", shape, algorithm, build));
                    runs.add(rebalance(loader, shape, algorithm));
                }
            }
        }
        int perGroup = builds.length;
        double[][] micros = new double[runs.size()][slices];
        for (int slice = -WARMUP_SLICES; slice < slices; slice++) {
            for (int group = 0; group < runs.size(); group += perGroup) {
                for (int q = 0; q < perGroup; q++) {
                    // Rotating order: no build always runs right after another shape's or right before the next one.
                    int k = group + (q + Math.floorMod(slice, perGroup)) % perGroup;
                    double us = timeSlice(runs.get(k));
                    if (slice >= 0) {
                        micros[k][slice] = us;
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "us per rebalance over %d slices of 20 ms each (after %d warm-up slices); "
                + "ratio: per round of slices, to the first build's time, median (quartiles)%n", slices, WARMUP_SLICES);
        for (int k = 0; k < runs.size(); k++) {
            double[] sorted = micros[k].clone();
            Arrays.sort(sorted);
            double[] ratio = new double[slices];
            int base = k - k % perGroup;
            for (int slice = 0; slice < slices; slice++) {
                ratio[slice] = micros[k][slice] / micros[base][slice];
            }
            Arrays.sort(ratio);
            System.out.printf(Locale.ROOT, "%s  median %7.1f  p10 %7.1f  min %7.1f  ratio %.3f (%.3f-%.3f)%n",
                    labels.get(k), sorted[slices / 2], sorted[slices / 10], sorted[0], ratio[slices / 2],
                    ratio[slices / 4], ratio[3 * slices / 4]);
        }
    }

    /** Runs {@code run} for one slice; returns the µs per call. */
    private static double timeSlice(MethodHandle run) throws Throwable {
        int calls = 0;
        long start = System.nanoTime();
        long now;
        do {
            sink = run.invoke();
            calls++;
        } while ((now = System.nanoTime()) - start < SLICE_NS);
        return (now - start) / 1e3 / calls;
    }

    /** A handle that runs one rebalance of the shape's load with the algorithm, all from {@code loader}. */
    private static MethodHandle rebalance(ClassLoader loader, String shape, String algorithm) throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        Class<?> shapes = loader.loadClass("io.moelab.eplb.eval.BenchmarkShape");
        Class<?> loadMatrix = loader.loadClass("io.moelab.eplb.LoadMatrix");
        Class<?> topology = loader.loadClass("io.moelab.eplb.Topology");
        Class<?> request = loader.loadClass("io.moelab.eplb.algorithm.BalancingRequest");
        Class<?> algorithms = loader.loadClass("io.moelab.eplb.algorithm.Algorithms");
        Class<?> balancer = loader.loadClass("io.moelab.eplb.algorithm.BalancerAlgorithm");
        Class<?> placement = loader.loadClass("io.moelab.eplb.Placement");
        Object s = lookup.findStatic(shapes, "parse", MethodType.methodType(shapes, String.class)).invoke(shape);
        Object load = lookup.findVirtual(shapes, "load", MethodType.methodType(loadMatrix)).invoke(s);
        Object cluster = lookup.findVirtual(shapes, "topology", MethodType.methodType(topology)).invoke(s);
        Object req = lookup.findStatic(request, "of", MethodType.methodType(request, loadMatrix, topology))
                .invoke(load, cluster);
        Object b = lookup.findStatic(algorithms, "byName", MethodType.methodType(balancer, String.class))
                .invoke(algorithm);
        return lookup.findVirtual(balancer, "rebalance", MethodType.methodType(placement, request))
                .bindTo(b).bindTo(req).asType(MethodType.methodType(Object.class));
    }
}
