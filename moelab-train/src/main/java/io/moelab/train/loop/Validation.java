package io.moelab.train.loop;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.moelab.train.model.MoeTransformer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Held-out evaluation: mean negative log-likelihood per predicted token, bits per byte (over targets that are
 * bytes, so BOS/EOS markers count in the loss but not in bits per byte), the same per domain, and per domain the
 * router's assignments per layer and expert. Runs without capacity limits, as inference does.
 */
public final class Validation {
    private static final double LN2 = Math.log(2);

    private final Map<String, int[][]> windows;
    private final int seq;
    private final int batch;

    /**
     * An evaluation over fixed windows.
     *
     * @param windows fixed windows of {@code seq + 1} tokens by domain
     * @param seq     positions predicted per window
     * @param batch   windows per forward pass
     * @throws IllegalArgumentException if {@code seq} or {@code batch} is below 1, or a window is not
     *                                  {@code seq + 1} tokens long
     */
    public Validation(Map<String, int[][]> windows, int seq, int batch) {
        // Checked here: a batch of 0 made run() loop for ever, a window of another length failed inside the model.
        if (seq < 1) {
            throw new IllegalArgumentException("seq must be at least 1, got " + seq);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        Map<String, int[][]> copy = new LinkedHashMap<>();
        windows.forEach((domain, rows) -> {
            if (rows == null) {
                throw new IllegalArgumentException("domain " + domain + " has no windows (null)");
            }
            for (int i = 0; i < rows.length; i++) {
                if (rows[i] == null || rows[i].length != (long) seq + 1) {
                    throw new IllegalArgumentException("window " + (i + 1) + " of domain " + domain + " has "
                            + (rows[i] == null ? 0 : rows[i].length) + " tokens, not seq + 1 = " + ((long) seq + 1));
                }
            }
            copy.put(domain, rows);
        });
        this.windows = copy;
        this.seq = seq;
        this.batch = batch;
    }

    /**
     * The result of one evaluation.
     *
     * @param loss                  mean NLL per predicted token, nats, all domains
     * @param bitsPerByte           bits per byte, all domains
     * @param bitsPerByteByDomain   bits per byte by domain
     * @param routingByDomain       per domain, assignments per layer and expert
     * @param specialization        how much routing differs between domains, against its sampling noise
     */
    public record Result(double loss, double bitsPerByte, Map<String, Double> bitsPerByteByDomain,
                         Map<String, long[][]> routingByDomain, Specialization specialization) {}

    /** Sums over one domain's windows. */
    private static final class Tally {
        double nll;
        long tokens;
        double byteNll;
        long bytes;
        final long[][][] halves;

        Tally(int layers, int experts) {
            halves = new long[2][layers][experts];
        }

        long[][] counts() {
            long[][] c = new long[halves[0].length][];
            for (int l = 0; l < c.length; l++) {
                c[l] = new long[halves[0][l].length];
                for (int x = 0; x < c[l].length; x++) {
                    c[l][x] = halves[0][l][x] + halves[1][l][x];
                }
            }
            return c;
        }
    }

    /** Evaluates {@code model}. */
    public Result run(MoeTransformer model, NDManager manager) {
        Map<String, Tally> tallies = new LinkedHashMap<>();
        for (Map.Entry<String, int[][]> e : windows.entrySet()) {
            Tally t = new Tally(model.spec().layers(), model.spec().experts());
            // Even and odd windows in separate passes: two independent samples of the domain's routing.
            for (int h = 0; h < 2; h++) {
                int[][] part = every(e.getValue(), h);
                for (int from = 0; from < part.length; from += batch) {
                    evaluate(model, manager, java.util.Arrays.copyOfRange(part, from,
                            Math.min(part.length, from + batch)), t, t.halves[h]);
                }
            }
            tallies.put(e.getKey(), t);
        }
        double nll = 0;
        long tokens = 0;
        double byteNll = 0;
        long bytes = 0;
        Map<String, Double> bpb = new LinkedHashMap<>();
        Map<String, long[][]> routing = new LinkedHashMap<>();
        Map<String, long[][][]> halves = new LinkedHashMap<>();
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            nll += t.nll;
            tokens += t.tokens;
            byteNll += t.byteNll;
            bytes += t.bytes;
            bpb.put(e.getKey(), t.bytes == 0 ? Double.NaN : t.byteNll / LN2 / t.bytes);
            routing.put(e.getKey(), t.counts());
            halves.put(e.getKey(), t.halves);
        }
        return new Result(tokens == 0 ? Double.NaN : nll / tokens, bytes == 0 ? Double.NaN : byteNll / LN2 / bytes,
                bpb, routing, Specialization.of(halves));
    }

    private void evaluate(MoeTransformer model, NDManager manager, int[][] chunk, Tally t, long[][] counts) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            MoeTransformer.Output out = model.forward(chunk, seq, 0, manager);
            float[] lp = Trainer.targetLogProbs(out.logits(), chunk, seq, model.spec().vocab(), manager)
                    .toFloatArray();
            for (int b = 0; b < chunk.length; b++) {
                for (int i = 0; i < seq; i++) {
                    double x = -lp[b * seq + i];
                    t.nll += x;
                    t.tokens++;
                    if (chunk[b][i + 1] < 256) {
                        t.byteNll += x;
                        t.bytes++;
                    }
                }
            }
            for (int l = 0; l < counts.length; l++) {
                for (int x = 0; x < counts[l].length; x++) {
                    counts[l][x] += out.counts()[l][x];
                }
            }
        }
    }

    private static int[][] every(int[][] rows, int parity) {
        int[][] out = new int[(rows.length + 1 - parity) / 2][];
        for (int i = parity, j = 0; i < rows.length; i += 2, j++) {
            out[j] = rows[i];
        }
        return out;
    }
}
