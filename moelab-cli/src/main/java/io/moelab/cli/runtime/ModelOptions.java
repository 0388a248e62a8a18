package io.moelab.cli.runtime;

import io.moelab.eplb.InvalidInputException;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every runtime command shares: the model directory and how its weights are held. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory: config.json, safetensors (sharded or not), optionally tokenizer.json.")
    private Path dir;

    @Option(names = "--weights", paramLabel = "stored|q8|int4|packed", defaultValue = "stored",
            description = "Projection weights as stored (memory-mapped), quantized at load, or F32 copied into a"
                    + " layout that streams faster (default: stored).")
    private String weights;

    Path dir() {
        return dir;
    }

    WeightFormat format() {
        return weightFormat(weights);
    }

    /** The {@code --weights} value as a format. */
    static WeightFormat weightFormat(String weights) {
        return switch (weights) {
            case "stored" -> WeightFormat.STORED;
            case "q8" -> WeightFormat.Q8;
            case "int4" -> WeightFormat.INT4;
            case "packed" -> WeightFormat.PACKED;
            default -> throw new InvalidInputException("--weights", "expected stored, q8, int4 or packed, got "
                    + weights);
        };
    }

    MoeModel load() {
        WeightFormat f = format();
        return MoeModel.load(dir, f);
    }
}
