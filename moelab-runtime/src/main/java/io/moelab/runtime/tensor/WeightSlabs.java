package io.moelab.runtime.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Native memory for the weights the runtime lays out itself (packed and quantized copies), carved out of large
 * slabs that Linux backs with transparent huge pages.
 *
 * <p>Why: decoding streams every active weight once per token, hundreds of matrices of 0.1-4 MB each. Allocated
 * one by one, each sits on 4 KiB pages of its own mapping, so a token's read walks tens of thousands of pages: a
 * TLB miss, and a restart of the hardware prefetchers' stream, at each. Packed back to back in 2 MiB-aligned slabs
 * that the kernel is asked ({@code madvise(MADV_HUGEPAGE)}, before the first touch) to back with 2 MiB pages, a
 * model's experts read as long runs of few pages. Measured side by side (docs/BENCHMARKS.md, ninth session): m100
 * decode 1.08-1.11x with INT4 and int8 activations, 1.09-1.19x with packed F32; a bare read of 400 MB 1.05x.
 *
 * <p>Slabs are anonymous private mappings ({@code mmap}) of at least {@value #SLAB_BYTES} bytes, unmapped once
 * every segment carved from them is unreachable (the default, as {@link Arena#ofAuto()}) or when a given arena
 * closes. Where the mappings are unavailable (not Linux on x86-64 or AArch64, the C library's symbols missing,
 * native access denied, or {@code mmap} failing) every allocation falls back to that arena's own: same contents
 * (zeros), same lifetime, ordinary pages. Whether the kernel grants huge pages is its own choice (its
 * {@code transparent_hugepage} setting, free memory); the memory is valid either way. Native access is a
 * restricted operation: launchers pass {@code --enable-native-access=ALL-UNNAMED}, without which the JVM prints a
 * warning on first use.
 *
 * <p>An allocator serves one loading thread at a time (its methods are synchronized); it holds its current slab
 * only until that fills, so dropping the allocator after a load leaves each slab to live as long as its weights.
 */
public final class WeightSlabs implements SegmentAllocator {
    /** Bytes of one slab: large requests get a slab of their own, rounded up to whole huge pages. */
    static final long SLAB_BYTES = 32L << 20;
    /** The huge page size on x86-64 and AArch64 with 4 KiB base pages. */
    static final long HUGE_PAGE = 2L << 20;
    /** The largest request mapped: rounded up to whole huge pages, plus one to align the start, it fits a long. */
    private static final long MAX_MAPPING = Long.MAX_VALUE - 2 * HUGE_PAGE;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final Native NATIVE = Native.find();
    private static final AtomicLong MAPPED = new AtomicLong();

    /** The arena that owns each slab, or null for one automatic arena per slab. */
    private final Arena owner;
    private MemorySegment slab = MemorySegment.NULL;
    private long used;

    /** An allocator with no slab yet, whose slabs live while any of their segments is reachable. */
    public WeightSlabs() {
        this(null);
    }

    /**
     * An allocator whose slabs belong to {@code owner}: unmapped when it closes (a bandwidth probe's buffer, freed at
     * once rather than at the next collection).
     *
     * @param owner the slabs' arena, or null for one automatic arena per slab
     */
    public WeightSlabs(Arena owner) {
        this.owner = owner;
    }

    /** Whether slabs are mappings of their own here (otherwise every allocation comes from an ordinary arena). */
    public static boolean mapsSlabs() {
        return NATIVE != null;
    }

    /**
     * Bytes of slabs mapped now, by every allocator of the process: native memory that the JVM's {@code direct}
     * buffer pool does not count.
     */
    public static long mappedBytes() {
        return MAPPED.get();
    }

    /**
     * A zeroed segment of {@code byteSize} bytes aligned to {@code byteAlignment} (a power of two up to one huge
     * page), living as long as it or any other segment of its slab is reachable.
     *
     * @throws IllegalArgumentException if {@code byteSize} is negative or the alignment is not a power of two up
     *                                  to {@value #HUGE_PAGE}
     * @throws IllegalStateException    if the arena given to the constructor is closed
     */
    @Override
    public synchronized MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("negative size " + byteSize);
        }
        if (byteAlignment <= 0 || Long.bitCount(byteAlignment) != 1 || byteAlignment > HUGE_PAGE) {
            throw new IllegalArgumentException("alignment must be a power of two up to " + HUGE_PAGE + ", got "
                    + byteAlignment);
        }
        if (owner != null && !owner.scope().isAlive()) {
            // The open slab is unmapped, and a new mapping could not be given to the arena (it would leak).
            throw new IllegalStateException("the slabs' arena is closed");
        }
        if (NATIVE == null) {
            return arena().allocate(byteSize, byteAlignment);
        }
        if (byteSize > MAX_MAPPING) {
            // No mapping that large (its rounding would overflow a long): the arena refuses it as it refuses any
            // size it cannot give, and this allocator's state is untouched.
            return arena().allocate(byteSize, byteAlignment);
        }
        long start = (used + byteAlignment - 1) & -byteAlignment;
        // As a difference: start + byteSize overflowed for sizes near the largest long and passed as fitting.
        if (byteSize > slab.byteSize() - start) {
            long size = Math.max(SLAB_BYTES, (byteSize + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE);
            MemorySegment fresh = NATIVE.map(size, arena());
            if (fresh == null) {
                return arena().allocate(byteSize, byteAlignment);
            }
            if (size > SLAB_BYTES) {
                // A slab of its own: the open slab keeps its free space for the next smaller request.
                return fresh.asSlice(0, byteSize);
            }
            slab = fresh;
            start = 0;
        }
        used = start + byteSize;
        return slab.asSlice(start, byteSize);
    }

    private Arena arena() {
        return owner != null ? owner : Arena.ofAuto();
    }

    /** The C library's mmap, madvise and munmap, or null where they are not to be used. */
    private record Native(MethodHandle mmap, MethodHandle madvise, MethodHandle munmap) {
        static Native find() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                ValueLayout.OfLong size = ValueLayout.JAVA_LONG;
                ValueLayout.OfInt i = ValueLayout.JAVA_INT;
                MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, size, i, i, i, size));
                MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(i, ValueLayout.ADDRESS, size, i));
                MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(i, ValueLayout.ADDRESS, size));
                return new Native(mmap, madvise, munmap);
            } catch (RuntimeException e) {
                // Native access denied (IllegalCallerException) or a symbol missing: ordinary allocation.
                return null;
            }
        }

        /**
         * A fresh mapping of {@code size} bytes (whole huge pages) starting on a huge page boundary, advised to
         * huge pages before anything touches it and unmapped with {@code arena}; null if the mapping failed.
         */
        MemorySegment map(long size, Arena arena) {
            long total = size + HUGE_PAGE; // room to align the start
            try {
                MemorySegment raw = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, total, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS, -1, 0L);
                if (raw.address() == -1L || raw.address() == 0L) {
                    return null;
                }
                long address = raw.address();
                // The cleanup captures the address, not the segment, which would keep an automatic arena alive.
                MemorySegment owned = raw.reinterpret(total, arena, s -> unmap(address, total));
                MAPPED.addAndGet(total);
                long skip = (HUGE_PAGE - address % HUGE_PAGE) % HUGE_PAGE;
                MemorySegment aligned = owned.asSlice(skip, size);
                // The advice is best effort: where the kernel declines, the pages are ordinary ones.
                int ignored = (int) madvise.invokeExact(aligned, size, MADV_HUGEPAGE);
                return aligned;
            } catch (Throwable t) {
                return null;
            }
        }

        private void unmap(long address, long total) {
            try {
                int ignored = (int) munmap.invokeExact(MemorySegment.ofAddress(address), total);
                MAPPED.addAndGet(-total);
            } catch (Throwable t) {
                throw new IllegalStateException("munmap failed", t);
            }
        }
    }
}
