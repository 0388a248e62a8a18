package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * moelab's compact trace format. Inside a gzip stream:
 * <pre>
 *   magic    8 bytes  "MOELABTR"
 *   version  1 byte   1
 *   layers, experts, steps   unsigned varints
 *   encoding 1 byte   0 = integers, 1 = float64
 *   values   steps x layers x experts, row-major:
 *            encoding 0: zig-zag varint of (value - the same cell's value in the previous step)
 *            encoding 1: IEEE-754 big-endian doubles
 * </pre>
 * Token counts change little between steps, so integer deltas take one or two bytes before gzip.
 */
final class CompactTraces {
    static final byte[] MAGIC = "MOELABTR".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int INTEGERS = 0;
    private static final int DOUBLES = 1;
    /** Values the first step's arrays start with before they grow. */
    private static final int FIRST_ALLOCATION = 1 << 16;

    private CompactTraces() {
    }

    /**
     * A writer of a trace of the given shape, its header written at once; the {@code steps} steps are to follow.
     *
     * @param integral whether every value is a whole number below 2^53 (encoded as integer deltas); a writer told so
     *                 refuses any other value with an {@link IllegalArgumentException}
     */
    static StepWriter writer(OutputStream raw, int layers, int experts, int steps, boolean integral)
            throws IOException {
        DataOutputStream out = new DataOutputStream(raw);
        out.write(MAGIC);
        out.writeByte(VERSION);
        writeVarint(out, layers);
        writeVarint(out, experts);
        writeVarint(out, steps);
        out.writeByte(integral ? INTEGERS : DOUBLES);
        long[] previous = new long[layers * experts];
        double[] row = new double[experts];
        return new StepWriter() {
            @Override
            public void accept(LoadMatrix step) {
                try {
                    for (int l = 0; l < layers; l++) {
                        step.copyLayer(l, row);
                        for (int e = 0; e < row.length; e++) {
                            if (integral) {
                                if (!isIntegral(row[e])) {
                                    throw new IllegalArgumentException("load " + row[e] + " of layer " + l
                                            + " expert " + e + " is not a whole number below 2^53, in a trace "
                                            + "written as integers");
                                }
                                int cell = l * row.length + e;
                                long v = (long) row[e];
                                long delta = v - previous[cell];
                                writeVarint(out, (delta << 1) ^ (delta >> 63));
                                previous[cell] = v;
                            } else {
                                out.writeDouble(row[e]);
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new StepWriter.WriteFailure(e);
                }
            }

            @Override
            public void finish() throws IOException {
                out.flush();
            }
        };
    }

    static boolean isIntegral(ExpertLoadTrace trace) {
        for (LoadMatrix step : trace.stepList()) {
            for (int l = 0; l < step.layers(); l++) {
                for (int e = 0; e < step.experts(); e++) {
                    if (!isIntegral(step.load(l, e))) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static boolean isIntegral(double v) {
        return v == Math.rint(v) && v < 0x1p53;
    }

    /**
     * Reads a trace whose magic has not been consumed yet, delivering each step as it is decoded.
     *
     * @return the number of steps
     */
    static int read(InputStream raw, String source, StepSink sink) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        try {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new InvalidInputException(source, "not a moelab compact trace (bad magic)");
            }
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new InvalidInputException(source, "compact trace version " + version + " is not supported "
                        + "(this build reads version " + VERSION + ")");
            }
            int layers = readCount(in, source, "layers");
            int experts = readCount(in, source, "experts");
            int steps = readCount(in, source, "steps");
            // From the header, before any load is read: its varints cost a few bytes, the loads they state gigabytes.
            TraceLimits.requireShape("header", layers, experts, "expert");
            int encoding = in.readUnsignedByte();
            if (encoding != INTEGERS && encoding != DOUBLES) {
                throw new InvalidInputException(source, "unknown value encoding " + encoding);
            }
            int cells = layers * experts;
            // The first step's arrays grow with the values read, so that a header promising more than the file
            // holds fails at its end without allocating for the promise (a 37-byte file asked for 4 GB).
            long[] previous = new long[Math.min(cells, FIRST_ALLOCATION)];
            // Reused from step to step (a LoadMatrix copies it); it reaches its full size within the first step.
            double[] values = new double[previous.length];
            for (int s = 0; s < steps; s++) {
                for (int c = 0; c < cells; c++) {
                    if (c == values.length) {
                        int grown = (int) Math.min(cells, 2L * c);
                        values = Arrays.copyOf(values, grown);
                        previous = Arrays.copyOf(previous, grown);
                    }
                    if (encoding == INTEGERS) {
                        long z = readVarint(in, source);
                        previous[c] += (z >>> 1) ^ -(z & 1);
                        values[c] = previous[c];
                    } else {
                        values[c] = in.readDouble();
                    }
                }
                sink.accept(LoadMatrix.ofFlat(layers, experts, values, source + " step " + s));
            }
            if (in.read() != -1) {
                throw new InvalidInputException(source, "unexpected data after " + steps + " steps");
            }
            return steps;
        } catch (EOFException e) {
            throw new InvalidInputException(source, "truncated compact trace", e);
        }
    }

    private static int readCount(DataInputStream in, String source, String what) throws IOException {
        long v = readVarint(in, source);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw new InvalidInputException(source, "invalid " + what + " count " + v);
        }
        return (int) v;
    }

    private static void writeVarint(DataOutputStream out, long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.writeByte((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    private static long readVarint(DataInputStream in, String source) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = in.readUnsignedByte();
            if (shift == 63 && (b & 0x7E) != 0) {
                // The tenth byte holds bit 63 only; more would be bits no long has, silently dropped by the shift.
                break;
            }
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new InvalidInputException(source, "corrupt varint");
    }
}
