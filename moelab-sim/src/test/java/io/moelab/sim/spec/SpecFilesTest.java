package io.moelab.sim.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SpecFilesTest {
    @TempDir
    Path dir;

    private Path write(String name, String json) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, json);
        return p;
    }

    @ParameterizedTest
    @CsvSource({
        "deepseek-v3, 58, 256, 8, 7168, 2048",
        "deepseek-v2-lite, 26, 64, 6, 2048, 1408",
        "qwen3-30b-a3b, 48, 128, 8, 2048, 768",
        "qwen3-235b-a22b, 94, 128, 8, 4096, 1536",
        "mixtral-8x7b, 32, 8, 2, 4096, 14336"})
    void modelPresetsHaveThePublishedSizes(String name, int layers, int experts, int topK, int hidden, int ffn) {
        ModelSpec m = SpecFiles.model(name);
        assertThat(m.moeLayers()).isEqualTo(layers);
        assertThat(m.experts()).isEqualTo(experts);
        assertThat(m.topK()).isEqualTo(topK);
        assertThat(m.hidden()).isEqualTo(hidden);
        assertThat(m.expertFfn()).isEqualTo(ffn);
        assertThat(m.bytesPerParam()).isEqualTo(2);
        // SwiGLU: three H x F matrices; 2 FLOPs per multiply-add.
        assertThat(m.expertBytes()).isEqualTo(3.0 * hidden * ffn * 2);
        assertThat(m.expertFlopsPerToken()).isEqualTo(6.0 * hidden * ffn);
    }

    @Test
    void deepSeekV3ExpertIs88MB() {
        assertThat(ModelSpec.preset("deepseek-v3").expertBytes()).isEqualTo(88_080_384.0);
    }

    @Test
    void clusterPresetsParseNodesGpusAndLinks() {
        ClusterSpec h100 = SpecFiles.cluster("4x8-h100");
        assertThat(h100.nodes()).isEqualTo(4);
        assertThat(h100.gpusPerNode()).isEqualTo(8);
        assertThat(h100.gpus()).isEqualTo(32);
        assertThat(h100.hbmBytesPerSecond()).isEqualTo(3.35e12);
        assertThat(h100.nvlinkBytesPerSecond()).isEqualTo(450e9);
        assertThat(h100.networkBytesPerSecond()).isEqualTo(50e9); // 400 Gb/s
        ClusterSpec h800 = SpecFiles.cluster("2x8-H800");
        assertThat(h800.nvlinkBytesPerSecond()).isEqualTo(200e9);
        assertThat(h800.gpus()).isEqualTo(16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"4x8-a100", "4x8", "0x8-h100", "4x0-h100", "h100"})
    void unknownClustersAreRejected(String name) {
        assertThatThrownBy(() -> SpecFiles.cluster(name)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("cluster: ");
    }

    @Test
    void unknownModelListsThePresets() {
        assertThatThrownBy(() -> SpecFiles.model("gpt-5")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("unknown model 'gpt-5'").hasMessageContaining("deepseek-v2-lite");
    }

    @Test
    void readsDeepSeekV3HuggingFaceConfig() throws IOException {
        // The fields of deepseek-ai/DeepSeek-V3's config.json that matter here.
        Path p = write("config.json", """
                {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
                 "num_hidden_layers": 61, "first_k_dense_replace": 3, "moe_layer_freq": 1,
                 "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
                 "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
                 "n_group": 8, "topk_group": 4, "torch_dtype": "bfloat16",
                 "quantization_config": {"quant_method": "fp8"}}
                """);
        ModelSpec m = SpecFiles.model(p.toString());
        assertThat(m.moeLayers()).isEqualTo(58);
        assertThat(m.experts()).isEqualTo(256);
        assertThat(m.topK()).isEqualTo(8);
        assertThat(m.expertFfn()).isEqualTo(2048);
        assertThat(m.groups()).isEqualTo(8);
        assertThat(m.sharedExperts()).isEqualTo(1);
        assertThat(m.sharedFfn()).isEqualTo(2048);
        assertThat(m.name()).isEqualTo("deepseek_v3");
        // Its weights are stored as FP8 (torch_dtype names the compute type): 3 x 7168 x 2048 x 1 byte per expert.
        assertThat(m.bytesPerParam()).isEqualTo(1);
        assertThat(m.expertBytes()).isEqualTo(3.0 * 7168 * 2048);
        // A config has no dense FLOPs: the four attention projections, 2 x 4 x 7168^2.
        assertThat(m.denseFlopsPerToken()).isEqualTo(411_041_792.0);
    }

    @Test
    void expertGroupsMustSplitTheExpertsEvenly() throws IOException {
        // 8 experts in 3 groups: refused with the file, not at the first rebalance as eplb's "num_groups".
        Path p = write("g3.json", """
                {"moe_layers": 2, "experts": 8, "top_k": 2, "hidden": 64, "expert_ffn": 32, "groups": 3}
                """);
        assertThatThrownBy(() -> SpecFiles.model(p.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(p + ": groups: 3 expert groups do not split the 8 experts evenly");
        Path hf = write("config.json", """
                {"model_type": "deepseek_v3", "num_hidden_layers": 4, "first_k_dense_replace": 1,
                 "n_routed_experts": 64, "num_experts_per_tok": 6, "hidden_size": 64, "moe_intermediate_size": 32,
                 "n_group": 5}
                """);
        assertThatThrownBy(() -> SpecFiles.model(hf.toString()))
                .hasMessage(hf + ": n_group: 5 expert groups do not split the 64 experts evenly");
        assertThat(SpecFiles.model(write("g4.json", """
                {"moe_layers": 2, "experts": 8, "top_k": 2, "hidden": 64, "expert_ffn": 32, "groups": 4}
                """).toString()).groups()).isEqualTo(4);
    }

    @Test
    void onlyAnFp8QuantizationConfigMakesWeightsOneByte() throws IOException {
        String base = "{\"model_type\": \"qwen3_moe\", \"num_hidden_layers\": 2, \"num_experts\": 4, "
                + "\"num_experts_per_tok\": 2, \"hidden_size\": 64, \"moe_intermediate_size\": 32, "
                + "\"torch_dtype\": \"bfloat16\"";
        // Qwen3-30B-A3B-FP8's quantization_config.
        assertThat(SpecFiles.model(write("fp8.json", base + ", \"quantization_config\": {\"activation_scheme\": "
                + "\"dynamic\", \"fmt\": \"e4m3\", \"quant_method\": \"fp8\", \"weight_block_size\": [128, 128]}}")
                .toString()).bytesPerParam()).isEqualTo(1);
        assertThat(SpecFiles.model(write("gptq.json", base + ", \"quantization_config\": {\"quant_method\": "
                + "\"gptq\", \"bits\": 8}}").toString()).bytesPerParam()).isEqualTo(2);
        // A member of another object, or a top-level one, of the same name is not the quantization method.
        assertThat(SpecFiles.model(write("other.json", base + ", \"rope_scaling\": {\"quant_method\": \"fp8\"}, "
                + "\"quant_method\": \"fp8\"}").toString()).bytesPerParam()).isEqualTo(2);
    }

    @Test
    void readsQwen3MoeConfigWithDenseLayers() throws IOException {
        Path p = write("qwen.json", """
                {"model_type": "qwen3_moe", "num_hidden_layers": 48, "num_experts": 128,
                 "num_experts_per_tok": 8, "hidden_size": 2048, "moe_intermediate_size": 768,
                 "intermediate_size": 6144, "decoder_sparse_step": 1, "mlp_only_layers": [0, 47]}
                """);
        ModelSpec m = SpecFiles.model(p.toString());
        assertThat(m.moeLayers()).isEqualTo(46);
        assertThat(m.experts()).isEqualTo(128);
        assertThat(m.expertFfn()).isEqualTo(768);
        assertThat(m.sharedExperts()).isZero();
    }

    @Test
    void layerPatternCountsOutOfRangeAreRefused() throws IOException {
        // A negative first_k_dense_replace counted 127 MoE layers in a 27-layer model; a zero frequency or step
        // was read as 1 where the reference code divides by it.
        String base = "{\"num_hidden_layers\": 27, \"n_routed_experts\": 64, \"num_experts_per_tok\": 6, "
                + "\"hidden_size\": 2048, \"moe_intermediate_size\": 1408, ";
        Path negative = write("neg.json", base + "\"first_k_dense_replace\": -100}");
        assertThatThrownBy(() -> SpecFiles.model(negative.toString()))
                .hasMessage(negative + ": first_k_dense_replace: must be >= 0, got -100");
        Path freq = write("freq.json", base + "\"first_k_dense_replace\": 1, \"moe_layer_freq\": 0}");
        assertThatThrownBy(() -> SpecFiles.model(freq.toString()))
                .hasMessage(freq + ": moe_layer_freq: must be >= 1, got 0");
        Path step = write("step.json", base + "\"decoder_sparse_step\": 0}");
        assertThatThrownBy(() -> SpecFiles.model(step.toString()))
                .hasMessage(step + ": decoder_sparse_step: must be >= 1, got 0");
        // Every second layer from the second: layers 1, 3, ..., 25 (13 of 27).
        Path every = write("every.json", base + "\"first_k_dense_replace\": 1, \"moe_layer_freq\": 2}");
        assertThat(SpecFiles.model(every.toString()).moeLayers()).isEqualTo(13);
    }

    @Test
    void expertCountsUnderTwoKeysMustAgree() throws IOException {
        // The first key found was taken and the other ignored: a config naming 8 and 16 experts ran with 8.
        String base = "{\"num_hidden_layers\": 4, \"num_experts_per_tok\": 2, \"hidden_size\": 64, "
                + "\"moe_intermediate_size\": 32, ";
        Path both = write("both.json", base + "\"num_experts\": 8, \"num_local_experts\": 16}");
        assertThatThrownBy(() -> SpecFiles.model(both.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(both + ": num_local_experts: 16 disagrees with num_experts 8, which names the same "
                        + "count");
        Path same = write("same.json", base + "\"n_routed_experts\": 8, \"num_experts\": 8, "
                + "\"num_local_experts\": null}");
        assertThat(SpecFiles.model(same.toString()).experts()).isEqualTo(8);
    }

    @Test
    void mlpOnlyLayersMustBeLayerIndices() throws IOException {
        // Entries that name no layer matched none, so the layer meant as dense was counted as MoE without a word
        // (4 MoE layers of 4 instead of 3).
        String base = "{\"num_hidden_layers\": 4, \"num_experts\": 8, \"num_experts_per_tok\": 2, "
                + "\"hidden_size\": 64, \"moe_intermediate_size\": 32, \"mlp_only_layers\": ";
        Path fraction = write("fraction.json", base + "[1.5]}");
        assertThatThrownBy(() -> SpecFiles.model(fraction.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(fraction + ": mlp_only_layers: must be a list of layer indices, got 1.5");
        Path text = write("text.json", base + "[0, \"3\"]}");
        assertThatThrownBy(() -> SpecFiles.model(text.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(text + ": mlp_only_layers: must be a list of layer indices, got an entry that is not a "
                        + "number");
        assertThat(SpecFiles.model(write("ok.json", base + "[3]}").toString()).moeLayers()).isEqualTo(3);
    }

    @Test
    void newerConfigsNameTheWeightTypeDtype() throws IOException {
        // transformers 4.56 and later write "dtype" for "torch_dtype"; a float32 model was priced as bf16.
        String base = "{\"model_type\": \"mixtral\", \"num_hidden_layers\": 2, \"num_local_experts\": 4, "
                + "\"num_experts_per_tok\": 2, \"hidden_size\": 64, \"intermediate_size\": 32, ";
        assertThat(SpecFiles.model(write("f32.json", base + "\"dtype\": \"float32\"}").toString())
                .bytesPerParam()).isEqualTo(4);
        assertThat(SpecFiles.model(write("f8.json", base + "\"dtype\": \"float8_e4m3fn\"}").toString())
                .bytesPerParam()).isEqualTo(1);
        // docs/SIM.md: float8_* is one byte, whichever of torch's float8 types (AMD's fnuz ones included).
        for (String f8 : new String[] {"float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"}) {
            assertThat(SpecFiles.model(write(f8 + ".json", base + "\"torch_dtype\": \"" + f8 + "\"}").toString())
                    .bytesPerParam()).as(f8).isEqualTo(1);
        }
        assertThat(SpecFiles.model(write("f16.json", base + "\"torch_dtype\": \"float16\"}").toString())
                .bytesPerParam()).isEqualTo(2);
        assertThat(SpecFiles.model(write("both.json", base + "\"torch_dtype\": \"float32\", "
                + "\"dtype\": \"float32\"}").toString()).bytesPerParam()).isEqualTo(4);
    }

    @Test
    void readsMixtralConfig() throws IOException {
        Path p = write("mixtral.json", """
                {"model_type": "mixtral", "num_hidden_layers": 32, "num_local_experts": 8,
                 "num_experts_per_tok": 2, "hidden_size": 4096, "intermediate_size": 14336,
                 "torch_dtype": "float32"}
                """);
        ModelSpec m = SpecFiles.model(p.toString());
        assertThat(m.moeLayers()).isEqualTo(32);
        assertThat(m.experts()).isEqualTo(8);
        assertThat(m.expertFfn()).isEqualTo(14336);
        assertThat(m.bytesPerParam()).isEqualTo(4);
    }

    @Test
    void readsMoelabModelAndClusterFiles() throws IOException {
        Path model = write("m.json", """
                {"name": "mine", "moe_layers": 12, "experts": 32, "top_k": 4, "hidden": 1024, "expert_ffn": 512}
                """);
        ModelSpec m = SpecFiles.model(model.toString());
        assertThat(m).isEqualTo(new ModelSpec("mine", 12, 32, 4, 1024, 512, 1, 2, 0, 0, 8.0 * 1024 * 1024));
        Path cluster = write("c.json", """
                {"nodes": 2, "gpus_per_node": 4, "peak_tflops": 312, "hbm_tbps": 2.0, "nvlink_gbps": 300,
                 "network_gbps": 25, "name": "a100s"}
                """);
        ClusterSpec c = SpecFiles.cluster(cluster.toString());
        assertThat(c).isEqualTo(new ClusterSpec("a100s", 2, 4, 312, 0.5, 2.0, 300, 25, 3, 10, 80));
    }

    /** A file is one JSON object: a second one after it, as a careless append leaves, is not read past. */
    @Test
    void whatFollowsTheObjectIsRefused() throws IOException {
        Path model = write("m.json", """
                {"moe_layers": 12, "experts": 32, "top_k": 4, "hidden": 1024, "expert_ffn": 512}
                {"moe_layers": 6}
                """);
        String after = "unexpected data after the top-level value";
        assertThatThrownBy(() -> SpecFiles.model(model.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(model + ": malformed JSON at line 2, column 1: " + after);
        Path cluster = write("c.json", """
                {"nodes": 2, "gpus_per_node": 4, "peak_tflops": 312, "hbm_tbps": 2.0, "nvlink_gbps": 300,
                 "network_gbps": 25} x
                """);
        assertThatThrownBy(() -> SpecFiles.cluster(cluster.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(cluster + ": malformed JSON at line 2, column 22: " + after);
    }

    /**
     * Text from the file in a message (a value where a number goes, an unknown key) keeps the message one line: a
     * line break in it is written as JSON writes it. The CLI prints a message's first line, which said "found a".
     */
    @Test
    void textFromTheFileKeepsAMessageOneLine() throws IOException {
        Path value = write("v.json", "{\"nodes\": \"a\\nb\\u0007\"}");
        assertThatThrownBy(() -> SpecFiles.cluster(value.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(value + ": nodes: expected a number, found the string \"a\\nb\\u0007\"");
        Path key = write("k.json", "{\"moe_layers\": 1, \"experts\": 2, \"top_k\": 1, \"hidden\": 8, "
                + "\"expert_ffn\": 8, \"shared\\r\\nffn\": 1}");
        assertThatThrownBy(() -> SpecFiles.model(key.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(key + ": shared\\r\\nffn: unknown key (known: ");
    }

    /**
     * A Hugging Face config's MoE layers are counted at once, not layer by layer: 2^31 - 1 layers with a list of
     * dense ones took a minute. Hand-counted: DeepSeek's layers 3.. that are multiples of 2, of 0..2^31 - 2
     * (2^30 even numbers, less 0 and 2); Qwen's layers l with l + 1 even, 2^30 - 1 of them, less the dense 1 and 3
     * (4 is odd-numbered, 5 not sparse anyway).
     */
    @Test
    @org.junit.jupiter.api.Timeout(10)
    void hugeLayerCountsAreCountedAtOnce() throws IOException {
        Path deepseek = write("ds.json", "{\"num_hidden_layers\": 2147483647, \"first_k_dense_replace\": 3, "
                + "\"moe_layer_freq\": 2, \"n_routed_experts\": 8, \"num_experts_per_tok\": 2, "
                + "\"hidden_size\": 64, \"moe_intermediate_size\": 32}");
        assertThat(SpecFiles.model(deepseek.toString()).moeLayers()).isEqualTo((1 << 30) - 2);
        Path qwen = write("qw.json", "{\"num_hidden_layers\": 2147483647, \"decoder_sparse_step\": 2, "
                + "\"mlp_only_layers\": [1, 3, 4, 3, 2147483647, 2147483646], \"num_experts\": 8, "
                + "\"num_experts_per_tok\": 2, \"hidden_size\": 64, \"moe_intermediate_size\": 32}");
        // 2147483646 is the last layer, and (it + 1) is odd; 2147483647 is no layer.
        assertThat(SpecFiles.model(qwen.toString()).moeLayers()).isEqualTo((1 << 30) - 1 - 2);
        // Small cases against the layer-by-layer count, every first k and frequency or step and dense list.
        for (int layers = 1; layers <= 9; layers++) {
            for (int first = 0; first <= 10; first++) {
                for (int freq = 1; freq <= 4; freq++) {
                    int expected = 0;
                    for (int l = first; l < layers; l++) {
                        expected += l % freq == 0 ? 1 : 0;
                    }
                    Path p = write("d.json", "{\"num_hidden_layers\": " + layers + ", \"first_k_dense_replace\": "
                            + first + ", \"moe_layer_freq\": " + freq + ", \"n_routed_experts\": 8, "
                            + "\"num_experts_per_tok\": 2, \"hidden_size\": 64, \"moe_intermediate_size\": 32}");
                    if (expected == 0) {
                        assertThatThrownBy(() -> SpecFiles.model(p.toString())).hasMessage(p + ": num_hidden_layers: "
                                + "none of its " + layers + " layers is MoE (by first_k_dense_replace and "
                                + "moe_layer_freq)");
                    } else {
                        assertThat(SpecFiles.model(p.toString()).moeLayers()).as("%d %d %d", layers, first, freq)
                                .isEqualTo(expected);
                    }
                }
            }
            for (int step = 1; step <= 4; step++) {
                for (int mask = 0; mask < 1 << 4; mask++) {
                    java.util.List<Integer> dense = new java.util.ArrayList<>();
                    for (int b = 0; b < 4; b++) {
                        if ((mask & 1 << b) != 0) {
                            dense.add(b * 3 % 11); // 0, 3, 6, 9: some within the layers, some past them
                        }
                    }
                    int expected = 0;
                    for (int l = 0; l < layers; l++) {
                        expected += !dense.contains(l) && (l + 1) % step == 0 ? 1 : 0;
                    }
                    Path p = write("q.json", "{\"num_hidden_layers\": " + layers + ", \"decoder_sparse_step\": "
                            + step + ", \"mlp_only_layers\": " + dense + ", \"num_experts\": 8, "
                            + "\"num_experts_per_tok\": 2, \"hidden_size\": 64, \"moe_intermediate_size\": 32}");
                    if (expected == 0) {
                        assertThatThrownBy(() -> SpecFiles.model(p.toString())).hasMessage(p + ": num_hidden_layers: "
                                + "none of its " + layers + " layers is MoE (by decoder_sparse_step and "
                                + "mlp_only_layers)");
                    } else {
                        assertThat(SpecFiles.model(p.toString()).moeLayers()).as("%d %d %s", layers, step, dense)
                                .isEqualTo(expected);
                    }
                }
            }
        }
    }

    @Test
    void badFilesNameTheFileAndField() throws IOException {
        Path missing = write("m.json", "{\"moe_layers\": 12, \"experts\": 32}");
        assertThatThrownBy(() -> SpecFiles.model(missing.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(missing + ": top_k: missing");
        Path fractional = write("f.json", "{\"moe_layers\": 1.5, \"experts\": 32, \"top_k\": 2, \"hidden\": 8, "
                + "\"expert_ffn\": 8}");
        assertThatThrownBy(() -> SpecFiles.model(fractional.toString()))
                .hasMessage(fractional + ": moe_layers: expected an integer, found 1.5");
        // A whole number past an int was "expected an integer, found 3.0E9": it is one, too large.
        Path large = write("l.json", "{\"nodes\": 3000000000}");
        assertThatThrownBy(() -> SpecFiles.cluster(large.toString()))
                .hasMessage(large + ": nodes: expected an integer from -2147483647 to 2147483647, found 3000000000");
        // From 10^15 on, Numbers.plain writes a double's notation: "found 1.0E16" for a whole number written out.
        Path larger = write("l16.json", "{\"nodes\": 10000000000000000, \"gpus_per_node\": 1}");
        assertThatThrownBy(() -> SpecFiles.cluster(larger.toString())).hasMessage(larger
                + ": nodes: expected an integer from -2147483647 to 2147483647, found 10000000000000000");
        Path negative = write("n20.json", "{\"nodes\": -100000000000000000000}");
        assertThatThrownBy(() -> SpecFiles.cluster(negative.toString())).hasMessage(negative
                + ": nodes: expected an integer from -2147483647 to 2147483647, found -100000000000000000000");
        Path text = write("t.json", "{\"nodes\": \"two\"}");
        assertThatThrownBy(() -> SpecFiles.cluster(text.toString()))
                .hasMessage(text + ": nodes: expected a number, found the string \"two\"");
        // A number written as a string read "expected a number, found 2": quoted, it says what is wrong.
        Path quoted = write("q.json", "{\"nodes\": \"2\"}");
        assertThatThrownBy(() -> SpecFiles.cluster(quoted.toString()))
                .hasMessage(quoted + ": nodes: expected a number, found the string \"2\"");
        Path array = write("a.json", "[1, 2]");
        assertThatThrownBy(() -> SpecFiles.model(array.toString())).hasMessage(array + ": expected a JSON object");
        Path broken = write("b.json", "{\"moe_layers\": ");
        assertThatThrownBy(() -> SpecFiles.model(broken.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(broken + ": malformed JSON");
        assertThatThrownBy(() -> SpecFiles.model(dir.resolve("nope.json").toString()))
                .hasMessage(dir.resolve("nope.json") + ": no such file");
        // Not text, and not a file: named as such (they were internal errors, exit code 1, "reading X").
        Path binary = dir.resolve("gz.json");
        Files.write(binary, new byte[] {0x1f, (byte) 0x8b, 8, 0, (byte) 0xff, (byte) 0xfe, 0});
        assertThatThrownBy(() -> SpecFiles.model(binary.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(binary + ": is not UTF-8 text, expected a JSON file");
        assertThatThrownBy(() -> SpecFiles.cluster(dir.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(dir + ": is a directory, expected a JSON file");
        Path dense = write("dense.json", "{\"num_hidden_layers\": 2, \"hidden_size\": 8, \"intermediate_size\": 8}");
        assertThatThrownBy(() -> SpecFiles.model(dense.toString()))
                .hasMessage(dense + ": n_routed_experts: missing (no n_routed_experts, num_experts, "
                        + "num_local_experts)");
    }

    /** A key given twice, in moelab's files and in a Hugging Face config.json: which value was meant is unknown. */
    @Test
    void aKeyGivenTwiceIsRefusedNamingIt() throws IOException {
        Path cluster = write("c.json", "{\"nodes\": 2, \"gpus_per_node\": 4, \"peak_tflops\": 312, \"hbm_tbps\": 2, "
                + "\"nvlink_gbps\": 300, \"network_gbps\": 25, \"nodes\": 3}");
        assertThatThrownBy(() -> SpecFiles.cluster(cluster.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(cluster + ": malformed JSON at line 1, column ")
                .hasMessageEndingWith(": member \"nodes\" appears twice in one object");
        Path hf = write("config.json", "{\"num_hidden_layers\": 2, \"hidden_size\": 64, \"num_local_experts\": 8, "
                + "\"num_experts_per_tok\": 2, \"intermediate_size\": 32, \"quantization_config\": "
                + "{\"quant_method\": \"fp8\", \"quant_method\": \"none\"}}");
        assertThatThrownBy(() -> SpecFiles.model(hf.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessageEndingWith(": member \"quant_method\" appears twice in one object");
    }

    /**
     * A misspelled optional key of moelab's own formats is refused, naming it: it was skipped, and the simulation ran
     * with the default it meant to change. A Hugging Face config.json keeps its many other keys.
     */
    @Test
    void unknownKeysOfMoelabFilesAreRejected() throws IOException {
        Path cluster = write("c.json", "{\"nodes\": 2, \"gpus_per_node\": 4, \"peak_tflops\": 312, \"hbm_tbps\": 2, "
                + "\"nvlink_gbps\": 300, \"network_gbps\": 25, \"nvlink_latncy_us\": 1}");
        assertThatThrownBy(() -> SpecFiles.cluster(cluster.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(cluster + ": nvlink_latncy_us: unknown key (known: name, nodes, gpus_per_node, "
                        + "peak_tflops, compute_efficiency, hbm_tbps, nvlink_gbps, network_gbps, nvlink_latency_us, "
                        + "network_latency_us, hbm_gb)");
        // Whatever its value: a null or an object was skipped as well.
        Path model = write("m.json", "{\"moe_layers\": 2, \"experts\": 8, \"top_k\": 2, \"hidden\": 64, "
                + "\"expert_ffn\": 32, \"shared_expert\": null}");
        assertThatThrownBy(() -> SpecFiles.model(model.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(model + ": shared_expert: unknown key (known: name, moe_layers, experts, top_k, hidden, "
                        + "expert_ffn, groups, bytes_per_param, shared_experts, shared_ffn, dense_flops_per_token)");
        Path nested = write("n.json", "{\"moe_layers\": 2, \"experts\": 8, \"top_k\": 2, \"hidden\": 64, "
                + "\"expert_ffn\": 32, \"quantization_config\": {\"quant_method\": \"fp8\"}}");
        assertThatThrownBy(() -> SpecFiles.model(nested.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(nested + ": quantization_config: unknown key (known: name, ");
        Path hf = write("config.json", "{\"num_hidden_layers\": 2, \"hidden_size\": 64, \"num_local_experts\": 8, "
                + "\"num_experts_per_tok\": 2, \"intermediate_size\": 32, \"vocab_size\": 32000, "
                + "\"rope_scaling\": null, \"architectures\": [\"MixtralForCausalLM\"]}");
        assertThat(SpecFiles.model(hf.toString()).experts()).isEqualTo(8);
    }

    @Test
    void valuesOutOfRangeAreRejected() throws IOException {
        Path topK = write("k.json", "{\"moe_layers\": 2, \"experts\": 4, \"top_k\": 8, \"hidden\": 8, "
                + "\"expert_ffn\": 8}");
        assertThatThrownBy(() -> SpecFiles.model(topK.toString())).hasMessage(topK + ": top_k: k=8 exceeds experts=4");
        Path efficiency = write("e.json", "{\"nodes\": 1, \"gpus_per_node\": 8, \"peak_tflops\": 1, "
                + "\"hbm_tbps\": 1, \"nvlink_gbps\": 1, \"network_gbps\": 1, \"compute_efficiency\": 1.5}");
        assertThatThrownBy(() -> SpecFiles.cluster(efficiency.toString()))
                .hasMessage(efficiency + ": compute_efficiency: must be from 0.001 to 1, got 1.5");
        Path sharedFfn = write("s.json", "{\"moe_layers\": 2, \"experts\": 4, \"top_k\": 2, \"hidden\": 8, "
                + "\"expert_ffn\": 8, \"shared_experts\": 1, \"shared_ffn\": -3}");
        assertThatThrownBy(() -> SpecFiles.model(sharedFfn.toString()))
                .hasMessage(sharedFfn + ": shared_ffn: must not be negative, got -3");
        Path shared = write("s2.json", "{\"moe_layers\": 2, \"experts\": 4, \"top_k\": 2, \"hidden\": 8, "
                + "\"expert_ffn\": 8, \"shared_experts\": -1, \"shared_ffn\": 8}");
        assertThatThrownBy(() -> SpecFiles.model(shared.toString()))
                .hasMessage(shared + ": shared_experts: must not be negative, got -1");
        // Each latency is named: the error said "latency: latencies must be ...", no field of the file.
        Path nvlink = write("l.json", "{\"nodes\": 1, \"gpus_per_node\": 8, \"peak_tflops\": 1, "
                + "\"hbm_tbps\": 1, \"nvlink_gbps\": 1, \"network_gbps\": 1, \"nvlink_latency_us\": -1}");
        assertThatThrownBy(() -> SpecFiles.cluster(nvlink.toString()))
                .hasMessage(nvlink + ": nvlink_latency_us: must be from 0 to 1000000 microseconds, got -1");
        Path network = write("n.json", "{\"nodes\": 2, \"gpus_per_node\": 8, \"peak_tflops\": 1, "
                + "\"hbm_tbps\": 1, \"nvlink_gbps\": 1, \"network_gbps\": 1, \"network_latency_us\": -0.5}");
        assertThatThrownBy(() -> SpecFiles.cluster(network.toString()))
                .hasMessage(network + ": network_latency_us: must be from 0 to 1000000 microseconds, got -0.5");
        assertThatThrownBy(() -> new ClusterSpec("c", 1, 1, 1, 1, 1, 1, 1, Double.POSITIVE_INFINITY, 0, 1))
                .hasMessage("nvlink_latency_us: must be from 0 to 1000000 microseconds, got Infinity");
        // Values are quoted as the file wrote them ("got -1", "got 0"), not as Java doubles ("-1.0", "0.0").
        Path zero = write("z.json", "{\"nodes\": 1, \"gpus_per_node\": 8, \"peak_tflops\": 1, "
                + "\"hbm_tbps\": 0, \"nvlink_gbps\": 1, \"network_gbps\": 1}");
        assertThatThrownBy(() -> SpecFiles.cluster(zero.toString()))
                .hasMessage(zero + ": hbm_tbps: must be from 0.001 to 1000 TB/s, got 0");
        Path whole = write("w.json", "{\"nodes\": 1, \"gpus_per_node\": 8, \"peak_tflops\": 1, "
                + "\"hbm_tbps\": 1, \"nvlink_gbps\": 1, \"network_gbps\": 1, \"compute_efficiency\": 2}");
        assertThatThrownBy(() -> SpecFiles.cluster(whole.toString()))
                .hasMessage(whole + ": compute_efficiency: must be from 0.001 to 1, got 2");
        Path huge = write("h.json", "{\"nodes\": 100000, \"gpus_per_node\": 100000, \"peak_tflops\": 1, "
                + "\"hbm_tbps\": 1, \"nvlink_gbps\": 1, \"network_gbps\": 1}");
        assertThatThrownBy(() -> SpecFiles.cluster(huge.toString())).hasMessage(huge + ": gpus_per_node: 100000 "
                + "nodes x 100000 GPUs is more GPUs than a placement has slots (at most 65536)");
        // The preset names too, digits past an int included.
        assertThatThrownBy(() -> SpecFiles.cluster("99999999999x8-h100")).isInstanceOf(InvalidInputException.class)
                .hasMessage("cluster: '99999999999x8-h100' has more GPUs than a placement has slots (at most 65536)");
    }

    /**
     * A member given as an object where a number goes was skipped like an absent one: {"bytes_per_param": {}} took
     * the default 2 and {"nvlink_latency_us": {...}} 3 without a word. It is refused, naming the file and member.
     */
    @Test
    void anObjectWhereANumberGoesIsRefused() throws IOException {
        Path model = write("m.json", "{\"moe_layers\": 3, \"experts\": 8, \"top_k\": 2, \"hidden\": 1024, "
                + "\"expert_ffn\": 512, \"bytes_per_param\": {}}");
        assertThatThrownBy(() -> SpecFiles.model(model.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(model + ": bytes_per_param: expected a number, found an object");
        Path cluster = write("c.json", "{\"nodes\": 1, \"gpus_per_node\": 2, \"peak_tflops\": 989, "
                + "\"hbm_tbps\": 3.35, \"nvlink_gbps\": 450, \"network_gbps\": 50, \"nvlink_latency_us\": {\"a\": 1}}");
        assertThatThrownBy(() -> SpecFiles.cluster(cluster.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(cluster + ": nvlink_latency_us: expected a number, found an object");
        // Null stays absent (Hugging Face writes "n_shared_experts": null), and an object no one reads is fine.
        Path hf = write("config.json", "{\"num_hidden_layers\": 2, \"num_experts\": 8, \"hidden_size\": 64, "
                + "\"moe_intermediate_size\": 32, \"num_experts_per_tok\": 2, \"n_shared_experts\": null, "
                + "\"rope_scaling\": {\"type\": \"yarn\"}}");
        assertThat(SpecFiles.model(hf.toString()).moeLayers()).isEqualTo(2);
    }

    /**
     * A model or cluster file saved as UTF-16 or UTF-32 (Windows PowerShell's {@code >}) is named as not UTF-8 with
     * its first two bytes, as rebalance inputs and traces are: without a byte order mark, UTF-16 of ASCII JSON is
     * valid UTF-8 with NULs between the characters, and read as malformed JSON at an unexpected U+0000.
     */
    @Test
    void utf16AndUtf32SpecFilesAreNamedAsNotUtf8() throws IOException {
        String model = "{\"moe_layers\": 2, \"experts\": 4, \"top_k\": 2, \"hidden\": 64, \"expert_ffn\": 32}";
        String cluster = "{\"nodes\": 1, \"gpus_per_node\": 2, \"peak_tflops\": 100, \"hbm_tbps\": 1, "
                + "\"nvlink_gbps\": 100, \"network_gbps\": 10}";
        String[][] cases = {
            {"UTF-16LE", "\uFEFF", "FF FE"}, {"UTF-16BE", "\uFEFF", "FE FF"}, {"UTF-16LE", "", "7B 00"},
            {"UTF-16BE", "", "00 7B"}, {"UTF-32BE", "", "00 00"}};
        for (String[] c : cases) {
            java.nio.charset.Charset charset = java.nio.charset.Charset.forName(c[0]);
            String problem = ": is not UTF-8 text: it starts with bytes " + c[2] + ", as UTF-16 and UTF-32 text do "
                    + "(save it as UTF-8)";
            Path m = Files.write(dir.resolve("m.json"), (c[1] + model).getBytes(charset));
            assertThatThrownBy(() -> SpecFiles.model(m.toString())).as(c[0]).isInstanceOf(InvalidInputException.class)
                    .hasMessage(m + problem);
            Path cl = Files.write(dir.resolve("c.json"), (c[1] + cluster).getBytes(charset));
            assertThatThrownBy(() -> SpecFiles.cluster(cl.toString())).as(c[0])
                    .isInstanceOf(InvalidInputException.class).hasMessage(cl + problem);
        }
        Path bom = Files.write(dir.resolve("bom.json"), ("\uFEFF" + model).getBytes(StandardCharsets.UTF_8));
        assertThat(SpecFiles.model(bom.toString()).experts()).isEqualTo(4);
    }

    /**
     * A value read from a Hugging Face config.json that is out of range is named by its key there, as the user wrote
     * it: {@code n_group} was reported as moelab's {@code groups}, {@code num_experts_per_tok} as {@code top_k}.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"n_group\": 3 | n_group: 3 expert groups do not split the 4 experts evenly",
        "\"n_group\": 0 | n_group: must be at least 1, got 0",
        "\"num_experts_per_tok\": 8 | num_experts_per_tok: k=8 exceeds num_local_experts=4",
        "\"num_experts_per_tok\": 0 | num_experts_per_tok: must be at least 1, got 0",
        "\"num_local_experts\": 0 | num_local_experts: must be at least 1, got 0",
        "\"num_local_experts\": 0, \"num_experts\": 0 | num_experts: must be at least 1, got 0",
        "\"num_local_experts\": 0, \"n_routed_experts\": -2 | n_routed_experts: must be at least 1, got -2",
        "\"hidden_size\": 0 | hidden_size: must be at least 1, got 0",
        "\"intermediate_size\": 0 | intermediate_size: must be at least 1, got 0",
        "\"moe_intermediate_size\": -1 | moe_intermediate_size: must be at least 1, got -1",
        "\"n_shared_experts\": -1 | n_shared_experts: must not be negative, got -1",
        "\"shared_expert_intermediate_size\": -1 | shared_expert_intermediate_size: must not be negative, got -1",
        "\"num_hidden_layers\": 0 | num_hidden_layers: must be at least 1, got 0",
        "\"num_hidden_layers\": -3 | num_hidden_layers: must be at least 1, got -3",
        "\"num_hidden_layers\": -3, \"first_k_dense_replace\": 0 | num_hidden_layers: must be at least 1, got -3",
        "\"num_hidden_layers\": -3, \"decoder_sparse_step\": 1 | num_hidden_layers: must be at least 1, got -3"})
    void huggingFaceValuesOutOfRangeNameTheirKey(String change, String message) throws IOException {
        // Mixtral-shaped; a later key given twice would be refused, so the change replaces the base's members.
        java.util.Map<String, String> members = new java.util.LinkedHashMap<>();
        for (String m : ("\"num_hidden_layers\": 2, \"num_local_experts\": 4, \"num_experts_per_tok\": 2, "
                + "\"hidden_size\": 64, \"intermediate_size\": 32, " + change).split(", ")) {
            members.put(m.substring(0, m.indexOf(':')), m);
        }
        Path hf = write("hf.json", "{" + String.join(", ", members.values()) + "}");
        assertThatThrownBy(() -> SpecFiles.model(hf.toString())).isInstanceOf(InvalidInputException.class)
                .hasMessage(hf + ": " + message);
    }

    /**
     * Each rate of a cluster file (and its HBM size) is refused outside a wide but physical range, named in the error
     * (and docs/SIM.md):
     * {@code "peak_tflops": 1e-300} ran, and the table printed step times of 300 digits. The bounds themselves read.
     */
    @ParameterizedTest
    @CsvSource({
        "peak_tflops, 0.01, 100000, TFLOP/s, 0.001, 1e6",
        "compute_efficiency, 0.001, 1, '', 1e-300, 1.5",
        "hbm_tbps, 0.001, 1000, TB/s, 1e-300, 1001",
        "nvlink_gbps, 0.001, 1000000, GB/s, 0.0009, 1e300",
        "network_gbps, 0.001, 1000000, GB/s, -1, 1000000.5",
        "nvlink_latency_us, 0, 1000000, microseconds, -1e-300, 1e7",
        "network_latency_us, 0, 1000000, microseconds, -0.5, 1e300",
        // Not a rate, but as unbounded: 1e-300 GB ran, every placement flagged as more than the GPU's HBM.
        "hbm_gb, 0.01, 100000, GB, 1e-300, 1e300"})
    void clusterRatesOutsideAPhysicalRangeAreRefused(String key, String min, String max, String unit, String below,
                                                     String above) throws IOException {
        String base = "{\"nodes\": 2, \"gpus_per_node\": 2, \"peak_tflops\": 989, \"compute_efficiency\": 0.5, "
                + "\"hbm_tbps\": 3.35, \"nvlink_gbps\": 450, \"network_gbps\": 50, \"nvlink_latency_us\": 3, "
                + "\"network_latency_us\": 10, \"hbm_gb\": 80}";
        String range = "must be from " + min + " to " + max + (unit.isEmpty() ? "" : " " + unit) + ", got ";
        for (String bad : new String[] {below, above}) {
            Path c = write("c.json", base.replaceFirst("\"" + key + "\": [0-9.]+", "\"" + key + "\": " + bad));
            assertThatThrownBy(() -> SpecFiles.cluster(c.toString())).isInstanceOf(InvalidInputException.class)
                    .hasMessage(c + ": " + key + ": " + range
                            + io.moelab.eplb.Numbers.plain(Double.parseDouble(bad)));
        }
        for (String edge : new String[] {min, max}) {
            Path c = write("c.json", base.replaceFirst("\"" + key + "\": [0-9.]+", "\"" + key + "\": " + edge));
            assertThat(SpecFiles.cluster(c.toString()).toString()).isNotEmpty();
        }
    }
}
