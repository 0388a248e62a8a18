package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import org.junit.jupiter.api.Test;

/** Tables rendered for people and as CSV, and the heap check's wording, worked by hand. */
class TableAndHeapTest {
    @Test
    void numbersAlignRightTextLeftAndTheFirstColumnAlwaysLeft() {
        String rendered = new Table("policy", "tokens/s", "note")
                .row("none", "316800", "a")
                .row("moelab", "1.5x", "longer")
                .render();
        // Widths 6, 8, 6; "tokens/s" holds numbers only (right-aligned), "note" text (left-aligned, trailing
        // spaces stripped); the first column is left-aligned whatever it holds.
        assertThat(rendered).isEqualTo("""
                policy  tokens/s  note
                none      316800  a
                moelab      1.5x  longer
                """);
        String numericFirst = new Table("K", "x").row("10", "1").row("200", "2").render();
        assertThat(numericFirst).isEqualTo("K    x\n10   1\n200  2\n");
    }

    @Test
    void csvQuotesOnlyWhatNeedsIt() {
        String csv = new Table("a", "b").row("plain", "with, comma").row("say \"hi\"", "two\nlines").csv();
        assertThat(csv).isEqualTo("a,b\r\nplain,\"with, comma\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
    }

    @Test
    void aRowMustFillEveryColumn() {
        assertThatThrownBy(() -> new Table("a", "b").row("only one"))
                .hasMessage("expected 2 cells, got 1");
    }

    @Test
    void heapSizesAndTheHeapCheck() {
        assertThat(Heap.size((1L << 30) - 1)).isEqualTo("1023 MiB");
        assertThat(Heap.size(1L << 30)).isEqualTo("1.0 GiB");
        assertThat(Heap.size(3L << 29)).isEqualTo("1.5 GiB");
        long heap = Runtime.getRuntime().maxMemory();
        Heap.require("--steps", heap, "exactly the heap", "fewer steps"); // at the limit: allowed
        assertThatThrownBy(() -> Heap.require("--steps", heap + 1, "one byte more", "fewer steps"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("one byte more needs about").hasMessageContaining("or ask for fewer steps");
    }

    @Test
    void theDemosEstimateIsItsWindowsAndOneBlockOfSteps() {
        // 26 x 64 loads a step, 13,312 bytes as doubles; a block of steps is 16 MiB of them (1,260 steps) or the
        // trace. It was twice the trace's loads (the generated steps, then the trace), which the demo no longer holds.
        int step = 26 * 64 * 8;
        SyntheticTraceSpec shortTrace = SyntheticTraceSpec.defaults(26, 64, 1000, 1);
        assertThat(Heap.windowBytes(shortTrace, 50)).isEqualTo((20 + 1 + 1000L) * step);
        SyntheticTraceSpec longTrace = SyntheticTraceSpec.defaults(26, 64, 20_000, 1);
        assertThat(Heap.windowBytes(longTrace, 50)).isEqualTo((400 + 1 + 1260L) * step);
        assertThat(Heap.windowBytes(longTrace, 1)).isEqualTo((20_000 + 1 + 1260L) * step);
        assertThat(Heap.windowBytes(longTrace, 0)).isEqualTo(Heap.windowBytes(longTrace, 1)); // refused later
        SyntheticTraceSpec huge = SyntheticTraceSpec.defaults(26, 64, 2_000_000_000, 1);
        assertThatThrownBy(() -> Heap.requireWindows("--steps", huge, 1)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("--steps: a trace of S x L x E = 2000000000 x 26 x 64 loads in 2000000000 "
                        + "windows of 1 step needs about ");
    }
}
