package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.bench.ModelBench;
import io.moelab.runtime.tensor.ProductTeam;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;

/**
 * {@code moelab bench}'s table and JSON, printed from a result of round figures chosen here, every cell worked by
 * hand. A run's figures are timings, which the command tests can only check for consistency: a table row printing
 * another figure, or one left out, passed them.
 */
class BenchReportTest {
    /**
     * 102.8M parameters; prefill 500 tokens/s, decode 25 tokens/s (runs 24, 25, 26); 86.4 MB active per token, so
     * 2.16 GB/s achieved; tokens of 40, 50, 50, 50 and 60 ms (median 50, p90 60); 10 GB/s of bandwidth, read at 8,
     * 9 and 12 GB/s after the runs.
     */
    private static ModelBench.Result result(boolean bandwidth, boolean settled) {
        return new ModelBench.Result(null, 102_800_000L, 500.0, 25.0, List.of(490.0, 500.0, 510.0),
                List.of(24.0, 25.0, 26.0), 411_200_000L, 411_200_000L, 86_400_000L, 150_000_000L, 450_000_000L,
                400_000_000L, 50_000_000L, 0L, 1.25, bandwidth ? OptionalDouble.of(10.0) : OptionalDouble.empty(),
                bandwidth ? List.of(8.0, 9.0, 12.0) : List.of(), List.of(40_000.0, 50_000.0, 60_000.0, 50_000.0,
                        50_000.0), 7, 4, settled);
    }

    private static BenchCommand parsed(String... args) {
        BenchCommand bench = new BenchCommand();
        new CommandLine(bench).parseArgs(args);
        return bench;
    }

    private static List<String> table(BenchCommand bench, ModelBench.Result r) {
        StringWriter s = new StringWriter();
        PrintWriter out = new PrintWriter(s);
        bench.table(out, r);
        out.flush();
        return s.toString().lines().toList();
    }

    @Test
    void theTablePrintsEachFigureOfTheResult() {
        int threads = ProductTeam.shared().threads();
        assertThat(table(parsed("--model", "m", "--weights", "int4"), result(true, true))).containsExactly(
                "model              m (102.8M parameters), weights int4, " + threads + " threads",
                "prefill            500.0 tokens/s (batched, 64-token prompt, median of 3 runs)",
                "decode             25.0 tokens/s (greedy, 32 tokens, median of 3 runs; 7 distinct inputs)",
                "warm-up            256 tokens, then 4 untimed runs (until the JIT settled)",
                "token time         median 50000 us (20.0 tokens/s), p90 60000 us, over every decoded token of every"
                        + " run",
                "resident weights   411.2 MB",
                "active per token   86.4 MB",
                "achieved           2.16 GB/s (active bytes x decode tokens/s)",
                "memory bandwidth   10.00 GB/s (parallel read of 1024 MiB, best of 5, higher of before and after the"
                        + " runs)",
                // 2.16 of 10 GB/s; 10e9 / 86.4e6 tokens/s.
                "roofline           21.6% of bandwidth (roofline 115.7 tokens/s)",
                // Per run 86.4e6 x (24, 25, 26) / (8, 9, 12) GB/s: 25.9%, 24.0% and 18.7%, median 24.0%.
                "roofline, paired   24.0% (median over runs of each run's decode against a reading right after it:"
                        + " 8.00-12.00 GB/s)",
                // 86.4e6 bytes in 50 ms: 1.728 GB/s of 10.
                "roofline, token    17.3% (active bytes in the median token time, against the bandwidth above)",
                "peak heap          150.0 MB (sum of heap pools' peaks, load included)",
                "off-heap           450.0 MB (mapped checkpoint 400.0 MB + quantized 50.0 MB)",
                "load               1.25 s");
    }

