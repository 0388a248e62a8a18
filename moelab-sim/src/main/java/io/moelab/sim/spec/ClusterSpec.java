package io.moelab.sim.spec;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.Topology;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The serving cluster: nodes of GPUs, what a GPU computes and reads per second, and the links between GPUs.
 *
 * @param name                name for reports
 * @param nodes               nodes
 * @param gpusPerNode         GPUs per node
 * @param peakTflops          dense bf16 peak of one GPU, TFLOP/s
 * @param computeEfficiency   fraction of the peak that grouped expert GEMMs reach (0..1]
 * @param hbmTBps             HBM bandwidth of one GPU, TB/s
 * @param nvlinkGBps          intra-node bandwidth per GPU per direction, GB/s
 * @param networkGBps         inter-node bandwidth per GPU per direction, GB/s
 * @param nvlinkLatencyUs     latency of an intra-node transfer, µs
 * @param networkLatencyUs    latency of an inter-node transfer, µs
 * @param hbmGB               HBM capacity of one GPU, GB (for the memory that redundant experts take)
 */
public record ClusterSpec(String name, int nodes, int gpusPerNode, double peakTflops, double computeEfficiency,
                          double hbmTBps, double nvlinkGBps, double networkGBps, double nvlinkLatencyUs,
                          double networkLatencyUs, double hbmGB) {

    private static final Pattern PRESET = Pattern.compile("(\\d+)x(\\d+)-(h100|h800)");

    /**
     * Validates ranges, naming the field.
     *
     * @throws NullPointerException  if {@code name} is null
     * @throws InvalidInputException naming the field out of range
     */
    public ClusterSpec {
        Objects.requireNonNull(name, "name");
        if (nodes <= 0) {
            throw new InvalidInputException("nodes", "must be at least 1, got " + nodes);
        }
        if (gpusPerNode <= 0) {
            throw new InvalidInputException("gpus_per_node", "must be at least 1, got " + gpusPerNode);
        }
        if ((long) nodes * gpusPerNode > Topology.MAX_REPLICAS) {
            // Every GPU holds at least one slot of each layer, and a layer has at most MAX_REPLICAS slots.
            throw new InvalidInputException("gpus_per_node", nodes + " nodes x " + gpusPerNode + " GPUs is more "
                    + "GPUs than a placement has slots (at most " + Topology.MAX_REPLICAS + ")");
        }
        // Wide but physical ranges (docs/SIM.md): a rate of 1e-300 passed as positive, and the report printed step
        // times of 300 digits; 1e300 made every time vanish.
        range(peakTflops, "peak_tflops", 0.01, 1e5, " TFLOP/s");
        range(computeEfficiency, "compute_efficiency", 0.001, 1, "");
        range(hbmTBps, "hbm_tbps", 0.001, 1e3, " TB/s");
        range(nvlinkGBps, "nvlink_gbps", 0.001, 1e6, " GB/s");
        range(networkGBps, "network_gbps", 0.001, 1e6, " GB/s");
        // Not a rate, but as unbounded: 1e-300 GB ran, every placement flagged as more than the GPU's HBM.
        range(hbmGB, "hbm_gb", 0.01, 1e5, " GB");
        // Each named: "latency" is no field of a cluster file, and which of the two was wrong went unsaid.
        range(nvlinkLatencyUs, "nvlink_latency_us", 0, 1e6, " microseconds");
        range(networkLatencyUs, "network_latency_us", 0, 1e6, " microseconds");
    }

    /** Refuses {@code v} outside [min, max] (NaN included), naming the range and its unit. */
    private static void range(double v, String field, double min, double max, String unit) {
        if (!(v >= min && v <= max)) {
            throw new InvalidInputException(field, "must be from " + Numbers.plain(min) + " to " + Numbers.plain(max)
                    + unit + ", got " + Numbers.plain(v));
        }
    }

    /**
     * A preset {@code NxG-h100} or {@code NxG-h800}: N nodes of G GPUs. H100 SXM: 989 TFLOP/s dense bf16,
     * 3.35 TB/s HBM, 80 GB, NVLink 450 GB/s per direction; H800: the same but NVLink 200 GB/s per direction.
     * Both: 400 Gb/s (50 GB/s) network per GPU. Assumed (documented in docs/SIM.md): grouped GEMMs reach 50% of
     * peak; transfers start after 3 µs (NVLink) or 10 µs (network).
     *
     * @throws InvalidInputException naming {@code cluster}
     */
    public static ClusterSpec preset(String name) {
        Matcher m = PRESET.matcher(name.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new InvalidInputException("cluster", "unknown cluster '" + name
                    + "' (presets: NxG-h100, NxG-h800, e.g. 4x8-h100; or a JSON file)");
        }
        // As doubles: digits past an int's range are too many GPUs, not a number format error.
        double nodeCount = Double.parseDouble(m.group(1));
        double gpuCount = Double.parseDouble(m.group(2));
        if (nodeCount <= 0 || gpuCount <= 0) {
            throw new InvalidInputException("cluster", "'" + name + "' needs at least one node of one GPU");
        }
        if (nodeCount * gpuCount > Topology.MAX_REPLICAS) {
            throw new InvalidInputException("cluster", "'" + name + "' has more GPUs than a placement has slots "
                    + "(at most " + Topology.MAX_REPLICAS + ")");
        }
        int nodes = (int) nodeCount;
        int gpus = (int) gpuCount;
        double nvlink = m.group(3).equals("h100") ? 450 : 200;
        return new ClusterSpec(name.toLowerCase(Locale.ROOT), nodes, gpus, 989, 0.5, 3.35, nvlink, 50, 3, 10, 80);
    }

    /** GPUs in total. */
    public int gpus() {
        return nodes * gpusPerNode;
    }

    /** Achievable FLOP/s of one GPU for expert GEMMs. */
    public double flopsPerSecond() {
        return peakTflops * 1e12 * computeEfficiency;
    }

    /** HBM bytes per second of one GPU. */
    public double hbmBytesPerSecond() {
        return hbmTBps * 1e12;
    }

    /** Intra-node bytes per second per GPU per direction. */
    public double nvlinkBytesPerSecond() {
        return nvlinkGBps * 1e9;
    }

    /** Inter-node bytes per second per GPU per direction. */
    public double networkBytesPerSecond() {
        return networkGBps * 1e9;
    }

    @Override
    public String toString() {
        return name + " (" + nodes + " x " + gpusPerNode + " GPUs, " + peakTflops + " TFLOP/s x " + computeEfficiency
                + ", HBM " + hbmTBps + " TB/s, NVLink " + nvlinkGBps + " GB/s, network " + networkGBps + " GB/s)";
    }
}
