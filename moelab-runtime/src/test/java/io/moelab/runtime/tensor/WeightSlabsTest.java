package io.moelab.runtime.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class WeightSlabsTest {
    /** Sizes and alignments as the weight formats ask for them, plus odd ones. */
    private static final long[][] REQUESTS = {{114_688, 64}, {14_336, 64}, {1, 1}, {3, 2}, {917_504, 64},
            {4096, 4096}, {7, 8}, {2_097_152, 64}, {100, 16}, {1 << 20, 1 << 21}};

    @Test
    void segmentsAreZeroedAlignedWritableAndDisjoint() {
        try (Arena arena = Arena.ofConfined()) {
            WeightSlabs slabs = new WeightSlabs(arena);
            List<MemorySegment> got = new ArrayList<>();
            for (long[] r : REQUESTS) {
                MemorySegment s = slabs.allocate(r[0], r[1]);
                assertThat(s.byteSize()).isEqualTo(r[0]);
                assertThat(s.address() % r[1]).as("alignment %d", r[1]).isZero();
                for (long i = 0; i < s.byteSize(); i += Math.max(1, s.byteSize() / 97)) {
                    assertThat(s.get(ValueLayout.JAVA_BYTE, i)).isZero();
                }
                assertThat(s.get(ValueLayout.JAVA_BYTE, s.byteSize() - 1)).isZero();
                got.add(s);
            }
            // Fill each with its own byte, then check that none was overwritten by another.
            for (int k = 0; k < got.size(); k++) {
                got.get(k).fill((byte) (k + 1));
            }
            for (int k = 0; k < got.size(); k++) {
                MemorySegment s = got.get(k);
                assertThat(s.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) (k + 1));
                assertThat(s.get(ValueLayout.JAVA_BYTE, s.byteSize() - 1)).isEqualTo((byte) (k + 1));
                for (int j = 0; j < got.size(); j++) {
                    MemorySegment o = got.get(j);
                    boolean apart = s.address() + s.byteSize() <= o.address()
                            || o.address() + o.byteSize() <= s.address();
                    assertThat(j == k || apart).as("segments %d and %d overlap", k, j).isTrue();
                }
            }
        }
    }

    @Test
    void requestsLargerThanASlabGetOneOfTheirOwn() {
        try (Arena arena = Arena.ofConfined()) {
            WeightSlabs slabs = new WeightSlabs(arena);
            MemorySegment small = slabs.allocate(1000, 64);
            MemorySegment large = slabs.allocate(WeightSlabs.SLAB_BYTES + 12_345, 64);
            MemorySegment next = slabs.allocate(1000, 64);
            assertThat(large.byteSize()).isEqualTo(WeightSlabs.SLAB_BYTES + 12_345);
            assertThat(large.get(ValueLayout.JAVA_BYTE, large.byteSize() - 1)).isZero();
            large.set(ValueLayout.JAVA_BYTE, large.byteSize() - 1, (byte) 7);
            if (WeightSlabs.mapsSlabs()) {
                // The open slab kept its room: the next small request follows the first.
                assertThat(next.address()).isEqualTo(small.address() + 1024);
            }
        }
    }

    /**
     * A request no memory can meet fails and leaves the allocator as it was. Sizes near the largest long overflowed
     * the slab's bounds ({@code start + byteSize}) or the rounding to huge pages, the allocator took the request as
     * fitting and recorded it as used before the slice failed: every later request, however small, then failed too.
     */
    @Test
    void anImpossibleRequestFailsAndLeavesTheAllocatorWorking() {
        try (Arena arena = Arena.ofConfined()) {
            WeightSlabs fresh = new WeightSlabs(arena);
            assertThatThrownBy(() -> fresh.allocate(Long.MAX_VALUE - 1, 64));
            assertThat(fresh.allocate(1000, 64).byteSize()).isEqualTo(1000);
            WeightSlabs slabs = new WeightSlabs(arena);
            MemorySegment small = slabs.allocate(1000, 64);
            assertThatThrownBy(() -> slabs.allocate(Long.MAX_VALUE - 100, 64));
            MemorySegment next = slabs.allocate(1000, 64);
            next.fill((byte) 3);
            assertThat(small.get(ValueLayout.JAVA_BYTE, 999)).isZero();
            if (WeightSlabs.mapsSlabs()) {
                assertThat(next.address()).isEqualTo(small.address() + 1024);
            }
        }
    }

    /**
     * Once the slabs' arena is closed the allocator refuses at once, as an arena does: a request that fitted the open
     * slab got a slice of the unmapped slab (every access then failed), and one that needed a new slab mapped it and
     * lost it when the closed arena refused to own it.
     */
    @Test
    void anAllocatorWhoseArenaIsClosedRefuses() {
        Arena arena = Arena.ofConfined();
        WeightSlabs slabs = new WeightSlabs(arena);
        slabs.allocate(1000, 64);
        arena.close();
        assertThatThrownBy(() -> slabs.allocate(1000, 64)).isInstanceOf(IllegalStateException.class)
                .hasMessage("the slabs' arena is closed");
        assertThatThrownBy(() -> slabs.allocate(WeightSlabs.SLAB_BYTES, 64)).isInstanceOf(IllegalStateException.class)
                .hasMessage("the slabs' arena is closed");
    }

    @Test
    void slabsOfAnArenaAreUnmappedWhenItCloses() {
        assumeTrue(WeightSlabs.mapsSlabs(), "slabs are mappings on this platform");
        long before = WeightSlabs.mappedBytes();
        Arena arena = Arena.ofShared();
        new WeightSlabs(arena).allocate(5_000_000, 64).fill((byte) 1);
        long during = WeightSlabs.mappedBytes();
        // One slab, plus a huge page of room to align its start.
        assertThat(during - before).isEqualTo(WeightSlabs.SLAB_BYTES + WeightSlabs.HUGE_PAGE);
        arena.close();
        assertThat(WeightSlabs.mappedBytes()).isEqualTo(before);
    }

    @Test
    void linuxOnX86OrArmMapsSlabs() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        assumeTrue(os.startsWith("linux") && (arch.equals("amd64") || arch.equals("aarch64")));
        // The test JVM runs with --enable-native-access=ALL-UNNAMED, as the launchers do.
        assertThat(WeightSlabs.mapsSlabs()).isTrue();
    }

    /**
     * The edges of the arguments accepted: no bytes, an alignment of exactly one huge page. A slab's mapping starts
     * on a huge page boundary (where slabs are mapped), so its first segment does, and one of its own does too.
     */
    @Test
    void emptyRequestsAndHugePageAlignmentAreServedAndSlabsStartOnAHugePage() {
        try (Arena arena = Arena.ofConfined()) {
            WeightSlabs slabs = new WeightSlabs(arena);
            assertThat(slabs.allocate(0, 1).byteSize()).isZero();
            MemorySegment first = slabs.allocate(100, 64);
            MemorySegment aligned = slabs.allocate(10, WeightSlabs.HUGE_PAGE);
            assertThat(aligned.address() % WeightSlabs.HUGE_PAGE).isZero();
            assertThat(aligned.byteSize()).isEqualTo(10);
            MemorySegment own = slabs.allocate(WeightSlabs.SLAB_BYTES + 1, 64);
            if (WeightSlabs.mapsSlabs()) {
                assertThat(first.address() % WeightSlabs.HUGE_PAGE).isZero();
                assertThat(own.address() % WeightSlabs.HUGE_PAGE).isZero();
                // Offsets from the first: a huge page on, then the next request right after it.
                assertThat(aligned.address()).isEqualTo(first.address() + WeightSlabs.HUGE_PAGE);
                assertThat(slabs.allocate(3, 1).address()).isEqualTo(aligned.address() + 10);
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        WeightSlabs slabs = new WeightSlabs();
        assertThatThrownBy(() -> slabs.allocate(-1, 8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> slabs.allocate(8, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("power of two");
        assertThatThrownBy(() -> slabs.allocate(8, 1L << 22)).isInstanceOf(IllegalArgumentException.class);
    }
}
