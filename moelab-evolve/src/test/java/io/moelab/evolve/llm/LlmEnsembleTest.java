package io.moelab.evolve.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.testing.ScriptedChatServer;
import io.moelab.evolve.testing.ScriptedChatServer.Reply;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Weighted, deterministic choice of a model per iteration. */
class LlmEnsembleTest {

    private static LlmClient named(String name) {
        return (messages, iteration) -> new Completion(name, name + "@" + iteration, 0, 0, 0, 1);
    }

    private static LlmEnsemble ensemble(long seed) {
        return new LlmEnsemble(List.of(named("big"), named("small")), new double[] {0.8, 0.2}, seed);
    }

    @Test
    void choiceDependsOnlyOnSeedAndIteration() {
        LlmEnsemble a = ensemble(42);
        LlmEnsemble b = ensemble(42);
        int[] sequential = IntStream.range(0, 2000).map(a::choose).toArray();
        int[] reversedParallel = new int[2000];
        IntStream.range(0, 2000).parallel().map(i -> 1999 - i).forEach(i -> reversedParallel[i] = b.choose(i));
        assertThat(reversedParallel).isEqualTo(sequential);
        int[] otherSeed = IntStream.range(0, 2000).map(ensemble(43)::choose).toArray();
        assertThat(otherSeed).isNotEqualTo(sequential);
    }

    @Test
    void proportionsFollowWeights() {
        LlmEnsemble e = ensemble(7);
        long big = IntStream.range(0, 10_000).filter(i -> e.choose(i) == 0).count();
        assertThat(big / 10_000.0).isBetween(0.78, 0.82);
    }

    /** With more than two clients each gets its share, the middle ones too (two never reach past the first). */
    @Test
    void threeClientsGetTheirShares() {
        LlmClient none = (m, it) -> null;
        LlmEnsemble e = new LlmEnsemble(List.of(none, none, none), new double[] {1, 2, 3}, 11);
        int[] counts = new int[3];
        IntStream.range(0, 30_000).forEach(i -> counts[e.choose(i)]++);
        assertThat(counts[0] / 30_000.0).isBetween(1 / 6.0 - 0.02, 1 / 6.0 + 0.02);
        assertThat(counts[1] / 30_000.0).isBetween(2 / 6.0 - 0.02, 2 / 6.0 + 0.02);
        assertThat(counts[2] / 30_000.0).isBetween(3 / 6.0 - 0.02, 3 / 6.0 + 0.02);
    }

    /** mix64 is SplitMix64's finalizer: SplitMix64 seeded with 0 gives 0xE220A8397B1DCDAF first. */
    @Test
    void mixingIsSplitMix64() {
        assertThat(Seeds.mix64(0x9E3779B97F4A7C15L)).isEqualTo(0xE220A8397B1DCDAFL);
        assertThat(Seeds.mix64(2 * 0x9E3779B97F4A7C15L)).isEqualTo(0x6E789E6AA1B965F4L);
        assertThat(Seeds.unit(-1L)).isEqualTo(1 - 0x1.0p-53);
        assertThat(Seeds.unit(0x7FFL)).isZero();
    }

    @Test
    void delegatesToTheChosenClient() throws LlmException {
        LlmEnsemble e = ensemble(1);
        for (int i = 0; i < 50; i++) {
            String expected = e.choose(i) == 0 ? "big" : "small";
            Completion c = e.complete(List.of(ChatMessage.user("x")), i);
            assertThat(c.model()).isEqualTo(expected);
            assertThat(c.content()).isEqualTo(expected + "@" + i);
        }
    }

    @Test
    void singleClientAlwaysChosen() {
        LlmEnsemble e = new LlmEnsemble(List.of(named("only")), new double[] {3}, 0);
        assertThat(IntStream.range(-100, 100).map(e::choose).distinct().toArray()).containsExactly(0);
    }

    @Test
    void rejectsBadWeights() {
        List<LlmClient> two = List.of(named("a"), named("b"));
        assertThatThrownBy(() -> new LlmEnsemble(two, new double[] {1}, 0)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> new LlmEnsemble(two, new double[] {1, 0}, 0))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("llm.models[1].weight: must be positive and finite, got 0");
        assertThatThrownBy(() -> new LlmEnsemble(two, new double[] {1, Double.NaN}, 0))
                .isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> new LlmEnsemble(List.of(), new double[0], 0))
                .isInstanceOf(InvalidInputException.class);
    }

    @Test
    void createBuildsOneHttpClientPerModel() throws LlmException {
        try (ScriptedChatServer server = ScriptedChatServer.start()) {
            server.fallback(req -> Reply.content("from " + req.path("model").stringValue()));
            LlmSettings s = LlmSettings.defaults(List.of(
                    new LlmModel("a", 3, server.apiBase(), "KEY_A", 1, 1),
                    new LlmModel("b", 1, server.apiBase(), null, 0, 0)));
            CostLedger ledger = new CostLedger();
            LlmEnsemble e = LlmEnsemble.create(s, ledger, new RecordingSleeper(), Map.of("KEY_A", "ka")::get);
            assertThat(e.clients()).hasSize(2);
            for (int i = 0; i < 20; i++) {
                String expected = e.choose(i) == 0 ? "a" : "b";
                assertThat(e.complete(List.of(ChatMessage.user("hi")), i).content()).isEqualTo("from " + expected);
            }
            assertThat(ledger.totalCalls()).isEqualTo(20);
            assertThat(server.authorizations()).allMatch(h -> h.equals("Bearer ka") || h.isEmpty());
        }
    }
}
