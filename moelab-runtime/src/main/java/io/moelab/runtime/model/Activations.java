package io.moelab.runtime.model;

/**
 * The working arrays of one sequence's forward pass, allocated once per {@link KvCache} rather than on every
 * token (a decode step would otherwise leave about fifteen arrays per layer to the collector).
 */
final class Activations {
    final float[] x;
    final float[] norm;
    final float[] delta;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] context;
    final float[] scores;
    final float[] routerLogits;
    final double[] probs;
    /** Per expert run in one step (the chosen ones, then the shared one): gate, up and output vectors. */
    final float[][] gates;
    final float[][] ups;
    final float[][] expertOuts;
    final float[] ropeCos;
    final float[] ropeSin;
    /** The position {@link #ropeCos} and {@link #ropeSin} hold the angles of, or -1. */
    int ropePosition = -1;

    Activations(ModelConfig c, int capacity) {
        int h = c.hidden();
        x = new float[h];
        norm = new float[h];
        delta = new float[h];
        q = new float[c.heads() * c.headDim()];
        k = new float[c.kvHeads() * c.headDim()];
        v = new float[c.kvHeads() * c.headDim()];
        context = new float[q.length];
        scores = new float[Math.multiplyExact(c.heads(), capacity)];
        routerLogits = new float[Math.max(1, c.experts())];
        probs = new double[routerLogits.length];
        int inner = Math.max(c.intermediate(), Math.max(c.expertIntermediate(), c.sharedIntermediate()));
        int runs = Math.max(1, c.topK() + (c.sharedIntermediate() > 0 ? 1 : 0));
        gates = new float[runs][inner];
        ups = new float[runs][inner];
        expertOuts = new float[runs][h];
        ropeCos = new float[c.headDim() / 2];
        ropeSin = new float[c.headDim() / 2];
    }
}
