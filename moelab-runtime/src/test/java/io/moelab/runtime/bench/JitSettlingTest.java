package io.moelab.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Settled means two runs in a row that each added at most a millisecond of compilation. */
class JitSettlingTest {
    /** Feeds the counter's readings, the first at construction, and collects what each run's end reports. */
    private static List<Boolean> replay(long... readings) {
        Deque<Long> left = new ArrayDeque<>();
        for (long r : readings) {
            left.add(r);
        }
        JitSettling s = new JitSettling(left::remove);
        Boolean[] out = new Boolean[readings.length - 1];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.runDone();
        }
        return List.of(out);
    }

    @Test
    void twoQuietRunsInARow() {
        // +30 (busy), +0, +1 (quiet, quiet: settled), +0 (still settled).
        assertThat(replay(100, 130, 130, 131, 131)).containsExactly(false, false, true, true);
    }

    @Test
    void aBusyRunStartsTheCountAgain() {
        // m100's pattern: a quiet run, then 27 ms more, then quiet again; +2 ms is busy.
        assertThat(replay(3614, 3641, 3641, 3668, 3668, 3670, 3671, 3671))
                .containsExactly(false, false, false, false, false, false, true);
    }

    @Test
    void quietFromTheStart() {
        assertThat(replay(5, 5, 5)).containsExactly(false, true);
    }

    @Test
    void anUnmonitoredJitNeverSettles() {
        assertThat(replay(-1, -1, -1, -1)).containsExactly(false, false, false);
    }

    @Test
    void aCounterThatStartsAtZeroIsMonitored() {
        // 0 ms of compilation so far is a reading like any other; only a negative one means unmonitored.
        assertThat(replay(0, 0, 0, 1)).containsExactly(false, true, true);
    }
}
