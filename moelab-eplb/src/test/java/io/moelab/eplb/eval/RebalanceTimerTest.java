package io.moelab.eplb.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RebalanceTimerTest {
    private static final BalancingRequest REQUEST = BalancingRequest.of(
            LoadMatrix.of(new double[][] {{4, 3, 2, 1}}, "weight"), new Topology(4, 1, 1, 2));

    /** The static balancer, counting its calls. */
    private static final class Counting implements BalancerAlgorithm {
        final AtomicInteger calls = new AtomicInteger();
        final BalancerAlgorithm inner = Algorithms.byName("static");
        final String name;

        Counting(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String description() {
            return "counts calls";
        }

        @Override
        public Placement rebalance(BalancingRequest request) {
            calls.incrementAndGet();
            return inner.rebalance(request);
        }
    }

    @Test
    void phasesAreToldBetweenTheTimedTurns() {
        Counting a = new Counting("a");
        Counting b = new Counting("b");
        List<String> phases = new java.util.ArrayList<>();
        // Told before each phase begins: no call has been made by the time the first is told.
        RebalanceTimer.time(List.of(a, b), REQUEST, 1, 1, 2, p -> {
            phases.add(p);
            if (phases.size() == 1) {
                assertThat(a.calls.get() + b.calls.get()).isZero();
            }
        });
        assertThat(phases).containsExactly("warming up a", "warming up b", "round 1 of 2", "round 2 of 2");
        phases.clear();
        RebalanceTimer.time(List.of(a), REQUEST, 0, 1, 1, phases::add);
        assertThat(phases).containsExactly("round 1 of 1");
    }

    @Test
    void everyAlgorithmIsTimedInEveryRoundAfterItsWarmUp() {
        Counting a = new Counting("a");
        Counting b = new Counting("b");
        List<RebalanceTimer.Result> results = RebalanceTimer.time(List.of(a, b), REQUEST, 0, 1, 3);
        assertThat(results).extracting(RebalanceTimer.Result::algorithm).containsExactly("a", "b");
        for (int i = 0; i < 2; i++) {
            RebalanceTimer.Result r = results.get(i);
            Counting c = i == 0 ? a : b;
            // At least one timed call a round, and the warm-up's one call on top of the timed ones.
            assertThat(r.samples()).isGreaterThanOrEqualTo(3);
            assertThat(c.calls.get()).isEqualTo(r.samples() + 1);
            assertThat(r.medianMicros()).isPositive().isLessThanOrEqualTo(r.p90Micros());
        }
    }

    @Test
    void settingsOutOfRangeAreBadInputNotClamped() {
        List<BalancerAlgorithm> one = List.of(Algorithms.byName("static"));
        assertThatThrownBy(() -> RebalanceTimer.time(one, REQUEST, 0, 1, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage("rounds: must be at least 1, got 0");
        assertThatThrownBy(() -> RebalanceTimer.time(one, REQUEST, -1, 1, 1))
                .hasMessage("warmup-ms: must be 0 to 3600000 ms, got -1");
        assertThatThrownBy(() -> RebalanceTimer.time(one, REQUEST, 0, 0, 1))
                .hasMessage("round-ms: must be 1 to 3600000 ms, got 0");
        // Past an hour the nanosecond deadline would overflow for large values; refused, not wrapped around.
        assertThatThrownBy(() -> RebalanceTimer.time(one, REQUEST, Long.MAX_VALUE, 1, 1))
                .hasMessageStartingWith("warmup-ms: must be 0 to 3600000 ms");
    }

    /**
     * The samples are the calls' own durations in microseconds: none exceeds the whole timing run that made them (a
     * bound that holds on any machine, not a speed).
     */
    @Test
    void samplesLieWithinTheRun() {
        Counting a = new Counting("a");
        long start = System.nanoTime();
        RebalanceTimer.Result r = RebalanceTimer.time(List.of(a), REQUEST, 0, 2, 2).getFirst();
        double elapsedMicros = (System.nanoTime() - start) / 1e3;
        assertThat(r.medianMicros()).isPositive().isLessThanOrEqualTo(r.p90Micros());
        assertThat(r.p90Micros()).isLessThanOrEqualTo(elapsedMicros);
    }
}
