package io.moelab.train.export;

import ai.djl.ndarray.NDArray;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tokenizer.ByteTokenizer;
import io.moelab.train.io.RunFiles;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.MoeTransformer;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * Writes a trained model as a Hugging Face {@code qwen3_moe} checkpoint that moelab-runtime (and Hugging Face
 * transformers) load: {@code config.json}, {@code model.safetensors} (F32, experts unstacked to
 * {@code mlp.experts.E.{gate,up,down}_proj.weight}) and {@code tokenizer_config.json} describing the byte-level
 * tokenizer (ids 0-255 bytes, 256 BOS, 257 EOS; the runtime picks it from the vocabulary size).
 */
public final class HfExport {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    /** For tests: run just before the hidden {@code .old} directory an earlier export left, if any, is deleted. */
    static volatile IoStep beforeDeletingOld;
    /** For tests: run between the two renames, the old model moved aside and the new one not yet in place. */
    static volatile IoStep betweenRenames;
    /** For tests: run just before the old model moved aside is deleted, the new one in place. */
    static volatile IoStep afterRenames;

    /** A test hook's action, which may fail as the file operation it stands beside could. */
    @FunctionalInterface
    interface IoStep {
        void run() throws IOException;
    }

    private HfExport() {}

    /**
     * Writes the model into {@code dir}, replacing what is there: the files are written into a hidden sibling
     * directory that is then renamed in place of the old one (moved aside first, then deleted), so a reader never
     * sees a half-written model: the old one whole, the new one whole, or, between the two renames, none (a run
     * killed there exports again when resumed, deleting the {@code .old} directory it left rather than putting it
     * back).
     *
     * @param context the tokens per window it was trained on ({@code --seq}), written as
     *                {@code max_position_embeddings}
     * @param extra   extra {@code config.json} keys under {@code "moelab"} (how it was trained)
     */
    public static void write(MoeTransformer model, Path dir, int context, Map<String, Object> extra) {
        ModelSpec spec = model.spec();
        Path target = dir.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Path old = target.resolveSibling("." + target.getFileName() + ".old");
        // Only what this call moved aside is put back: an .old left by an earlier run, with no model beside it, may
        // be half-deleted by the time this one fails (its deletion below failing part-way), and must not come back.
        boolean movedAside = false;
        try {
            Files.createDirectories(target.getParent());
            RunFiles.deleteTree(tmp);
            Files.createDirectories(tmp);
            SafetensorsWriter w = new SafetensorsWriter();
            w.metadata("format", "pt");
            for (Map.Entry<String, NDArray> e : model.parameters().all().entrySet()) {
                String name = e.getKey();
                NDArray a = e.getValue();
                if (name.endsWith(".mlp.experts.gate_proj") || name.endsWith(".mlp.experts.up_proj")
                        || name.endsWith(".mlp.experts.down_proj")) {
                    String prefix = name.substring(0, name.lastIndexOf('.'));
                    String proj = name.substring(name.lastIndexOf('.') + 1);
                    long[] shape = a.getShape().getShape();
                    float[] all = a.toFloatArray();
                    int per = Math.toIntExact(shape[1] * shape[2]);
                    for (int x = 0; x < shape[0]; x++) {
                        w.add(prefix + "." + x + "." + proj + ".weight", DType.F32, new long[] {shape[1], shape[2]},
                                java.util.Arrays.copyOfRange(all, x * per, (x + 1) * per));
                    }
                } else {
                    w.add(name, DType.F32, a.getShape().getShape(), a.toFloatArray());
                }
            }
            w.write(tmp.resolve("model.safetensors"));
            Files.writeString(tmp.resolve("config.json"), pretty(config(spec, context, extra)));
            Files.writeString(tmp.resolve("tokenizer_config.json"), pretty(tokenizer(spec)));
            // As a checkpoint: the files' data and the directory's entries reach the disk before the rename, or a
            // power cut soon after could leave model/ with an empty config.json (the writer syncs only the weights).
            RunFiles.sync(tmp.resolve("config.json"));
            RunFiles.sync(tmp.resolve("tokenizer_config.json"));
            RunFiles.syncDirectory(tmp);
            run(beforeDeletingOld);
            RunFiles.deleteTree(old);
            if (Files.exists(target)) {
                Files.move(target, old);
                movedAside = true;
            }
            run(betweenRenames);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            RunFiles.syncDirectory(target.getParent());
        } catch (IOException e) {
            restore(tmp, movedAside ? old : null, target, e);
            throw new UncheckedIOException("cannot export the model to " + dir, e);
        } catch (RuntimeException e) {
            restore(tmp, movedAside ? old : null, target, e); // the weights' writer fails unchecked
            throw e;
        }
        // The new model is in place: failing to delete the old one loses nothing (it reported "cannot export" with
        // the model exported), and the next export deletes what is left of it before anything else.
        try {
            run(afterRenames);
            RunFiles.deleteTree(old);
        } catch (IOException | RuntimeException e) {
            // left for the next export
        }
    }

