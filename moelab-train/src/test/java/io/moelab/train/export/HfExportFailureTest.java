package io.moelab.train.export;

import ai.djl.ndarray.NDManager;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.engine.Pytorch;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.MoeTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** An export that fails part-way leaves the previous model in place and no half-written hidden directory. */
class HfExportFailureTest {
    @TempDir
    Path dir;

    /**
     * A failure while the weights are written (here: their arrays already freed) left {@code .model.tmp}, as large
     * as the model, beside {@code model/} until the next export.
     */
    @Test
    void aFailedExportLeavesTheOldModelAndNoTemporaryDirectory() throws Exception {
        ModelSpec spec = new ModelSpec(TokenStreams.VOCAB, 1, 16, 2, 1, 2, 1, 8, false, 10000, 1e-6);
        Path model = dir.resolve("model");
        MoeTransformer trained;
        try (NDManager manager = Pytorch.engine().newBaseManager()) {
            trained = new MoeTransformer(spec, manager, 1);
            HfExport.write(trained, model, Map.of());
        }
        String config = Files.readString(model.resolve("config.json"));
        assertThatThrownBy(() -> HfExport.write(trained, model, Map.of())).isInstanceOf(RuntimeException.class);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("model");
        }
        assertThat(model.resolve("config.json")).hasContent(config.strip());
        assertThat(model.resolve("model.safetensors")).isRegularFile();
    }
}
