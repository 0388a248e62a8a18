package io.moelab.evolve.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.evolve.llm.CostLedger.ModelUsage;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Totals, per-model usage, checkpoints and concurrency of the ledger. */
class CostLedgerTest {

    @Test
    void totalsAndPerModelUsage() {
        CostLedger l = new CostLedger();
        assertThat(l.totalUsd()).isZero();
        l.record("a", 100, 50, 0.25);
        l.record("a", 10, 5, 0.5);
        l.record("b", 1, 2, 1.0);
        assertThat(l.totalUsd()).isCloseTo(1.75, within(1e-12));
        assertThat(l.totalTokens()).isEqualTo(168);
        assertThat(l.totalCalls()).isEqualTo(3);
        assertThat(l.byModel()).containsExactly(
                Map.entry("a", new ModelUsage(2, 110, 55, 0.75)), Map.entry("b", new ModelUsage(1, 1, 2, 1.0)));
        assertThatThrownBy(() -> l.byModel().put("c", ModelUsage.ZERO))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void snapshotRestoresIntoAnotherLedger() {
        CostLedger l = new CostLedger();
        l.record("a", 100, 50, 0.25);
        Map<String, ModelUsage> snap = l.snapshot();
        l.record("a", 1, 1, 1);
        assertThat(snap.get("a").calls()).isEqualTo(1);

        CostLedger m = new CostLedger();
        m.record("junk", 1, 1, 9);
        m.restore(snap);
        assertThat(m.snapshot()).isEqualTo(snap);
        assertThat(m.totalUsd()).isEqualTo(0.25);
        m.record("a", 0, 0, 0.75);
        assertThat(m.totalUsd()).isEqualTo(1.0);
    }

    @Test
    void concurrentRecordsAreAllCounted() {
        CostLedger l = new CostLedger();
        IntStream.range(0, 8000).parallel().forEach(i -> l.record("m" + (i % 4), 1, 2, 0.5));
        assertThat(l.totalCalls()).isEqualTo(8000);
        assertThat(l.totalTokens()).isEqualTo(24000);
        assertThat(l.totalUsd()).isEqualTo(4000.0);
        assertThat(l.byModel()).hasSize(4);
    }
}
