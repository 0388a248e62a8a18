package io.moelab.bench.runtime;

import io.moelab.eplb.eval.Stats;
import io.moelab.runtime.bench.MemoryBandwidth;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.MatVec;
import io.moelab.runtime.tensor.ProductTeam;
import io.moelab.runtime.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How close the F32 matrix-vector products come to the memory bus: {@code COUNT} distinct {@code ROWSxCOLS} F32
 * matrices (together well above the last-level cache, like a model's experts) are multiplied one after another
 * through {@link MatVec#multiply} on the shared product team, then the same bytes are read once by
 * {@link MemoryBandwidth#read}, in alternation, so that both see the host in the same minute. Prints each round's
 * two rates and their ratio, then the medians. A shared host's bandwidth drifts by 2x within minutes, so a roofline
 * fraction against the best reading of another minute mixes the two effects; this ratio does not.
 *
 * <p>Usage: {@code StreamSideBySide [ROWSxCOLS] [COUNT] [ROUNDS]} (defaults 448x512, 400, 12: m100's expert shape,
 * 367 MB), with {@code --add-modules jdk.incubator.vector}.
 */
public final class StreamSideBySide {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int WARMUP_ROUNDS = 3;
    private static volatile float sink;

    private StreamSideBySide() {
    }

    /** The arguments, checked; each has a default. */
    record Options(int rows, int cols, int count, int rounds) {
        /**
         * Reads the arguments of the class comment.
         *
         * @throws HarnessArgs.BadArgument the usage line for too many arguments, else a line naming the bad one
         */
        static Options parse(String[] args) {
            if (args.length > 3) {
                throw HarnessArgs.usage("StreamSideBySide [ROWSxCOLS] [COUNT] [ROUNDS]");
            }
            int[] shape = HarnessArgs.shape("ROWSxCOLS", args.length > 0 ? args[0] : "448x512");
            int count = args.length > 1 ? HarnessArgs.count("COUNT", args[1]) : 400;
            int rounds = args.length > 2 ? HarnessArgs.count("ROUNDS", args[2]) : 12;
            if ((long) shape[0] * shape[1] * Float.BYTES > Integer.MAX_VALUE) {
                throw new HarnessArgs.BadArgument("error: ROWSxCOLS: " + args[0] + " is over 2 GiB of F32");
            }
            return new Options(shape[0], shape[1], count, rounds);
        }
    }

    /**
     * Runs the comparison; see the class comment for the arguments. Bad arguments print one line and exit 2.
     *
     * @param args the arguments of the class comment, each optional
     */
    public static void main(String[] args) {
        run(HarnessArgs.parseOrExit(args, Options::parse));
    }

    private static void run(Options options) {
        int rows = options.rows();
        int cols = options.cols();
        int count = options.count();
        int rounds = options.rounds();
        long bytes = (long) rows * cols * Float.BYTES;
        MemorySegment all = Arena.global().allocate(bytes * count, 64);
        SplittableRandom random = new SplittableRandom(1);
        for (long i = 0; i < all.byteSize() / Float.BYTES; i++) {
            all.setAtIndex(F32_LE, i, (float) (random.nextDouble() - 0.5));
        }
        WeightMatrix[] matrices = new WeightMatrix[count];
        for (int i = 0; i < count; i++) {
            matrices[i] = WeightMatrix.of(DType.F32, all.asSlice(i * bytes, bytes), rows, cols);
        }
        float[] x = new float[cols];
        float[] out = new float[rows];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) (random.nextDouble() - 0.5);
        }
        System.out.printf(Locale.ROOT, "%d x %dx%d F32 matrices (%.0f MB), %d threads; GB/s per round:%n", count, rows,
                cols, all.byteSize() / 1e6, ProductTeam.shared().threads());
        double[] products = new double[rounds];
        double[] reads = new double[rounds];
        double[] ratios = new double[rounds];
        for (int round = -WARMUP_ROUNDS; round < rounds; round++) {
            long start = System.nanoTime();
            for (WeightMatrix m : matrices) {
                MatVec.multiply(m, x, out);
            }
            double product = all.byteSize() / (double) (System.nanoTime() - start);
            sink += out[0];
            start = System.nanoTime();
            sink += MemoryBandwidth.read(all);
            double read = all.byteSize() / (double) (System.nanoTime() - start);
            if (round >= 0) {
                products[round] = product;
                reads[round] = read;
                ratios[round] = product / read;
                System.out.printf(Locale.ROOT, "products %6.2f  read %6.2f  ratio %.2f%n", product, read,
                        ratios[round]);
            }
        }
        System.out.printf(Locale.ROOT, "median   %6.2f       %6.2f        %.2f%n", Stats.median(products),
                Stats.median(reads), Stats.median(ratios));
    }
}
