package io.moelab.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
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
     * @param windows fixed windows of {@code seq + 1} tokens by domain
     * @param batch   windows per forward pass
     */
    public Validation(Map<String, int[][]> windows, int seq, int batch) {
        this.windows = windows;
        this.seq = seq;
        this.batch = batch;
    }

    /**
     * @param loss                  mean NLL per predicted token, nats, all domains
     * @param bitsPerByte           bits per byte, all domains
     * @param bitsPerByteByDomain   bits per byte by domain
     * @param routingByDomain       per domain, assignments per layer and expert
     */
    public record Result(double loss, double bitsPerByte, Map<String, Double> bitsPerByteByDomain,
                         Map<String, long[][]> routingByDomain) {}

    /** Evaluates {@code model}. */
    public Result run(MoeTransformer model, NDManager manager) {
        double nll = 0;
        long tokens = 0;
        double byteNll = 0;
        long bytes = 0;
        Map<String, Double> bpb = new LinkedHashMap<>();
        Map<String, long[][]> routing = new LinkedHashMap<>();
        int vocab = model.spec().vocab();
        for (Map.Entry<String, int[][]> e : windows.entrySet()) {
            int[][] rows = e.getValue();
            double dNll = 0;
            long dBytes = 0;
            long[][] counts = new long[model.spec().layers()][model.spec().experts()];
            for (int from = 0; from < rows.length; from += batch) {
                int[][] chunk = java.util.Arrays.copyOfRange(rows, from, Math.min(rows.length, from + batch));
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    MoeTransformer.Output out = model.forward(chunk, seq, 0, manager);
                    long[] pick = new long[chunk.length * seq];
                    for (int b = 0; b < chunk.length; b++) {
                        for (int t = 0; t < seq; t++) {
                            pick[b * seq + t] = (long) (b * seq + t) * vocab + chunk[b][t + 1];
                        }
                    }
                    NDArray logp = out.logits().logSoftmax(-1).reshape(-1)
                            .get(new NDIndex("{}", manager.create(pick)));
                    float[] lp = logp.toFloatArray();
                    for (int b = 0; b < chunk.length; b++) {
                        for (int t = 0; t < seq; t++) {
                            double x = -lp[b * seq + t];
                            nll += x;
                            tokens++;
                            if (chunk[b][t + 1] < 256) {
                                dNll += x;
                                dBytes++;
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
            byteNll += dNll;
            bytes += dBytes;
            bpb.put(e.getKey(), dBytes == 0 ? Double.NaN : dNll / LN2 / dBytes);
            routing.put(e.getKey(), counts);
        }
        return new Result(tokens == 0 ? Double.NaN : nll / tokens, bytes == 0 ? Double.NaN : byteNll / LN2 / bytes,
                bpb, routing);
    }
}
