package io.moelab.cli.sim;

import io.moelab.cli.support.Table;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import io.moelab.sim.PolicyResult;
import io.moelab.sim.SimulationReport;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** JSON objects and tables of simulation results, shared by {@code sim} and {@code sim sweep}. */
final class SimReports {
    private SimReports() {
    }

    /** One policy's summary: the fields of {@code summary.json}, in a stable order. */
    static Map<String, Object> policy(PolicyResult r) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("policy", r.policy());
        json.put("throughput_tokens_per_s", r.throughputTokensPerSecond());
        json.put("p50_step_ms", r.p50StepMs());
        json.put("p99_step_ms", r.p99StepMs());
        json.put("mean_gpu_balancedness", r.meanGpuBalancedness());
        json.put("migrated_bytes", r.migratedBytes());
        json.put("mean_step_ms", r.meanStepMs());
        json.put("gpu_utilization", r.gpuUtilization());
        json.put("tokens", r.tokens());
        json.put("total_s", r.totalSeconds());
        json.put("stall_s", r.stallSeconds());
        json.put("rebalances", r.rebalances());
        json.put("skipped_rebalances", r.skipped());
        json.put("unfinished_rebalances", r.unfinished());
        json.put("planning_s", r.planningSeconds());
        json.put("migration_s", r.migrationSeconds());
        json.put("expert_copies_moved", r.expertCopies());
        json.put("mean_dispatch_ms", r.meanDispatchMs());
        json.put("mean_expert_compute_ms", r.meanExpertMs());
        json.put("mean_combine_ms", r.meanCombineMs());
        return json;
    }

    /** The settings a report was made with. */
    static Map<String, Object> settings(SimulationReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model(report.model()));
        json.put("cluster", cluster(report.cluster()));
        json.put("steps", report.steps());
        json.put("replicas", report.topology().replicas());
        json.put("redundant", report.redundant());
        json.put("expert_memory_gb_per_gpu", report.expertBytesPerGpu() / 1e9);
        json.put("experts_fit_in_hbm", report.expertsFitInHbm());
        json.put("rebalance_every", report.options().rebalanceEvery());
        json.put("window", report.options().window());
        json.put("history_windows", report.options().historyWindows());
        json.put("overlap_migration", report.options().overlapMigration());
        json.put("planning", Double.isNaN(report.options().planningSeconds()) ? "measured"
                : Numbers.plain(report.options().planningSeconds() * 1e3) + " ms");
        // As --routing spells it (node-local), so the value can be given back to the option as written.
        json.put("routing", report.options().step().routing().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        json.put("dispatch_bytes", report.options().step().dispatchBytes());
        json.put("combine_bytes", report.options().step().combineBytes());
        return json;
    }

    private static Map<String, Object> model(ModelSpec m) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", m.name());
        json.put("moe_layers", m.moeLayers());
        json.put("experts", m.experts());
        json.put("top_k", m.topK());
        json.put("hidden", m.hidden());
        json.put("expert_ffn", m.expertFfn());
        json.put("groups", m.groups());
        json.put("bytes_per_param", m.bytesPerParam());
        json.put("shared_experts", m.sharedExperts());
        json.put("shared_ffn", m.sharedFfn());
        json.put("dense_flops_per_token", m.denseFlopsPerToken());
        return json;
    }

    private static Map<String, Object> cluster(ClusterSpec c) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", c.name());
        json.put("nodes", c.nodes());
        json.put("gpus_per_node", c.gpusPerNode());
        json.put("peak_tflops", c.peakTflops());
        json.put("compute_efficiency", c.computeEfficiency());
        json.put("hbm_tbps", c.hbmTBps());
        json.put("nvlink_gbps", c.nvlinkGBps());
        json.put("network_gbps", c.networkGBps());
        json.put("nvlink_latency_us", c.nvlinkLatencyUs());
        json.put("network_latency_us", c.networkLatencyUs());
        json.put("hbm_gb", c.hbmGB());
        return json;
    }

    /** The per-policy table: throughput relative to the first policy, latency, balance, migration. */
    static Table table(List<PolicyResult> results) {
        String first = results.getFirst().policy();
        Table table = new Table("policy", "tokens/s", "vs " + first, "p50 ms", "p99 ms", "balancedness",
                "GPU util", "rebalances", "migrated GB", "stall ms");
        double base = results.getFirst().throughputTokensPerSecond();
        for (PolicyResult r : results) {
            table.row(r.policy(), tokensPerSecond(r.throughputTokensPerSecond()),
                    String.format(Locale.ROOT, "%.3fx", r.throughputTokensPerSecond() / base),
                    figure(r.p50StepMs(), 3), figure(r.p99StepMs(), 3),
                    String.format(Locale.ROOT, "%.4f", r.meanGpuBalancedness()),
                    String.format(Locale.ROOT, "%.1f%%", 100 * r.gpuUtilization()),
                    String.valueOf(r.rebalances()),
                    String.format(Locale.ROOT, "%.2f", r.migratedBytes() / 1e9),
                    figure(r.stallSeconds() * 1e3, 1));
        }
        return table;
    }

    /** A throughput for the tables: {@link #figure figure(v, 0)}, whole tokens from 100 up. */
    static String tokensPerSecond(double v) {
        return figure(v, 0);
    }

    /**
     * A figure for the tables: {@code v} to {@code decimals} places where these show three significant digits (from
     * 100 tokens/s with none, from 0.1 ms with three), else three significant digits ({@code 42.5}, {@code 0.00294}),
     * in scientific notation below 0.0001 ({@code 1.2e-5}). Fixed places alone printed a very slow cluster's 0.0029
     * tokens/s as 0 and a very fast cluster's 0.00007 ms steps as 0.000; the JSON outputs keep the full double.
     */
    static String figure(double v, int decimals) {
        String fixed = "%." + decimals + "f";
        if (!Double.isFinite(v) || v == 0) {
            return String.format(Locale.ROOT, fixed, v);
        }
        BigDecimal rounded = new BigDecimal(v).round(new MathContext(3)).stripTrailingZeros();
        if (rounded.abs().compareTo(BigDecimal.ONE.scaleByPowerOfTen(2 - decimals)) >= 0) {
            return String.format(Locale.ROOT, fixed, v);
        }
        if (rounded.abs().compareTo(new BigDecimal("0.0001")) >= 0) {
            return rounded.toPlainString();
        }
        int exponent = rounded.precision() - 1 - rounded.scale(); // of the leading digit
        return rounded.movePointLeft(exponent).toPlainString() + "e" + exponent;
    }

    /** Lines on the deployment simulated, above the table. */
    static String header(SimulationReport report) {
        var o = report.options();
        String migration = o.overlapMigration() ? "overlapped with serving" : "serving stalls";
        return "model: " + report.model() + "\n"
                + "cluster: " + report.cluster() + "\n"
                + String.format(Locale.ROOT, "placement: %d slots per layer (%d redundant), %d per GPU; expert "
                        + "weights %.1f GB per GPU%s%n", report.topology().replicas(), report.redundant(),
                        report.topology().slotsPerGpu(), report.expertBytesPerGpu() / 1e9,
                        report.expertsFitInHbm() ? "" : " (more than the GPU's HBM!)")
                + "rebalance: every " + Nouns.count(o.rebalanceEvery(), "step") + " from the last " + o.window() + " ("
                + migration + " while weights move; planning "
                + (Double.isNaN(o.planningSeconds()) ? "measured" : Numbers.plain(o.planningSeconds() * 1e3) + " ms")
                + ")\n"
                + (o.rebalanceEvery() >= report.steps() ? "note: the trace has " + Nouns.count(report.steps(), "step")
                        + ", so no rebalance happens before it ends\n" : "");
    }
}
