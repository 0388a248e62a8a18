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

    @Test
    void readSumsEveryFloatAtItsOwnPlace() {
        // Values that differ from float to float (0 to 6 by index), so that a vector read at the wrong offset shows:
        // 2.5 chunks, a partial last chunk included. Every partial sum is a small integer, exact in float.
        int floats = 5 * MemoryBandwidth.CHUNK_BYTES / 8;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = arena.allocate((long) floats * 4, 64);
            long expected = 0;
            for (int i = 0; i < floats; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, i % 7);
                expected += i % 7;
            }
            assertThat(MemoryBandwidth.read(s)).isEqualTo((float) expected);
        }
    }

    @Test
    void oneChunkIsEnoughAndASizeOfPartBlocksIsRoundedDown() {
        assertThat(MemoryBandwidth.measureGBps(MemoryBandwidth.CHUNK_BYTES, 1)).isPositive().isFinite();
        assertThat(MemoryBandwidth.measureGBps(MemoryBandwidth.CHUNK_BYTES + 3, 1)).isPositive().isFinite();
        assertThatThrownBy(() -> MemoryBandwidth.measureGBps(MemoryBandwidth.CHUNK_BYTES - 1, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
