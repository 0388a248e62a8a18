package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.SmallHeapCli;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trace} writes each step as it closes: a trace far larger than the heap is recorded. */
class TraceMemoryTest {
    private static final int LAYERS = 16;
    private static final int EXPERTS = 256;
    private static final int TOKENS = 3000;

    @TempDir
    Path dir;

    @Test
    void aTraceFarLargerThanTheHeapIsRecorded() throws Exception {
        // --batch-tokens 1 over 3,000 tokens of a model with 16 MoE layers of 256 experts: 3,000 steps of 4,096
        // counts, 98 MB as longs and as much again as doubles, against a 64 MiB heap. Held until the end and then
        // written, they ran out of memory.
        Path model = write(dir.resolve("model"));
        Path text = dir.resolve("text.txt");
        StringBuilder s = new StringBuilder();
        Random r = new Random(7);
        for (int i = 0; i < TOKENS; i++) {
            s.append((char) ('a' + r.nextInt(26)));
        }
        Files.writeString(text, s);
        Path out = dir.resolve("trace.json.gz");
        String notes = runSmallHeap("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                out.toString(), "--batch-tokens", "1", "--threads", "1");
        assertThat(notes).contains("wrote " + out + ": 3000 steps of up to 1 token (3000 tokens), 16 MoE layers");
        // One token a step, top-2: every MoE layer of every step gives one token to each of two experts.
        long[] steps = {0};
        List<String> wrong = new ArrayList<>();
        TraceFiles.read(out, step -> {
            for (int l = 0; l < step.layers(); l++) {
                int ones = 0;
                for (int e = 0; e < step.experts(); e++) {
                    double load = step.load(l, e);
                    ones += load == 1 ? 1 : 0;
                    if (load != 0 && load != 1) {
                        wrong.add("step " + steps[0] + " layer " + l + " expert " + e + ": " + load);
                    }
                }
                if (ones != 2) {
                    wrong.add("step " + steps[0] + " layer " + l + ": " + ones + " experts");
                }
            }
            steps[0]++;
        });
        assertThat(wrong).isEmpty();
        assertThat(steps[0]).isEqualTo(TOKENS);
    }

    /** Runs the CLI in a JVM with a 64 MiB heap; returns its standard output. */
    private String runSmallHeap(String... args) throws Exception {
        return SmallHeapCli.runRuntime(dir, args).out();
    }

    /** A byte-level Mixtral-layout model: 16 layers of 256 experts (top-2), hidden 8. */
    private static Path write(Path m) throws Exception {
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), """
                {"model_type": "mixtral", "vocab_size": 258, "hidden_size": 8, "num_hidden_layers": %d,
                 "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4, "intermediate_size": 2,
                 "num_local_experts": %d, "num_experts_per_tok": 2, "rms_norm_eps": 1e-5, "rope_theta": 10000}
                """.formatted(LAYERS, EXPERTS));
        Random r = new Random(1);
        SafetensorsWriter w = new SafetensorsWriter();
        TinyMixtral.add(w, r, "model.embed_tokens.weight", 258, 8);
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            TinyMixtral.add(w, r, p + "input_layernorm.weight", 8);
            TinyMixtral.add(w, r, p + "post_attention_layernorm.weight", 8);
            TinyMixtral.add(w, r, p + "self_attn.q_proj.weight", 8, 8);
            TinyMixtral.add(w, r, p + "self_attn.k_proj.weight", 4, 8);
            TinyMixtral.add(w, r, p + "self_attn.v_proj.weight", 4, 8);
            TinyMixtral.add(w, r, p + "self_attn.o_proj.weight", 8, 8);
            TinyMixtral.add(w, r, p + "block_sparse_moe.gate.weight", EXPERTS, 8);
            for (int e = 0; e < EXPERTS; e++) {
                String x = p + "block_sparse_moe.experts." + e + ".";
                TinyMixtral.add(w, r, x + "w1.weight", 2, 8);
                TinyMixtral.add(w, r, x + "w3.weight", 2, 8);
                TinyMixtral.add(w, r, x + "w2.weight", 8, 2);
            }
        }
        TinyMixtral.add(w, r, "model.norm.weight", 8);
        TinyMixtral.add(w, r, "lm_head.weight", 258, 8);
        w.write(m.resolve("model.safetensors"));
        return m;
    }
}
