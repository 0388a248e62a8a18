package io.moelab.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyTest {
    @Test
    void noneHasNoAlgorithm() {
        assertThat(Policy.parse("none").algorithm()).isEmpty();
    }

    @Test
    void algorithmSpecsBecomePolicies() {
        Policy p = Policy.parse("moelab:global");
        assertThat(p.name()).isEqualTo("moelab:global");
        assertThat(p.algorithm()).get().extracting(a -> a.name()).isEqualTo("moelab:global");
        assertThat(Policy.parseAll(List.of("none", "deepseek", "snake"))).extracting(Policy::name)
                .containsExactly("none", "deepseek", "snake");
    }

    @Test
    void unknownDuplicateAndEmptyListsAreRejected() {
        assertThatThrownBy(() -> Policy.parse("greedy")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("policies: unknown policy 'greedy' (known: none, moelab, deepseek");
        assertThatThrownBy(() -> Policy.parseAll(List.of("none", "none")))
                .hasMessage("policies: lists a policy twice: none,none");
        assertThatThrownBy(() -> Policy.parseAll(List.of())).hasMessage("policies: no policy given");
        assertThatThrownBy(() -> Policy.parse("moelab:sideways")).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void aBadSpecIsNamedAsAPolicy() {
        // sim has --policies, not eplb's --algorithms and --mode, which these errors named.
        assertThatThrownBy(() -> Policy.parseAll(List.of("none", ""))).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("policies: '': empty algorithm name");
        assertThatThrownBy(() -> Policy.parseAll(List.of("moelab:sideways")))
                .hasMessage("policies: 'moelab:sideways': unknown mode 'sideways' (known: auto, global, hierarchical)");
        assertThatThrownBy(() -> Policy.parse("deepseek:foo=1"))
                .hasMessage("policies: 'deepseek:foo=1': unknown option 'foo' for deepseek (it takes none)");
        assertThatThrownBy(() -> Policy.parse("moelab:hedge=x")).hasMessageStartingWith("policies: 'moelab:hedge=x': ");
    }

    @Test
    void policiesAreReadAsAlgorithmSpecsAreAndNamedAsParsed() {
        // Case and surrounding spaces do not make another policy: the sim ran "deepseek,DeepSeek" twice under two
        // names, kept " deepseek"'s space in its table, and did not know "NONE".
        assertThat(Policy.parseAll(List.of("NONE", " deepseek", "Moelab:Global"))).extracting(Policy::name)
                .containsExactly("none", "deepseek", "moelab:global");
        assertThat(Policy.parse(" None ").algorithm()).isEmpty();
        assertThatThrownBy(() -> Policy.parseAll(List.of("deepseek", "DeepSeek")))
                .hasMessage("policies: lists a policy twice: deepseek,DeepSeek");
        assertThatThrownBy(() -> Policy.parseAll(List.of("none", " none")))
                .hasMessage("policies: lists a policy twice: none, none");
        assertThatThrownBy(() -> Policy.parseAll(List.of("moelab:hedge=0:history=4", "moelab:history=4:hedge=0")))
                .hasMessage("policies: lists a policy twice: moelab:hedge=0:history=4,moelab:history=4:hedge=0");
        // A written mode still differs from none, as in eplb's lists.
        assertThat(Policy.parseAll(List.of("deepseek", "deepseek:auto"))).hasSize(2);
        assertThatThrownBy(() -> Policy.parse("none:global")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("policies: unknown policy 'none:global'");
    }
}
