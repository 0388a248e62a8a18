package io.moelab.runtime.bench;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.model.Family;
import io.moelab.runtime.model.ModelConfig;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.safetensors.ShardedCheckpoint;
import io.moelab.runtime.safetensors.TensorInfo;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.Int4BlockMatrix;
import io.moelab.runtime.tensor.PackedF32Matrix;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * How many weight bytes a model holds and how many one decoded token reads, from {@code config.json}, the
 * checkpoint's header (each tensor's stored type) and the {@link WeightFormat}, without loading the weights.
 *
 * <p><b>Bytes of one matrix</b> ({@code rows × cols}, stored type of {@code b} bytes): as stored,
 * {@code rows·cols·b}; {@link WeightFormat#Q8} when 32 divides {@code cols}, {@code rows·cols + 2·rows·cols/32}
 * (an int8 per weight, a binary16 scale per group of 32); {@link WeightFormat#INT4} when 64 divides {@code cols},
 * {@code rows·cols/2 + 2·rows·cols/64}; {@link WeightFormat#INT4_I8} the same with rows padded to whole blocks
 * ({@link Int4BlockMatrix#paddedRows}); a matrix whose rows do not split into whole groups stays as stored;
 * {@link WeightFormat#PACKED} keeps the size of F32 but copies the matrices that pack off-heap. The
 * format applies to the attention projections, the experts, dense and shared MLPs and the output projection; the
 * embedding, the routers and the shared-expert gate always stay as stored. This mirrors {@code MoeModel}'s loader,
 * and {@link #residentBytes} equals {@code MoeModel.weightBytes()} (the tests check it).
 *
 * <p><b>Active bytes per token</b>: for every layer the q, k, v and o projections, plus for a MoE layer the
 * router, {@code topK} times the mean bytes of one of its experts (gate, up and down) and the shared expert and
 * its gate if any, or for a dense layer its MLP; then the output projection and one embedding row. Norm vectors
 * (a few kilobytes, on the heap) and the KV cache are not counted. Decoding a token must read at least these
 * bytes, so {@code active bytes × tokens/s} is the bandwidth decoding achieves and
 * {@code bandwidth / active bytes} its roofline.
 *
 * @param parameters          values of all tensors in the checkpoint
 * @param residentBytes       bytes of the weights held for inference: as {@code MoeModel.weightBytes()} counts
 *                            them (embedding, output projection unless tied, every projection, router, expert and
 *                            shared-expert gate, and the norms and biases as floats)
 * @param activeBytesPerToken weight bytes read per decoded token, as above
 * @param quantizedBytes      bytes of the matrices quantized or packed at load time (copies held off-heap)
 * @param mappedBytes         bytes of the checkpoint's safetensors files, which the loader maps whole
 */
public record WeightAccounting(long parameters, long residentBytes, long activeBytesPerToken, long quantizedBytes,
                               long mappedBytes) {

    /**
     * The accounting of the checkpoint in {@code dir} held in {@code format}.
     *
     * @throws ModelFormatException if {@code config.json} or the checkpoint is missing or invalid, or a tensor
     *                              the configuration implies is absent
     * @throws UncheckedIOException if a file cannot be read
     */
    public static WeightAccounting of(Path dir, WeightFormat format) {
        ModelConfig config = ModelConfig.ofModel(dir);
        try (ShardedCheckpoint checkpoint = ShardedCheckpoint.open(dir)) {
            long parameters = 0;
            Set<Path> files = new HashSet<>();
            for (TensorInfo t : checkpoint.tensors().values()) {
                parameters += t.elements();
                files.add(checkpoint.fileOf(t.name()));
            }
            long mapped = 0;
            for (Path f : files) {
                mapped += Files.size(f);
            }
            return of(config, name -> checkpoint.info(name).map(TensorInfo::dtype), format, parameters, mapped,
                    checkpoint.listing().toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir, e);
        }
    }

    /**
     * The accounting from a configuration and each tensor's stored type ({@code dtypes} answers empty for a
     * tensor the checkpoint lacks).
     *
     * @throws ModelFormatException naming {@code where} if a tensor the configuration implies is absent
     */
    static WeightAccounting of(ModelConfig c, Function<String, Optional<DType>> dtypes, WeightFormat format,
                               long parameters, long mappedBytes, String where) {
        Sizer s = new Sizer(dtypes, format, where);
        int h = c.hidden();
        int qDim = c.heads() * c.headDim();
        int kvDim = c.kvHeads() * c.headDim();
        long embedding = s.stored("model.embed_tokens.weight", c.vocabSize(), h);
        // As MoeModel: tied means the embedding, whether or not the checkpoint also holds an lm_head.
        boolean tied = c.tieWordEmbeddings();
        long output = tied ? embedding : s.formatted("lm_head.weight", c.vocabSize(), h);
        long resident = embedding + (tied ? 0 : output) + 4L * h;
        long active = output + (long) h * s.dtype("model.embed_tokens.weight").bytes();
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            String a = p + "self_attn.";
            long attention = s.formatted(a + "q_proj.weight", qDim, h) + s.formatted(a + "k_proj.weight", kvDim, h)
                    + s.formatted(a + "v_proj.weight", kvDim, h) + s.formatted(a + "o_proj.weight", h, qDim);
            // The vectors MoeModel holds as floats: two norms, the biases its family reads, q and k norms.
            long vectors = 2L * h + (c.qkvBias() ? qDim + 2L * kvDim : 0) + (c.oBias() ? h : 0)
                    + switch (c.family()) {
                        case QWEN3_MOE -> 2L * c.headDim();
                        case OLMOE -> (long) qDim + kvDim;
                        default -> 0;
                    };
            resident += attention + 4 * vectors;
            active += attention;
            if (c.isMoe(l)) {
                boolean mixtral = c.family() == Family.MIXTRAL;
                long router = s.stored(p + (mixtral ? "block_sparse_moe.gate.weight" : "mlp.gate.weight"),
                        c.experts(), h);
                long experts = 0;
                for (int e = 0; e < c.experts(); e++) {
                    String x = p + (mixtral ? "block_sparse_moe.experts." : "mlp.experts.") + e + ".";
                    experts += mixtral ? s.swiglu(x, "w1", "w3", "w2", c.expertIntermediate(), h)
                            : s.swiglu(x, "gate_proj", "up_proj", "down_proj", c.expertIntermediate(), h);
                }
                resident += router + experts;
                active += router + experts * c.topK() / c.experts();
                if (c.sharedIntermediate() > 0) {
                    long shared = s.swiglu(p + "mlp.shared_expert.", "gate_proj", "up_proj", "down_proj",
                            c.sharedIntermediate(), h);
                    long gate = s.stored(p + "mlp.shared_expert_gate.weight", 1, h);
                    resident += shared + gate;
                    active += shared + gate;
                }
            } else {
                long dense = s.swiglu(p + "mlp.", "gate_proj", "up_proj", "down_proj", c.intermediate(), h);
                resident += dense;
                active += dense;
            }
        }
        return new WeightAccounting(parameters, resident, active, s.quantized, mappedBytes);
    }

    /**
     * Bytes of a {@code rows × cols} matrix stored as {@code stored} and held in {@code format} (see the class
     * comment).
     */
    public static long matrixBytes(long rows, long cols, DType stored, WeightFormat format) {
        return switch (format) {
            case STORED, PACKED -> rows * cols * stored.bytes();
            case Q8 -> cols % 32 == 0 ? rows * cols + 2 * rows * (cols / 32) : rows * cols * stored.bytes();
            case INT4 -> cols % 64 == 0 ? rows * cols / 2 + 2 * rows * (cols / 64) : rows * cols * stored.bytes();
            case INT4_I8 -> cols % 64 == 0
                    ? matrixBytes(Int4BlockMatrix.paddedRows(rows), cols, stored, WeightFormat.INT4)
                    : rows * cols * stored.bytes();
        };
    }

    /** Sizes matrices by name, adding up the quantized ones. */
    private static final class Sizer {
        private final Function<String, Optional<DType>> dtypes;
        private final WeightFormat format;
        private final String where;
        long quantized;

        Sizer(Function<String, Optional<DType>> dtypes, WeightFormat format, String where) {
            this.dtypes = dtypes;
            this.format = format;
            this.where = where;
        }

        DType dtype(String name) {
            return dtypes.apply(name).orElseThrow(() -> new ModelFormatException(where, name,
                    "missing from the checkpoint"));
        }

        long stored(String name, int rows, int cols) {
            return matrixBytes(rows, cols, dtype(name), WeightFormat.STORED);
        }

        long formatted(String name, int rows, int cols) {
            DType d = dtype(name);
            long bytes = matrixBytes(rows, cols, d, format);
            boolean packed = format == WeightFormat.PACKED && d == DType.F32 && PackedF32Matrix.fits(rows, cols);
            if (packed || bytes != matrixBytes(rows, cols, d, WeightFormat.STORED)) {
                quantized += bytes;
            }
            return bytes;
        }

        long swiglu(String prefix, String gate, String up, String down, int inner, int h) {
            return formatted(prefix + gate + ".weight", inner, h) + formatted(prefix + up + ".weight", inner, h)
                    + formatted(prefix + down + ".weight", h, inner);
        }
    }
}
