package io.moelab.bench.runtime;

import io.moelab.bench.BuildLoader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times the single-threaded matrix-vector product ({@code dotRows} over all rows, as {@link DotBenchmark}) of two
 * or more builds of moelab-runtime side by side in one JVM: each build gets its own class loader, and the builds
 * run in alternating 20 ms slices per (format, shape), so a noisy neighbour slows them alike. Prints the median,
 * 10th percentile and best GB/s of weight bytes read, and each build's median relative to the first.
 *
 * <p>Usage: {@code DotSideBySide CLASSES[,CLASSES...] FORMATS SHAPES SLICES} (each CLASSES a classes directory or
 * a jar of moelab-runtime), e.g.
 * {@code /tmp/base/classes,moelab-runtime/target/classes INT4,Q8 512x448,1024x2816 100}; formats are F32, PACKED
 * (F32 in {@code PackedF32Matrix}'s layout), BF16, Q8, INT4 and INT4_I8 (groups of 64). Needs
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class DotSideBySide {
    private static final long SLICE_NS = 20_000_000L;
    private static final int WARMUP_SLICES = 100;

    private DotSideBySide() {
    }

    /** The formats {@code FORMATS} may name. */
    static final List<String> FORMATS = List.of("F32", "PACKED", "BF16", "Q8", "INT4", "INT4_I8");

    /** The arguments, checked. */
    record Options(String[] builds, List<String> formats, List<String> shapes, int slices) {
        /**
         * Reads the arguments of the class comment.
         *
         * @throws HarnessArgs.BadArgument the usage line for a wrong count, else a line naming the bad argument
         */
        static Options parse(String[] args) {
            if (args.length != 4) {
                throw HarnessArgs.usage("DotSideBySide CLASSES[,CLASSES...] FORMATS SHAPES SLICES");
            }
            String[] builds = HarnessArgs.classDirectories("CLASSES", args[0]);
            List<String> formats = List.of(args[1].split(","));
            formats.forEach(f -> HarnessArgs.oneOf("FORMATS", f, FORMATS));
            List<String> shapes = List.of(args[2].split(","));
            shapes.forEach(s -> HarnessArgs.shape("SHAPES", s));
            return new Options(builds, formats, shapes, HarnessArgs.count("SLICES", args[3]));
        }
    }

    /**
     * Runs the comparison; see the class comment for the arguments. Bad arguments print one line and exit 2.
     *
     * @param args the arguments of the class comment
     * @throws Throwable what the build's code throws, passed on unwrapped through its method handles
     */
    public static void main(String[] args) throws Throwable {
        run(HarnessArgs.parseOrExit(args, Options::parse));
    }

    private static void run(Options options) throws Throwable {
        String[] builds = options.builds();
        int slices = options.slices();
        List<String> labels = new ArrayList<>();
        List<Product> runs = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            for (String format : options.formats()) {
                for (String shape : options.shapes()) {
                    for (String build : builds) {
                        ClassLoader loader = BuildLoader.of(build, DotSideBySide.class);
                        labels.add(String.format(Locale.ROOT, "%-5s %-10s %s", format, shape, build));
                        runs.add(Product.of(loader, format, shape, arena));
                    }
                }
            }
            double[][] gbps = new double[runs.size()][slices];
            for (int slice = -WARMUP_SLICES; slice < slices; slice++) {
                for (int k = 0; k < runs.size(); k++) {
                    Product run = runs.get(k);
                    int calls = 0;
                    long start = System.nanoTime();
                    long now;
                    do {
                        run.run();
                        calls++;
                    } while ((now = System.nanoTime()) - start < SLICE_NS);
                    if (slice >= 0) {
                        gbps[k][slice] = (double) run.bytes * calls / (now - start);
                    }
                }
            }
            System.out.printf(Locale.ROOT, "GB/s of weights read over %d slices of 20 ms each (after %d warm-up)%n",
                    slices, WARMUP_SLICES);
            double first = 0;
            for (int k = 0; k < runs.size(); k++) {
                double[] sorted = gbps[k].clone();
                Arrays.sort(sorted);
                double median = sorted[slices / 2];
                if (k % builds.length == 0) {
                    first = median;
                }
                System.out.printf(Locale.ROOT, "%s  median %6.2f  p10 %6.2f  best %6.2f  x%.2f%n", labels.get(k),
                        median, sorted[slices / 10], sorted[slices - 1], median / first);
            }
        }
    }

    /** One build's matrix and its {@code dotRows} handle. */
    private record Product(MethodHandle dotRows, Object matrix, int rows, float[] x, float[] out, long bytes) {
        void run() throws Throwable {
            dotRows.invoke(matrix, 0, rows, x, out);
        }

        static Product of(ClassLoader loader, String format, String shape, Arena arena) throws Throwable {
            RandomWeights r = RandomWeights.of(shape, arena);
            int rows = r.rows();
            String pkg = "io.moelab.runtime.tensor.";
            Class<?> matrix = loader.loadClass(pkg + "WeightMatrix");
            Class<?> dtype = loader.loadClass(pkg + "DType");
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            MethodHandle of = lookup.findStatic(matrix, "of",
                    MethodType.methodType(matrix, dtype, MemorySegment.class, int.class, int.class));
            Object dF32 = dtype.getField("F32").get(null);
            Object dBF16 = dtype.getField("BF16").get(null);
            Object source = of.invoke(dF32, r.f32(), rows, r.cols());
            Object w = switch (format) {
                case "F32" -> source;
                case "BF16" -> of.invoke(dBF16, r.bf16(), rows, r.cols());
                case "Q8" -> {
                    Class<?> q8 = loader.loadClass(pkg + "Q8Matrix");
                    yield allocating(lookup, q8, matrix).invoke(source, arena);
                }
                case "INT4" -> {
                    Class<?> q4 = loader.loadClass(pkg + "Int4Matrix");
                    yield allocating(lookup, q4, matrix, int.class).invoke(source, 64, arena);
                }
                case "PACKED" -> lookup.findStatic(loader.loadClass(pkg + "PackedF32Matrix"), "pack",
                        MethodType.methodType(loader.loadClass(pkg + "PackedF32Matrix"), matrix)).invoke(source);
                case "INT4_I8" -> {
                    Class<?> q4 = loader.loadClass(pkg + "Int4BlockMatrix");
                    yield allocating(lookup, q4, matrix, int.class).invoke(source, 64, arena);
                }
                default -> throw new IllegalArgumentException("unknown format " + format);
            };
            MethodHandle dotRows = lookup.findVirtual(matrix, "dotRows",
                    MethodType.methodType(void.class, int.class, int.class, float[].class, float[].class));
            long bytes = (long) lookup.findVirtual(matrix, "bytes", MethodType.methodType(long.class)).invoke(w);
            return new Product(dotRows, w, rows, r.x(), new float[rows], bytes);
        }

        /**
         * {@code cls.quantize(leading..., memory)}: builds since the ninth session take a {@link SegmentAllocator},
         * earlier ones an {@link Arena}.
         */
        private static MethodHandle allocating(MethodHandles.Lookup lookup, Class<?> cls, Class<?>... leading)
                throws ReflectiveOperationException {
            for (Class<?> memory : new Class<?>[] {SegmentAllocator.class, Arena.class}) {
                Class<?>[] params = Arrays.copyOf(leading, leading.length + 1);
                params[leading.length] = memory;
                try {
                    return lookup.findStatic(cls, "quantize", MethodType.methodType(cls, params));
                } catch (NoSuchMethodException e) {
                    // an older build: try its signature
                }
            }
            throw new NoSuchMethodException(cls.getName() + ".quantize");
        }
    }
}
