package io.moelab.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The bandwidth measurement reads every byte and returns a finite positive rate (no timing targets here). */
class MemoryBandwidthTest {
    @Test
    void readSumsEveryFloat() {
        int floats = 3 * MemoryBandwidth.CHUNK_BYTES / 4 + 1024;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = arena.allocate((long) floats * 4, 64);
            for (int i = 0; i < floats; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1f);
            }
            assertThat(MemoryBandwidth.read(s)).isEqualTo((float) floats);
        }
    }

    @Test
    void measuresAPositiveRate() {
        double gbps = MemoryBandwidth.measureGBps(4L << 20, 2);
        assertThat(gbps).isPositive().isFinite();
    }

    @Test
    void refusesTooLittle() {
        assertThatThrownBy(() -> MemoryBandwidth.measureGBps(1000, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MemoryBandwidth.measureGBps(1 << 24, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
