package io.moelab.sim.cost;

import io.moelab.sim.spec.ClusterSpec;

/**
 * A weight transfer in flight while serving goes on ({@code --overlap-migration}), sharing each GPU's links with the
 * steps' all-to-all. {@link StepModel#step(io.moelab.eplb.Placement, io.moelab.eplb.LoadMatrix, Transfer)} advances
 * it phase by phase; docs/SIM.md ("Overlapped migration shares the links") gives the model:
 * <ul>
 *   <li>no byte moves during the first {@code delaySeconds} of serving (planning); then each link's copies start
 *       after that link's latency, as {@link MigrationCost#seconds(ClusterSpec)} counts it;</li>
 *   <li>per GPU and link, the transfer's bytes are the larger of those it sends and receives
 *       ({@link MigrationCost#nvlinkBytes()}, {@link MigrationCost#networkBytes()}) and the all-to-all's the larger
 *       of its own, as the step model takes them;</li>
 *   <li>in a compute phase the transfer has each link to itself; in an all-to-all phase a link that carries both
 *       gives each half its bandwidth until one of them is done, then all of it to the other (processor sharing:
 *       NVLink and RDMA give concurrent flows no priority). An all-to-all of V bytes meeting M bytes of transfer
 *       thus takes (V + min(V, M)) / B, and the transfer moves the link's capacity over the phase less V.</li>
 * </ul>
 * Not thread-safe.
 */
public final class Transfer {
    private final double[] nvlink;      // bytes left per GPU
    private final double[] network;
    private final double nvlinkRate;
    private final double networkRate;
    private final double delay;
    private final double nvlinkStart;   // serving time since the rebalance when the link's bytes start to move
    private final double networkStart;
    private int linksLeft;              // (GPU, link) pairs with bytes left
    private double elapsed;
    private double lastByte;

    /**
     * A transfer of {@code cost}'s copies on {@code cluster} that starts moving bytes after {@code delaySeconds} of
     * serving.
     *
     * @throws IllegalArgumentException if the cost is for another number of GPUs or the delay is not a time
     */
    public Transfer(MigrationCost cost, double delaySeconds, ClusterSpec cluster) {
        int gpus = cluster.gpus();
        double[] nv = cost.nvlinkBytes();
        double[] net = cost.networkBytes();
        if (nv.length != net.length || nv.length != 0 && nv.length != gpus) {
            throw new IllegalArgumentException("transfer is for " + nv.length + " GPUs, cluster has " + gpus);
        }
        if (!(delaySeconds >= 0) || Double.isInfinite(delaySeconds)) {
            throw new IllegalArgumentException("delay must be a finite time >= 0, got " + delaySeconds);
        }
        this.nvlink = nv.length == 0 ? new double[gpus] : nv;
        this.network = net.length == 0 ? new double[gpus] : net;
        for (int g = 0; g < gpus; g++) {
            linksLeft += (nvlink[g] > 0 ? 1 : 0) + (network[g] > 0 ? 1 : 0);
        }
        this.nvlinkRate = cluster.nvlinkBytesPerSecond();
        this.networkRate = cluster.networkBytesPerSecond();
        this.delay = delaySeconds;
        this.nvlinkStart = delaySeconds + cluster.nvlinkLatencyUs() * 1e-6;
        this.networkStart = delaySeconds + cluster.networkLatencyUs() * 1e-6;
        this.lastByte = delaySeconds;
    }

    /** Whether the delay has passed and every byte has moved: the new placement can serve from the next step. */
    public boolean done() {
        return linksLeft == 0 && elapsed >= delay;
    }

    /**
     * The time from the end of the delay to the last byte moved, once {@link #done()}: the transfer's duration with
     * the links shared ({@link MigrationCost#seconds(ClusterSpec)} when nothing else used them; 0 without copies).
     */
    public double seconds() {
        return lastByte - delay;
    }

    /** GPUs of the cluster it runs on. */
    int gpus() {
        return nvlink.length;
    }

    /** Serving time since the transfer was started. */
    public double elapsed() {
        return elapsed;
    }

    /**
     * The time an all-to-all's {@code bytes} on GPU {@code g}'s link take beyond {@code bytes / B} because this
     * transfer shares the link: the part of them still to send when the transfer's bytes start, up to the transfer's
     * bytes left, at the link's rate. For a phase that starts now.
     */
    double sharedSeconds(boolean overNvlink, int g, double bytes) {
        double left = overNvlink ? nvlink[g] : network[g];
        if (left <= 0) {
            return 0;
        }
        double rate = overNvlink ? nvlinkRate : networkRate;
        double start = Math.max(0, (overNvlink ? nvlinkStart : networkStart) - elapsed);
        return Math.min(Math.max(0, bytes - rate * start), left) / rate;
    }

    /**
     * Advances over an all-to-all phase of {@code seconds} in which each GPU's all-to-all moved {@code nvlinkBytes[g]}
     * and {@code networkBytes[g]} (the larger of sent and received): the transfer gets each link's capacity over the
     * phase less what the all-to-all took of it after the transfer's bytes started.
     */
    void communicate(double seconds, double[] nvlinkBytes, double[] networkBytes) {
        advance(nvlink, nvlinkRate, nvlinkStart, seconds, nvlinkBytes);
        advance(network, networkRate, networkStart, seconds, networkBytes);
        elapsed += seconds;
    }

    /** Advances over a compute phase of {@code seconds}: every link carries the transfer alone. */
    void compute(double seconds) {
        advance(nvlink, nvlinkRate, nvlinkStart, seconds, null);
        advance(network, networkRate, networkStart, seconds, null);
        elapsed += seconds;
    }

    private void advance(double[] left, double rate, double start, double seconds, double[] shared) {
        // The transfer starts `offset` into the phase (or not in it); the all-to-all has sent rate * offset by then.
        double offset = Math.min(seconds, Math.max(0, start - elapsed));
        for (int g = 0; g < left.length; g++) {
            double m = left[g];
            if (m <= 0) {
                continue;
            }
            double other = shared == null ? 0 : Math.max(0, shared[g] - rate * offset);
            // Work-conserving: from the offset on the link runs full, the all-to-all taking its remaining bytes.
            double capacity = rate * (seconds - offset) - other;
            if (capacity >= m) {
                // Sharing while both run: done at 2m / B if it is the smaller, else with the all-to-all's at (m+v)/B.
                lastByte = Math.max(lastByte, elapsed + offset + (m + Math.min(m, other)) / rate);
                left[g] = 0;
                linksLeft--;
            } else if (capacity > 0) {
                left[g] = m - capacity;
            }
        }
    }
}
