package io.moelab.cli.runtime;

import io.moelab.cli.support.Inputs;
import io.moelab.eplb.InvalidInputException;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.tensor.ProductTeam;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every runtime command shares: the model directory, how its weights are held, threads. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory: config.json, safetensors (sharded or not), optionally tokenizer.json.")
    private Path dir;

    @Option(names = "--weights", paramLabel = WEIGHTS_LABEL, defaultValue = "stored", description = WEIGHTS)
    private String weights;

    @Option(names = "--threads", paramLabel = "N", description = THREADS)
    private Integer threads;

    /** The values of every runtime command's {@code --weights}. */
    static final String WEIGHTS_LABEL = "stored|q8|int4|int4-i8|packed";

    /** The description of every runtime command's {@code --weights}. */
    static final String WEIGHTS = "Projection weights as stored (memory-mapped), quantized at load (int4-i8: INT4"
            + " times activations rounded to int8, in integer lanes), or F32 copied into a layout that streams faster"
            + " (default: stored).";

    /** The description of every runtime command's {@code --threads}. */
    static final String THREADS = "Threads for the matrix products, the caller included (default: the available"
            + " processors, or -Dmoelab.threads=N in MOELAB_JAVA_OPTS).";

    /** The model directory; {@code -} is refused ({@link Inputs#refuseDirectory}). */
    Path dir() {
        Inputs.refuseDirectory("--model", dir);
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
            case "int4-i8" -> WeightFormat.INT4_I8;
            case "packed" -> WeightFormat.PACKED;
            default -> throw new InvalidInputException("--weights",
                    "expected stored, q8, int4, int4-i8 or packed, got " + weights);
        };
    }

    MoeModel load() {
        WeightFormat f = format();
        useThreads(threads);
        return MoeModel.load(dir(), f);
    }

    /** Sizes the shared product team to {@code --threads}, when given. */
    static void useThreads(Integer threads) {
        if (threads == null) {
            return;
        }
        if (threads < 1) {
            throw new InvalidInputException("--threads", "must be positive, got " + threads);
        }
        int processors = Runtime.getRuntime().availableProcessors();
        int most = ProductTeam.MAX_THREADS_PER_PROCESSOR * processors;
        if (threads > most) {
            throw new InvalidInputException("--threads", threads + " on " + processors + " processors; at most "
                    + most + " (" + ProductTeam.MAX_THREADS_PER_PROCESSOR + " a processor)");
        }
        ProductTeam.useShared(threads);
    }
}
