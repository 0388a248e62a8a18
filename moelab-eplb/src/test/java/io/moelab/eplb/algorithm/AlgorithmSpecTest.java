package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AlgorithmSpecTest {
    @Test
    void parsesNameModeAndOptions() {
        AlgorithmSpec s = AlgorithmSpec.parse(" MoeLab:Global:hedge=0.5:forecast=last ");
        assertThat(s.name()).isEqualTo("moelab");
        assertThat(s.mode()).isEqualTo(PlacementMode.GLOBAL);
        assertThat(s.options()).isEqualTo(Map.of("hedge", "0.5", "forecast", "last"));
        assertThat(s.text()).isEqualTo("moelab:global:hedge=0.5:forecast=last");
        assertThat(s.number("hedge", 1, 0, 10)).isEqualTo(0.5);
        assertThat(s.number("swaps", 7, 0, 10)).isEqualTo(7);
        assertThat(AlgorithmSpec.parse("deepseek").mode()).isEqualTo(PlacementMode.AUTO);
    }

    @Test
    void defaultsDoNotOverrideWhatIsWritten() {
        assertThat(AlgorithmSpec.parse("moelab").withDefaultMode(PlacementMode.GLOBAL).text())
                .isEqualTo("moelab:global");
        assertThat(AlgorithmSpec.parse("moelab:hierarchical").withDefaultMode(PlacementMode.GLOBAL).mode())
                .isEqualTo(PlacementMode.HIERARCHICAL);
        assertThat(AlgorithmSpec.parse("moelab:hedge=2").withDefaultMode(PlacementMode.GLOBAL).text())
                .isEqualTo("moelab:global:hedge=2");
        assertThat(AlgorithmSpec.parse("moelab:tolerance=0.1").withDefaultOption("tolerance", "0.2")
                .options().get("tolerance")).isEqualTo("0.1");
    }

    @Test
    void malformedSpecsAreBadInput() {
        assertThatThrownBy(() -> AlgorithmSpec.parse(":global")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("algorithm: empty algorithm name");
        assertThatThrownBy(() -> AlgorithmSpec.parse("x:global:hierarchical")).hasMessageContaining("two modes");
        // An empty part is named as such: it was read as a mode called '' ("unknown mode ''", or "two modes").
        for (String spec : new String[] {"moelab:", "moelab::global", "moelab:global:", "moelab:hedge=1:"}) {
            assertThatThrownBy(() -> AlgorithmSpec.parse(spec)).as(spec).isInstanceOf(InvalidInputException.class)
                    .hasMessage("algorithm: empty part after ':' in '" + spec + "'");
        }
        // A mode that is none is the spec's fault (it named "mode", which a command line read as its --mode).
        assertThatThrownBy(() -> AlgorithmSpec.parse("moelab:sideways")).isInstanceOf(InvalidInputException.class)
                .hasMessage("algorithm: unknown mode 'sideways' (known: auto, global, hierarchical)");
        assertThatThrownBy(() -> AlgorithmSpec.parse("x:a=1:a=2")).hasMessageContaining("given twice");
        assertThatThrownBy(() -> AlgorithmSpec.parse("x:=1")).hasMessageContaining("malformed option");
        assertThatThrownBy(() -> AlgorithmSpec.parse("x:on=")).hasMessageContaining("malformed option");
        AlgorithmSpec s = AlgorithmSpec.parse("x:flag=maybe:n=abc");
        assertThatThrownBy(() -> s.flag("flag", false)).hasMessageContaining("must be on or off");
        assertThatThrownBy(() -> s.number("n", 0, 0, 1)).hasMessageContaining("must be a number");
        // Whole-number options: a fraction was cut to its integer part (swaps=1.5 ran as 1).
        AlgorithmSpec w = AlgorithmSpec.parse("x:swaps=1.5:history=7:big=3000000000");
        assertThatThrownBy(() -> w.integer("swaps", 0, 0, 10))
                .hasMessage("algorithm: option swaps=1.5 of x must be a whole number in [0, 10]");
        assertThat(w.integer("history", 0, 0, 10)).isEqualTo(7);
        assertThat(w.integer("absent", 4, 0, 10)).isEqualTo(4);
        assertThatThrownBy(() -> w.integer("big", 0, 0, 10)).hasMessageContaining("whole number in [0, 10]");
        // The forecast takes words too, and its bounds read as written (it said "a number in [1.0E-6, 1.0]").
        assertThatThrownBy(() -> Algorithms.byName("moelab:forecast=2")).hasMessage("algorithm: option forecast=2 of "
                + "moelab must be auto, last or a number in [0.000001, 1]");
        assertThatThrownBy(() -> Algorithms.byName("moelab:hedge=-1")).hasMessage("algorithm: option hedge=-1 of "
                + "moelab must be a number in [0, 100]");
        assertThatThrownBy(() -> Algorithms.byName("moelab:swaps=2.5")).hasMessageContaining("swaps=2.5");
        assertThatThrownBy(() -> s.requireOptions(Set.of("flag"))).hasMessageContaining("unknown option 'n'");
    }

    @Test
    void aListNamesEachAlgorithmOnce() {
        assertThat(Algorithms.byNames(List.of("moelab:global", "moelab"))).extracting(BalancerAlgorithm::name)
                .containsExactly("moelab:global", "moelab");
        assertThatThrownBy(() -> Algorithms.byNames(List.of("deepseek", "static", "deepseek")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("algorithms: lists an algorithm twice: deepseek,static,deepseek");
        // Compared as parsed: case, spaces and option order do not make another algorithm.
        assertThatThrownBy(() -> Algorithms.requireDistinct(List.of("moelab:global:hedge=0:history=0",
                " MOELAB:global:history=0:hedge=0"))).hasMessageStartingWith("algorithms: lists an algorithm twice");
        assertThatThrownBy(() -> Algorithms.requireDistinct(List.of("snake", "SNAKE")))
                .hasMessage("algorithms: lists an algorithm twice: snake,SNAKE");
        // A written mode differs from none (a command's --mode fills in only the latter), and options differ.
        Algorithms.requireDistinct(List.of("moelab:auto", "moelab", "moelab:global", "moelab:global:hedge=0"));
    }
}
