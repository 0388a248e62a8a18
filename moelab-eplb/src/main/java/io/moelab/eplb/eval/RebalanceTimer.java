package io.moelab.eplb.eval;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Times rebalances in-process, side by side: each algorithm is warmed up, then the algorithms take turns in
 * rounds so that a noisy machine's slow spells hit them alike; samples from all rounds are pooled.
 */
public final class RebalanceTimer {

    /**
     * One algorithm's rebalance time.
     *
     * @param algorithm    display name
     * @param medianMicros median per rebalance, in microseconds
     * @param p90Micros    90th percentile
     * @param samples      timed rebalances
     */
    public record Result(String algorithm, double medianMicros, double p90Micros, int samples) {
    }

    private RebalanceTimer() {
    }

    /**
     * Times each algorithm on the same request.
     *
     * @param warmupMillis  wall-clock each algorithm runs untimed first, so the JIT has compiled it (0 to an hour)
     * @param roundMillis   wall-clock each algorithm runs per round (1 ms to an hour)
     * @param rounds        rounds of turns, at least one
     * @throws InvalidInputException naming the setting ({@code warmup-ms}, {@code round-ms}, {@code rounds}) that is
     *                               out of range: a silently clamped one would time something else than asked
     */
    public static List<Result> time(List<BalancerAlgorithm> algorithms, BalancingRequest request, long warmupMillis,
                                    long roundMillis, int rounds) {
        return time(algorithms, request, warmupMillis, roundMillis, rounds, phase -> { });
    }

    /**
     * Times each algorithm on the same request, telling {@code phases} what it starts next ("warming up NAME",
     * "round R of N"), between the timed turns only, so that showing them costs the measurement nothing.
     *
     * @throws InvalidInputException as {@link #time(List, BalancingRequest, long, long, int)}
     */
    public static List<Result> time(List<BalancerAlgorithm> algorithms, BalancingRequest request, long warmupMillis,
                                    long roundMillis, int rounds, Consumer<String> phases) {
        requireMillis("warmup-ms", warmupMillis, 0);
        requireMillis("round-ms", roundMillis, 1);
        if (rounds < 1) {
            throw new InvalidInputException("rounds", "must be at least 1, got " + rounds);
        }
        for (BalancerAlgorithm a : algorithms) {
            if (warmupMillis > 0) {
                phases.accept("warming up " + a.name());
            }
            long end = System.nanoTime() + warmupMillis * 1_000_000L;
            do {
                a.rebalance(request);
            } while (System.nanoTime() < end);
        }
        List<List<Double>> samples = new ArrayList<>();
        for (int i = 0; i < algorithms.size(); i++) {
            samples.add(new ArrayList<>());
        }
        for (int r = 0; r < rounds; r++) {
            phases.accept("round " + (r + 1) + " of " + rounds);
            for (int i = 0; i < algorithms.size(); i++) {
                BalancerAlgorithm a = algorithms.get(i);
                long end = System.nanoTime() + roundMillis * 1_000_000L;
                do {
                    long start = System.nanoTime();
                    a.rebalance(request);
                    samples.get(i).add((System.nanoTime() - start) / 1e3);
                } while (System.nanoTime() < end);
            }
        }
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < algorithms.size(); i++) {
            double[] micros = samples.get(i).stream().mapToDouble(Double::doubleValue).toArray();
            results.add(new Result(algorithms.get(i).name(), Stats.median(micros), Stats.quantile(micros, 0.9),
                    micros.length));
        }
        return results;
    }

    /** Most milliseconds a warm-up or a round may take: an hour, far below where nanoseconds overflow a long. */
    static final long MAX_MILLIS = 3_600_000L;

    /** Refuses a duration in milliseconds outside {@code [least, MAX_MILLIS]}, naming {@code field}. */
    static void requireMillis(String field, long millis, long least) {
        if (millis < least || millis > MAX_MILLIS) {
            throw new InvalidInputException(field, "must be " + least + " to " + MAX_MILLIS + " ms, got " + millis);
        }
    }
}