    @Test
    void theTableSaysWhatWasNotMeasuredOrNotSettled() {
        List<String> one = table(parsed("--model", "m", "--runs", "1", "--decode-inputs", "random",
                "--decode-tokens", "1", "--warmup-tokens", "1", "--no-measure-bandwidth"), result(false, false));
        assertThat(one).contains(
                "prefill            500.0 tokens/s (batched, 64-token prompt, 1 run)",
                "decode             25.0 tokens/s (random inputs, 1 token, 1 run; 7 distinct inputs)",
                "warm-up            1 token, then 4 untimed runs (the JIT still compiling: raise --warmup-runs)",
                "memory bandwidth   not measured");
        assertThat(one).noneMatch(l -> l.startsWith("roofline"));
        // No warm-up runs asked for: nothing to settle, nothing to raise.
        assertThat(table(parsed("--model", "m", "--warmup-runs", "0"), result(true, false)))
                .contains("warm-up            256 tokens, then 4 untimed runs");
    }

    @Test
    void theJsonHoldsEachFigureOfTheResult() {
        JsonNode n = parsed("--model", "m", "--weights", "q8", "--decode-inputs", "random").json(result(true, true));
        assertThat(n.get("model").asString()).isEqualTo("m");
        assertThat(n.get("weights").asString()).isEqualTo("q8");
        assertThat(n.get("threads").asInt()).isEqualTo(ProductTeam.shared().threads());
        assertThat(n.get("parameters").asLong()).isEqualTo(102_800_000L);
        assertThat(n.get("prompt_tokens").asInt()).isEqualTo(64);
        assertThat(n.get("decode_tokens").asInt()).isEqualTo(32);
        assertThat(n.get("decode_inputs").asString()).isEqualTo("random");
        assertThat(n.get("decode_distinct_inputs").asInt()).isEqualTo(7);
        assertThat(n.get("runs").asInt()).isEqualTo(3);
        assertThat(n.get("warmup_runs").asInt()).isEqualTo(4);
        assertThat(n.get("jit_settled").asBoolean()).isTrue();
        assertThat(n.get("prefill_tokens_per_s").asDouble()).isEqualTo(500.0);
        assertThat(n.get("decode_tokens_per_s").asDouble()).isEqualTo(25.0);
        assertThat(n.get("prefill_tokens_per_s_runs").valueStream().map(JsonNode::asDouble))
                .containsExactly(490.0, 500.0, 510.0);
        assertThat(n.get("decode_tokens_per_s_runs").valueStream().map(JsonNode::asDouble))
                .containsExactly(24.0, 25.0, 26.0);
        assertThat(n.get("resident_weight_bytes").asLong()).isEqualTo(411_200_000L);
        assertThat(n.get("active_bytes_per_token").asLong()).isEqualTo(86_400_000L);
        assertThat(n.get("peak_heap_bytes").asLong()).isEqualTo(150_000_000L);
        assertThat(n.get("off_heap_bytes").asLong()).isEqualTo(450_000_000L);
        assertThat(n.get("mapped_bytes").asLong()).isEqualTo(400_000_000L);
        assertThat(n.get("quantized_bytes").asLong()).isEqualTo(50_000_000L);
        assertThat(n.get("load_seconds").asDouble()).isEqualTo(1.25);
        assertThat(n.get("achieved_gbps").asDouble()).isCloseTo(2.16, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(n.get("decode_token_us_median").asDouble()).isEqualTo(50_000.0);
        assertThat(n.get("decode_token_us_p90").asDouble()).isEqualTo(60_000.0);
        assertThat(n.get("memory_bandwidth_gbps").asDouble()).isEqualTo(10.0);
        assertThat(n.get("roofline_fraction").asDouble()).isCloseTo(0.216, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(n.get("roofline_tokens_per_s").asDouble()).isCloseTo(1e10 / 86.4e6,
                org.assertj.core.data.Offset.offset(1e-9));
        assertThat(n.get("run_bandwidth_gbps").valueStream().map(JsonNode::asDouble)).containsExactly(8.0, 9.0, 12.0);
        assertThat(n.get("paired_roofline_fraction").asDouble()).isCloseTo(0.24,
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(n.get("token_roofline_fraction").asDouble()).isCloseTo(0.1728,
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(n.size()).isEqualTo(31);
    }
}
