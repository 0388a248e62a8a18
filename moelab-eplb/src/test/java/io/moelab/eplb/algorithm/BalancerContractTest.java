package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The balancers' public contract for programs that build them directly rather than from a spec. */
class BalancerContractTest {

    private static MoelabBalancer.Settings settings(double hedge, double decay, int history, int swaps,
                                                    double tolerance) {
        return new MoelabBalancer.Settings(PlacementMode.AUTO, hedge, decay, history, swaps, true, tolerance, false);
    }

    @Test
    void settingsOutsideTheRangesASpecAcceptsAreRefusedNamingTheOption() {
        // hedge or decay infinite overflowed the planning loads and the packer recursed until StackOverflowError;
        // NaN or negative hedges, decays outside (0, 1] and NaN tolerances planned without a word.
        assertThatThrownBy(() -> settings(Double.POSITIVE_INFINITY, Double.NaN, 32, 64, 0.002))
                .isInstanceOf(InvalidInputException.class).hasMessage("hedge: must be in [0, 100], got Infinity");
        assertThatThrownBy(() -> settings(Double.NaN, Double.NaN, 32, 64, 0.002))
                .hasMessage("hedge: must be in [0, 100], got NaN");
        assertThatThrownBy(() -> settings(-1, Double.NaN, 32, 64, 0.002))
                .hasMessage("hedge: must be in [0, 100], got -1");
        assertThatThrownBy(() -> settings(1, 2, 32, 64, 0.002))
                .hasMessage("forecast: the decay must be NaN (chosen from the data) or in [0.000001, 1], got 2");
        assertThatThrownBy(() -> settings(1, 0, 32, 64, 0.002)).hasMessageStartingWith("forecast: ");
        assertThatThrownBy(() -> settings(1, Double.POSITIVE_INFINITY, 32, 64, 0.002))
                .hasMessageStartingWith("forecast: ");
        assertThatThrownBy(() -> settings(1, Double.NaN, -3, 64, 0.002))
                .hasMessage("history: must be in [0, 1000000], got -3");
        assertThatThrownBy(() -> settings(1, Double.NaN, 32, -3, 0.002))
                .hasMessage("swaps: must be in [0, 1000000], got -3");
        assertThatThrownBy(() -> settings(1, Double.NaN, 32, 64, Double.NaN))
                .hasMessage("tolerance: must be in [0, 1], got NaN");
        assertThatThrownBy(() -> settings(1, Double.NaN, 32, 64, 1.5)).hasMessageStartingWith("tolerance: ");
        assertThatThrownBy(() -> new MoelabBalancer.Settings(null, 1, Double.NaN, 32, 64, true, 0, false))
                .isInstanceOf(NullPointerException.class).hasMessage("mode");
        // The bounds themselves are settings, as in a spec.
        MoelabBalancer.Settings edge = settings(100, 1e-6, 1_000_000, 1_000_000, 1);
        assertThat(edge.hedge()).isEqualTo(100);
        assertThat(settings(0, 1, 0, 0, 0).decay()).isEqualTo(1);
        assertThat(MoelabBalancer.Settings.defaults().decay()).isNaN();
        // And a spec's errors are still its own, naming the algorithm option.
        assertThatThrownBy(() -> Algorithms.byName("moelab:hedge=101"))
                .hasMessage("algorithm: option hedge=101 of moelab must be a number in [0, 100]");
    }

    @Test
    void aValidHedgePlansAsBefore() {
        Topology topology = new Topology(8, 1, 1, 4);
        LoadMatrix w = LoadMatrix.of(new double[][] {{5, 1, 1, 1}, {1, 2, 3, 4}}, "w");
        LoadMatrix h = LoadMatrix.of(new double[][] {{1, 1, 1, 5}, {4, 3, 2, 1}}, "h");
        BalancingRequest request = new BalancingRequest(w, List.of(h, w, h, w, h), topology, null);
        MoelabBalancer direct = new MoelabBalancer(settings(2, Double.NaN, 32, 64, 0.002), "x");
        assertThat(direct.rebalance(request)).isEqualTo(Algorithms.byName("moelab:hedge=2").rebalance(request));
    }

