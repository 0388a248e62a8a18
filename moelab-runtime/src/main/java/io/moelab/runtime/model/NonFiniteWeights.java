package io.moelab.runtime.model;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.safetensors.ShardedCheckpoint;
import io.moelab.runtime.safetensors.TensorInfo;
import io.moelab.runtime.tensor.WeightMatrix;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Finds the weight to blame when a forward pass produced NaN or an infinity. Loading does not scan the weights
 * (they stay memory-mapped and a scan would read every byte of a large checkpoint up front); only a pass whose
 * logits are not finite pays for this search, which reads the tensors in the checkpoint's order, row by row.
 */
final class NonFiniteWeights {
    private NonFiniteWeights() {
    }

    /**
     * The error for non-finite logits at {@code position}: naming the first tensor that holds a value that is not
     * finite and where, or, when every weight is finite, saying that float32 overflowed. Only the tensors in
     * {@code used} are searched: one the model ignores (an unused bias, an {@code lm_head.weight} that tied embeddings
     * replace) cannot have caused it.
     */
    static ModelFormatException blame(ShardedCheckpoint checkpoint, Set<String> used, int position) {
        for (Map.Entry<String, TensorInfo> e : checkpoint.tensors().entrySet()) {
            if (!used.contains(e.getKey())) {
                continue;
            }
            TensorInfo info = e.getValue();
            long[] shape = info.shape();
            long elements = info.elements();
            long lastDim = shape.length == 0 ? 1 : shape[shape.length - 1];
            // Row by row, so only a row must fit an array: a tensor of more than 2^31 elements (a 4 GiB embedding)
            // was skipped here, and a NaN in it reported as float32 overflowing. The model's matrices have int
            // dimensions, so a tensor whose rows or columns do not fit an int is none of them.
            if (elements == 0 || lastDim > Integer.MAX_VALUE || elements / lastDim > Integer.MAX_VALUE) {
                continue;
            }
            int cols = (int) lastDim;
            int rows = (int) (elements / cols);
            WeightMatrix m = WeightMatrix.of(info.dtype(), checkpoint.segment(e.getKey()), rows, cols);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                m.row(r, row);
                for (int c = 0; c < cols; c++) {
                    if (!Float.isFinite(row[c])) {
                        long flat = (long) r * cols + c;
                        return new ModelFormatException(checkpoint.fileOf(e.getKey()).toString(), e.getKey(),
                                String.format(Locale.ROOT, "holds %s at %s (the forward pass gave non-finite "
                                        + "logits at position %d)", row[c], index(flat, shape), position));
                    }
                }
            }
        }
        return new ModelFormatException(checkpoint.directory().toString(), null, "the forward pass gave non-finite "
                + "logits at position " + position + " although every weight is finite: float32 overflowed (weights "
                + "far larger than a trained model's)");
    }

    /** The multi-dimensional index of element {@code flat} of a row-major tensor of {@code shape}. */
    static String index(long flat, long[] shape) {
        long[] at = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = flat % shape[d];
            flat /= shape[d];
        }
        return Arrays.toString(at);
    }
}