    /**
     * After a failed export: deletes the half-written {@code tmp} (as large as the model, it stayed until the next
     * export) and puts the model moved aside to {@code old} back in {@code target}'s place, where it is missing.
     *
     * @param old where this export moved the previous model aside; {@code null} if it moved nothing
     */
    private static void restore(Path tmp, Path old, Path target, Exception failure) {
        RunFiles.deleteTemporary(tmp, failure);
        if (old != null && Files.exists(old) && !Files.exists(target)) {
            try {
                Files.move(old, target);
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }

    private static void run(IoStep hook) throws IOException {
        if (hook != null) {
            hook.run();
        }
    }

    /**
     * The Hugging Face {@code config.json} of {@code spec}.
     *
     * @param context the tokens per window it was trained on, its {@code max_position_embeddings}: without the key
     *                transformers takes Qwen3MoeConfig's default 32768, and its {@code generate}, given no length,
     *                would stop there rather than at the context the model knows
     * @param extra   keys written under {@code "moelab"} (how it was trained); empty for none
     * @throws IllegalArgumentException if {@code context} is below 1
     */
    public static ObjectNode config(ModelSpec spec, int context, Map<String, Object> extra) {
        if (context < 1) {
            throw new IllegalArgumentException("context must be at least 1, got " + context);
        }
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("Qwen3MoeForCausalLM");
        c.put("model_type", "qwen3_moe");
        c.put("vocab_size", spec.vocab());
        c.put("hidden_size", spec.dModel());
        c.put("num_hidden_layers", spec.layers());
        c.put("num_attention_heads", spec.heads());
        c.put("num_key_value_heads", spec.kvHeads());
        c.put("head_dim", spec.headDim());
        c.put("intermediate_size", spec.expertDim());
        c.put("moe_intermediate_size", spec.expertDim());
        c.put("num_experts", spec.experts());
        c.put("num_experts_per_tok", spec.topK());
        c.put("norm_topk_prob", spec.normTopK());
        c.put("decoder_sparse_step", 1);
        c.putArray("mlp_only_layers");
        c.put("hidden_act", "silu");
        c.put("attention_bias", false);
        c.put("rope_theta", spec.ropeTheta());
        c.put("rms_norm_eps", spec.rmsEps());
        c.put("max_position_embeddings", context);
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", ByteTokenizer.BOS);
        c.put("eos_token_id", ByteTokenizer.EOS);
        c.put("torch_dtype", "float32");
        if (!extra.isEmpty()) {
            c.set("moelab", JSON.valueToTree(extra));
        }
        return c;
    }

    private static ObjectNode tokenizer(ModelSpec spec) {
        ObjectNode t = JSON.createObjectNode();
        t.put("tokenizer_class", "moelab.ByteTokenizer");
        t.put("description", "byte-level: ids 0-255 are the bytes of the UTF-8 text, 256 is BOS, 257 is EOS");
        t.put("vocab_size", spec.vocab());
        t.put("bos_token_id", ByteTokenizer.BOS);
        t.put("eos_token_id", ByteTokenizer.EOS);
        t.put("add_bos_token", true);
        return t;
    }

    private static String pretty(ObjectNode n) {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n";
    }
}
