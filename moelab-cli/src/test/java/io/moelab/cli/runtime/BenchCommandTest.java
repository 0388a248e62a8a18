package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code moelab bench} reports its figures as a table or JSON, writes synthetic models, and refuses bad input. */
class BenchCommandTest {
    private static final String[] FAST = {"--prompt-tokens", "4", "--decode-tokens", "3", "--runs", "2",
        "--warmup-tokens", "1"};

    @TempDir
    Path dir;

    private static Result bench(String... args) {
        String[] all = new String[args.length + FAST.length + 1];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(FAST, 0, all, 1 + args.length, FAST.length);
        return CliRunner.run(all);
    }

    @Test
    void jsonHasEveryKey() throws Exception {
        Path m = dir.resolve("tiny");
        Result r = bench("--synthetic", "tiny", "--model", m.toString(), "--weights", "int4", "--bandwidth-mib", "8",
                "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.exists(m.resolve("config.json"))).isTrue();
        String out = r.out();
        JsonNode n = JsonMapper.builder().build().readTree(out.substring(out.indexOf('{')));
        for (String key : new String[] {"prefill_tokens_per_s", "decode_tokens_per_s", "resident_weight_bytes",
            "peak_heap_bytes", "off_heap_bytes", "active_bytes_per_token", "memory_bandwidth_gbps",
            "roofline_fraction", "achieved_gbps", "mapped_bytes", "quantized_bytes", "decode_token_us_median",
            "decode_token_us_p90", "token_roofline_fraction"}) {
            assertThat(n.get(key)).as(key).isNotNull();
            assertThat(n.get(key).asDouble()).as(key).isPositive();
        }
        assertThat(n.get("decode_tokens_per_s_runs").size()).isEqualTo(2);
        assertThat(n.get("off_heap_bytes").asLong())
                .isEqualTo(n.get("mapped_bytes").asLong() + n.get("quantized_bytes").asLong());
        assertThat(n.get("roofline_fraction").asDouble()).isCloseTo(
                n.get("achieved_gbps").asDouble() / n.get("memory_bandwidth_gbps").asDouble(),
                org.assertj.core.api.Assertions.within(1e-9));

        assertThat(n.get("threads").asInt()).isEqualTo(io.moelab.runtime.tensor.ProductTeam.shared().threads());
        // One reading after each of the two runs, and the paired fraction within the runs' own fractions.
        JsonNode readings = n.get("run_bandwidth_gbps");
        assertThat(readings.size()).isEqualTo(2);
        double lowest = Double.MAX_VALUE;
        double highest = 0;
        for (int i = 0; i < 2; i++) {
            double f = n.get("active_bytes_per_token").asDouble() * n.get("decode_tokens_per_s_runs").get(i).asDouble()
                    / 1e9 / readings.get(i).asDouble();
            lowest = Math.min(lowest, f);
            highest = Math.max(highest, f);
        }
        assertThat(n.get("paired_roofline_fraction").asDouble()).isBetween(lowest * (1 - 1e-9), highest * (1 + 1e-9));
        // The median token against the best reading.
        double median = n.get("decode_token_us_median").asDouble();
        assertThat(n.get("decode_token_us_p90").asDouble()).isGreaterThanOrEqualTo(median);
        assertThat(n.get("token_roofline_fraction").asDouble()).isCloseTo(n.get("active_bytes_per_token").asDouble()
                / (median * 1e3) / n.get("memory_bandwidth_gbps").asDouble(), org.assertj.core.api.Assertions.within(1e-9));

        Result again;
        try {
            again = bench("--synthetic", "tiny", "--model", m.toString(), "--no-measure-bandwidth", "--format",
                    "json", "--threads", "1");
        } finally {
            io.moelab.runtime.tensor.ProductTeam.useShared(Runtime.getRuntime().availableProcessors());
        }
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).startsWith("reusing");
        JsonNode n2 = JsonMapper.builder().build().readTree(again.out().substring(again.out().indexOf('{')));
        assertThat(n2.get("memory_bandwidth_gbps").isNull()).isTrue();
        assertThat(n2.get("roofline_fraction").isNull()).isTrue();
        assertThat(n2.get("paired_roofline_fraction").isNull()).isTrue();
        assertThat(n2.get("token_roofline_fraction").isNull()).isTrue();
        assertThat(n2.get("quantized_bytes").asLong()).isZero();
        assertThat(n2.get("threads").asInt()).isEqualTo(1);
    }

    @Test
    void tablePrintsTheFigures() {
        Path m = dir.resolve("tiny");
        Result r = bench("--synthetic", "tiny", "--synthetic-dtype", "bf16", "--model", m.toString(),
                "--bandwidth-mib", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote a synthetic tiny BF16").contains("prefill").contains("decode")
                .contains("tokens/s").contains("resident weights").contains("memory bandwidth").contains("roofline")
                .contains("roofline, paired").contains("token time").contains("roofline, token")
                .contains("peak heap").contains("off-heap");
    }

    @Test
    void badInputIsOneLineWithExitTwo() throws Exception {
        Path m = dir.resolve("tiny");
        assertOneLineError(bench("--model", dir.resolve("missing").toString(), "--no-measure-bandwidth"),
                "missing");
        assertOneLineError(bench("--synthetic", "m7b", "--model", m.toString()), "--synthetic");
        assertOneLineError(bench("--synthetic", "tiny", "--synthetic-dtype", "f16", "--model", m.toString()),
                "--synthetic-dtype");
        assertOneLineError(bench("--model", m.toString(), "--weights", "int3"), "--weights");
        assertOneLineError(bench("--model", m.toString(), "--format", "xml"), "--format");
        assertOneLineError(bench("--model", m.toString(), "--threads", "0"), "--threads");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--runs", "0"), "--runs");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--prompt-tokens", "0"),
                "--prompt-tokens");
        Path model = TinyMixtral.write(dir.resolve("mixtral"), 258);
        // One KV head of 4 dimensions: at most 536870848 positions in a cache; refused before loading or measuring.
        assertOneLineError(CliRunner.run("bench", "--model", model.toString(), "--no-measure-bandwidth",
                "--decode-tokens", "2000000000"), "--decode-tokens: a run of 64 prompt tokens plus 2000000000 "
                + "decoded ones needs a KV cache of 2000000064 positions; this model's holds at most 536870848");
        assertOneLineError(CliRunner.run("bench", "--model", model.toString(), "--no-measure-bandwidth",
                "--warmup-tokens", "1000000000"), "--warmup-tokens: a warm-up of 1000000000 tokens needs");
        assertOneLineError(CliRunner.run("bench", "--model", model.toString(), "--bandwidth-mib", "2000000000"),
                "--bandwidth-mib: 2000000000 MiB is more than half of this machine's");
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), "{\"model_type\": \"mixtral\"");
        assertOneLineError(bench("--model", m.toString(), "--no-measure-bandwidth"), "config.json");
    }

    private static void assertOneLineError(Result r, String mentions) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: ").contains(mentions);
        assertThat(r.errLines()).hasSize(1);
    }
}
