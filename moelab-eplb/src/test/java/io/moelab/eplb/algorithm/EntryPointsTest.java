package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The balancers' entry points: a spec's option readers at their ends, the request's checks one by one, the mode's
 * check of equal groups, and what the registry and the balancers say of themselves.
 */
class EntryPointsTest {
    private static final Topology TWO_GPUS = new Topology(4, 1, 1, 2);

    @Test
    void wholeNumbersAreReadUpToBothEndsOfTheirRange() {
        AlgorithmSpec s = AlgorithmSpec.parse("x:low=0:high=10:under=-1:over=11");
        assertThat(s.integer("low", 5, 0, 10)).isZero();
        assertThat(s.integer("high", 5, 0, 10)).isEqualTo(10);
        assertThatThrownBy(() -> s.integer("under", 5, 0, 10))
                .hasMessage("algorithm: option under=-1 of x must be a whole number in [0, 10]");
        assertThatThrownBy(() -> s.integer("over", 5, 0, 10))
                .hasMessage("algorithm: option over=11 of x must be a whole number in [0, 10]");
        assertThat(s.number("low", 5, 0, 10)).isZero();
        assertThat(s.number("high", 5, 0, 10)).isEqualTo(10);
    }

    @Test
    void flagsReadEveryWordForOnAndOff() {
        AlgorithmSpec s = AlgorithmSpec.parse("x:a=on:b=true:c=1:d=yes:e=off:f=false:g=0:h=no");
        for (String on : List.of("a", "b", "c", "d")) {
            assertThat(s.flag(on, false)).as(on).isTrue();
        }
        for (String off : List.of("e", "f", "g", "h")) {
            assertThat(s.flag(off, true)).as(off).isFalse();
        }
        assertThat(s.flag("absent", true)).isTrue();
        assertThat(s.flag("absent", false)).isFalse();
    }

    @Test
    void wordsComeFromTheirListOrTheFallback() {
        AlgorithmSpec s = AlgorithmSpec.parse("x:pack=snake:bad=spiral");
        Set<String> allowed = Set.of("snake", "lpt");
        assertThat(s.word("pack", "lpt", allowed)).isEqualTo("snake");
        assertThat(s.word("absent", "lpt", allowed)).isEqualTo("lpt");
        assertThatThrownBy(() -> s.word("bad", "lpt", allowed)).isInstanceOf(InvalidInputException.class)
                .hasMessage("algorithm: option bad=spiral of x must be one of lpt, snake");
    }

    @Test
    void aDefaultOptionIsAddedToTheSpecAndItsText() {
        AlgorithmSpec s = AlgorithmSpec.parse("moelab:global").withDefaultOption("tolerance", "0.2");
        assertThat(s.options()).containsEntry("tolerance", "0.2").hasSize(1);
        assertThat(s.text()).isEqualTo("moelab:global:tolerance=0.2");
        assertThat(s).hasToString("moelab:global:tolerance=0.2");
        assertThat(s.mode()).isEqualTo(PlacementMode.GLOBAL);
        assertThat(s.name()).isEqualTo("moelab");
    }

    @Test
    void theRegistryAndTheBalancersDescribeThemselves() {
        assertThat(Algorithms.defaultName()).isEqualTo("moelab");
        assertThat(Algorithms.names()).containsExactly("moelab", "deepseek", "snake", "static");
        assertThat(Algorithms.byName("static").description())
                .isEqualTo("load-oblivious baseline: slot p holds expert p mod E (no rebalancing)");
        assertThat(Algorithms.byName("static:hierarchical").description())
                .isEqualTo("load-oblivious baseline: slot p holds expert p mod E (no rebalancing), within each node's "
                        + "groups");
        assertThat(Algorithms.byName("moelab").description()).startsWith("moelab: ");
    }

    /** A spec's options reach the balancer's settings, each from its own option. */
    @Test
    void aSpecsOptionsBecomeTheSettings() {
        MoelabBalancer b = (MoelabBalancer) Algorithms.byName(
                "moelab:global:hedge=0.5:forecast=last:history=7:swaps=3:migrate=off:tolerance=0.1:parallel=on");
        assertThat(b.settings()).isEqualTo(new MoelabBalancer.Settings(PlacementMode.GLOBAL, 0.5, 1.0, 7, 3, false,
                0.1, true));
        assertThat(((MoelabBalancer) Algorithms.byName("moelab:forecast=0.25")).settings().decay()).isEqualTo(0.25);
        assertThat(((MoelabBalancer) Algorithms.byName("moelab")).settings())
                .isEqualTo(MoelabBalancer.Settings.defaults());
    }

    /** Each check of a request, on its own: the load planned on, each earlier window, the slots for the experts. */
    @Test
    void aRequestChecksEachOfItsParts() {
        LoadMatrix ok = LoadMatrix.of(new double[][] {{1, 2, 3, 4}}, "w");
        LoadMatrix huge = LoadMatrix.of(new double[][] {{1, 0x1p54, 3, 4}}, "w");
        LoadMatrix other = LoadMatrix.of(new double[][] {{1, 2, 3}}, "w");
        assertThatThrownBy(() -> new BalancingRequest(huge, List.of(), TWO_GPUS, null))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("weight[0][1]: load ");
        assertThatThrownBy(() -> new BalancingRequest(ok, List.of(ok, other), TWO_GPUS, null))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("history[1]");
        assertThatThrownBy(() -> new BalancingRequest(ok, List.of(huge), TWO_GPUS, null))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("history[0][0][1]: load ");
        assertThatThrownBy(() -> BalancingRequest.of(ok, new Topology(3, 1, 1, 1)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("num_replicas: R=3 is less than the number of experts E=4 (every expert needs at least one "
                        + "slot)");
        assertThatThrownBy(() -> BalancingRequest.of(null, TWO_GPUS)).isInstanceOf(NullPointerException.class)
                .hasMessage("weight");
        assertThatThrownBy(() -> BalancingRequest.of(ok, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("topology");
    }

    /**
     * Hierarchical placement needs equal groups, asked for or chosen: 6 experts do not split into 4 groups, even
     * where the 4 groups divide over the 2 nodes.
     */
    @Test
    void hierarchicalPlacementNeedsEqualGroups() {
        Topology t = new Topology(8, 4, 2, 4);
        for (PlacementMode mode : List.of(PlacementMode.HIERARCHICAL, PlacementMode.AUTO)) {
            assertThatThrownBy(() -> mode.hierarchical(t, 6)).as("%s", mode).isInstanceOf(InvalidInputException.class)
                    .hasMessage("num_groups: E=6 experts do not split into G=4 equal groups (hierarchical placement "
                            + "needs E to be a multiple of G)");
            assertThat(mode.hierarchical(t, 8)).as("%s", mode).isTrue();
        }
        assertThat(PlacementMode.GLOBAL.hierarchical(t, 6)).isFalse();
    }
}