    @Test
    void aForecastRefusesArgumentsItCannotUse() {
        LoadMatrix w = LoadMatrix.of(new double[][] {{5, 1, 1, 1}, {1, 2, 3, 4}}, "w");
        List<LoadMatrix> history = List.of(w, w, w, w, w);
        // A negative maxHistory failed in subList ("fromIndex(6) > toIndex(5)"), a decay of 3 forecast on it.
        assertThatThrownBy(() -> LoadForecast.of(w, history, -1, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxHistory must be 0 or more, got -1");
        assertThatThrownBy(() -> LoadForecast.of(w, history, 3, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fixedDecay must be NaN or in (0, 1], got 3");
        assertThatThrownBy(() -> LoadForecast.of(w, history, 3, 0)).isInstanceOf(IllegalArgumentException.class);
        // A window of another shape was copied into the first cells of the forecast's table, or overran it.
        LoadMatrix narrow = LoadMatrix.of(new double[][] {{5, 1, 1}, {1, 2, 3}}, "n");
        assertThatThrownBy(() -> LoadForecast.of(w, List.of(w, narrow, w), 32, Double.NaN))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("history[1]: is 2 layers x 3 experts, expected 2 layers x 4 experts");
        assertThatThrownBy(() -> LoadForecast.of(w, null, 32, Double.NaN))
                .isInstanceOf(NullPointerException.class).hasMessage("history");
        assertThatThrownBy(() -> LoadForecast.of(null, history, 32, Double.NaN))
                .isInstanceOf(NullPointerException.class).hasMessage("latest");
        // In range, as before.
        assertThat(LoadForecast.of(w, history, 0, Double.NaN).model()).isEqualTo("last");
        assertThat(LoadForecast.of(w, history, 3, 1).mean()[1][3]).isCloseTo(4, within(1e-12));
    }

    private static void assertNamesNull(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String name) {
        assertThatThrownBy(call).isInstanceOf(NullPointerException.class).hasMessage(name);
    }

    @Test
    void nullsAreRefusedWhenGivenNamingTheParameter() {
        // A null mode failed at the first rebalance (DeepSeekBalancer, MoelabBalancer) or planned as AUTO
        // (StaticBalancer); a null packing planned as BALANCED but was described as snake.
        assertNamesNull(() -> new DeepSeekBalancer(null, DeepSeekBalancer.Packing.BALANCED, "x"), "mode");
        assertNamesNull(() -> new DeepSeekBalancer(PlacementMode.AUTO, null, "x"), "packing");
        assertNamesNull(() -> new DeepSeekBalancer(PlacementMode.AUTO, DeepSeekBalancer.Packing.BALANCED, null),
                "name");
        assertNamesNull(() -> new StaticBalancer(null, "x"), "mode");
        assertNamesNull(() -> new StaticBalancer(PlacementMode.AUTO, null), "name");
        assertNamesNull(() -> new MoelabBalancer(null, "x"), "settings");
        assertNamesNull(() -> new MoelabBalancer(MoelabBalancer.Settings.defaults(), null), "name");
        Topology topology = new Topology(8, 1, 1, 4);
        LoadMatrix w = LoadMatrix.of(new double[][] {{5, 1, 1, 1}}, "w");
        assertNamesNull(() -> new BalancingRequest(null, List.of(), topology, null), "weight");
        assertNamesNull(() -> new BalancingRequest(w, null, topology, null), "history");
        assertNamesNull(() -> new BalancingRequest(w, List.of(), null, null), "topology");
        assertNamesNull(() -> BalancingRequest.of(w, null), "topology");
        // previous stays optional.
        assertThat(new BalancingRequest(w, List.of(), topology, null).previousPlacement()).isEmpty();
    }
}
