package io.moelab.sim.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moelab.eplb.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated model and cluster files (moelab's JSON and Hugging Face config.json) either read as a spec whose values
 * are in range, or are refused with one {@link InvalidInputException} whose one-line message names the file, and
 * never otherwise: no other exception, and none that runs long (a count of layers near 2^31 is read at once).
 * QuickTheories drives the seeds (the project's property-testing library; see the parent pom on jqwik).
 */
class SpecFilesFuzzTest {
    @TempDir
    Path dir;

    private static final String MOELAB_MODEL = "{\"name\": \"toy\", \"moe_layers\": 2, \"experts\": 8, \"top_k\": 2, "
            + "\"hidden\": 64, \"expert_ffn\": 32, \"groups\": 2, \"bytes_per_param\": 2, \"shared_experts\": 1, "
            + "\"shared_ffn\": 32, \"dense_flops_per_token\": 32768}";
    private static final String DEEPSEEK = "{\"model_type\": \"deepseek_v3\", \"num_hidden_layers\": 61, "
            + "\"first_k_dense_replace\": 3, \"moe_layer_freq\": 1, \"n_routed_experts\": 256, "
            + "\"n_shared_experts\": 1, "
            + "\"num_experts_per_tok\": 8, \"hidden_size\": 7168, \"intermediate_size\": 18432, "
            + "\"moe_intermediate_size\": 2048, \"n_group\": 8, \"torch_dtype\": \"bfloat16\", "
            + "\"quantization_config\": {\"quant_method\": \"fp8\"}}";
    private static final String QWEN = "{\"model_type\": \"qwen3_moe\", \"num_hidden_layers\": 48, "
            + "\"num_experts\": 128, "
            + "\"num_experts_per_tok\": 8, \"hidden_size\": 2048, \"moe_intermediate_size\": 768, "
            + "\"intermediate_size\": 6144, \"decoder_sparse_step\": 1, \"mlp_only_layers\": [0, 47], "
            + "\"shared_expert_intermediate_size\": 512, \"dtype\": \"float8_e4m3fn\"}";
    private static final String MIXTRAL = "{\"model_type\": \"mixtral\", \"num_hidden_layers\": 32, "
            + "\"num_local_experts\": 8, \"num_experts_per_tok\": 2, \"hidden_size\": 4096, "
            + "\"intermediate_size\": 14336, \"torch_dtype\": \"float32\"}";
    private static final String CLUSTER = "{\"name\": \"pair\", \"nodes\": 2, \"gpus_per_node\": 4, "
            + "\"peak_tflops\": 989, \"compute_efficiency\": 0.5, \"hbm_tbps\": 3.35, \"nvlink_gbps\": 450, "
            + "\"network_gbps\": 50, \"nvlink_latency_us\": 3, \"network_latency_us\": 10, \"hbm_gb\": 80}";

    /** Values put where a number was: out of range, of another type, or no JSON at all. */
    private static final String[] VALUES = {
        "0", "-1", "-0", "1", "3", "1.5", "1e-300", "1e300", "1e400", "-1e400", "2147483647", "2147483648",
        "-2147483648", "99999999999999999999", "65536", "65537", "NaN", "Infinity", "null", "true", "\"x\"", "\"\"",
        "\"8\"", "[]", "[1, 2]", "[\"a\", 1.5]", "{}", "{\"a\": 1}", "[[[[[[[[", "\"a\\nb\"", "\"\\ud800\"",
    };

    /** Text inserted anywhere. */
    private static final String[] FRAGMENTS = {
        "{", "}", "[", "]", ",", ":", "\"", "\\", "null", "-", "e", ".", "\u00e9", "\u0000", "\n", "  ",
        "\"moe_layers\": 3,", "\"num_hidden_layers\": 2147483647,", "\"mlp_only_layers\": [1, 1.5, \"2\"],",
        "\"first_k_dense_replace\": -5,", "\"decoder_sparse_step\": 0,", "\"moe_layer_freq\": 2147483647,",
        "\"unknown\\nkey\": 1,", "\"name\": 7,", "\"quantization_config\": \"fp8\",", "\"n_group\": 3,",
        "\"nodes\": 1e9,", "\"top_k\": 999,", "\"hidden\": {},", "\"x\": " + "[".repeat(200) + "]".repeat(200) + ",",
    };

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    private static final Pattern MEMBER = Pattern.compile("\"[a-z_]+\": (\"[^\"]*\"|\\[[^\\]]*\\]|\\{[^}]*\\}|[^,}]+)");

    static String mutate(String base, Random r) {
        String s = base;
        int mutations = 1 + r.nextInt(3);
        for (int m = 0; m < mutations; m++) {
            switch (r.nextInt(7)) {
                case 0, 1 -> s = replaceNth(s, NUMBER, r, VALUES[r.nextInt(VALUES.length)]);
                case 2 -> { // a member removed, with its comma where it has one
                    String without = replaceNth(s, MEMBER, r, "");
                    s = without.replace(", ,", ",").replace("{, ", "{").replace(", }", "}");
                }
                case 3 -> { // a member given twice
                    List<String> members = matches(s, MEMBER);
                    if (!members.isEmpty()) {
                        String member = members.get(r.nextInt(members.size()));
                        s = s.replaceFirst("\\{", Matcher.quoteReplacement("{" + member + ", "));
                    }
                }
                case 4 -> { // text inserted
                    int at = r.nextInt(s.length() + 1);
                    s = s.substring(0, at) + FRAGMENTS[r.nextInt(FRAGMENTS.length)] + s.substring(at);
                }
                case 5 -> { // text deleted
                    int from = r.nextInt(s.length() + 1);
                    int to = Math.min(s.length(), from + 1 + r.nextInt(12));
                    s = s.substring(0, from) + s.substring(to);
                }
                default -> s = s.substring(0, r.nextInt(s.length() + 1)); // truncated
            }
        }
        return s;
    }

    private static List<String> matches(String s, Pattern p) {
        List<String> found = new ArrayList<>();
        Matcher m = p.matcher(s);
        while (m.find()) {
            found.add(m.group());
        }
        return found;
    }

    private static String replaceNth(String s, Pattern p, Random r, String replacement) {
        Matcher m = p.matcher(s);
        List<int[]> spans = new ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
        }
        if (spans.isEmpty()) {
            return s;
        }
        int[] span = spans.get(r.nextInt(spans.size()));
        return s.substring(0, span[0]) + replacement + s.substring(span[1]);
    }

    /**
     * Reads {@code text} as a file with {@code reader}: true when it gives a spec, false when it is refused as it
     * should be; fails on anything else.
     */
    private <T> boolean check(String text, Function<String, T> reader, String label) {
        Path file = dir.resolve("spec.json");
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long start = System.nanoTime();
        try {
            T spec = reader.apply(file.toString());
            assertThat(spec).as(label).isNotNull();
            if (spec instanceof ModelSpec m) {
                // The record's constructor checked the ranges; what a simulation relies on besides.
                assertThat(m.moeLayers()).as(label).isPositive();
                assertThat(m.topK()).as(label).isBetween(1, m.experts());
                assertThat(m.experts() % m.groups()).as(label).isZero();
                assertThat(m.bytesPerParam()).as(label).isPositive();
                assertThat(m.expertBytes()).as(label).isPositive().isFinite();
            }
            return true;
        } catch (InvalidInputException e) {
            assertThat(e.getMessage()).as(label).startsWith(file + ": ").doesNotContain("\n", "\r");
            return false;
        } catch (RuntimeException | Error e) {
            throw new AssertionError(label + ": " + e, e);
        } finally {
            assertThat((System.nanoTime() - start) / 1e9).as(label + ": seconds").isLessThan(5);
        }
    }

    @Test
    void mutatedModelFilesReadOrAreRefusedByName() {
        String[] bases = {MOELAB_MODEL, DEEPSEEK, QWEN, MIXTRAL};
        for (String base : bases) {
            assertThat(check(base, SpecFiles::model, base)).as(base).isTrue();
        }
        int[] outcomes = new int[2];
        qt().withFixedSeed(0x5BEC5L).withExamples(3000).withShrinkCycles(20)
                .forAll(longs().all())
                .checkAssert(seed -> {
                    Random r = new Random(seed);
                    String text = mutate(bases[r.nextInt(bases.length)], r);
                    outcomes[check(text, SpecFiles::model, "seed " + seed + ": " + text) ? 1 : 0]++;
                });
        assertThat(outcomes[1]).as("read").isGreaterThan(100);
        assertThat(outcomes[0]).as("refused").isGreaterThan(1000);
    }

    @Test
    void mutatedClusterFilesReadOrAreRefusedByName() {
        assertThat(check(CLUSTER, SpecFiles::cluster, CLUSTER)).isTrue();
        int[] outcomes = new int[2];
        qt().withFixedSeed(0xC1A57E5L).withExamples(2000).withShrinkCycles(20)
                .forAll(longs().all())
                .checkAssert(seed -> {
                    String text = mutate(CLUSTER, new Random(seed));
                    outcomes[check(text, SpecFiles::cluster, "seed " + seed + ": " + text) ? 1 : 0]++;
                });
        // Fewer read since each rate has a physical range (1e-300 and 1e300 are refused): still enough of both.
        assertThat(outcomes[1]).as("read").isGreaterThan(50);
        assertThat(outcomes[0]).as("refused").isGreaterThan(500);
    }

    /** moelab's own model keys that a Hugging Face config.json does not have: no error about one names them. */
    private static final java.util.Set<String> MOELAB_ONLY = java.util.Set.of("moe_layers", "experts", "top_k",
            "hidden", "expert_ffn", "groups", "bytes_per_param", "shared_experts", "shared_ffn",
            "dense_flops_per_token");

    /**
     * A Hugging Face config.json with any of its numbers replaced (out of range, of another type) is refused naming
     * one of its own keys, never a moelab key it does not have: {@code n_group: 3} was reported as {@code groups}.
     */
    @Test
    void huggingFaceErrorsNameTheirOwnKeys() {
        String[] bases = {DEEPSEEK, QWEN, MIXTRAL};
        Path file = dir.resolve("spec.json");
        int[] refused = {0};
        qt().withFixedSeed(0x4F6EL).withExamples(1500).withShrinkCycles(20)
                .forAll(longs().all())
                .checkAssert(seed -> {
                    Random r = new Random(seed);
                    String text = bases[r.nextInt(bases.length)];
                    for (int m = 1 + r.nextInt(2); m > 0; m--) {
                        text = replaceNth(text, NUMBER, r, VALUES[r.nextInt(VALUES.length)]);
                    }
                    if (!check(text, SpecFiles::model, "seed " + seed + ": " + text)) {
                        refused[0]++;
                        String rest = readError(text).substring(file.toString().length() + 2);
                        String field = rest.substring(0, Math.max(0, rest.indexOf(": ")));
                        assertThat(MOELAB_ONLY).as("seed %d: %s: %s", seed, text, rest).doesNotContain(field);
                    }
                });
        assertThat(refused[0]).as("refused").isGreaterThan(500);
    }

    private String readError(String text) {
        try {
            SpecFiles.model(dir.resolve("spec.json").toString());
            throw new AssertionError("read: " + text);
        } catch (InvalidInputException e) {
            return e.getMessage();
        }
    }
}
