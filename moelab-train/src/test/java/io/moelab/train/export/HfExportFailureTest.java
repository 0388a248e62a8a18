package io.moelab.train.export;

import ai.djl.ndarray.NDManager;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.engine.Pytorch;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.MoeTransformer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** An export that fails part-way leaves the previous model in place and no half-written hidden directory. */
class HfExportFailureTest {
    private static final ModelSpec SPEC = new ModelSpec(TokenStreams.VOCAB, 1, 16, 2, 1, 2, 1, 8, false, 10000, 1e-6);

    @TempDir
    Path dir;

    @AfterEach
    void clearHooks() {
        HfExport.beforeDeletingOld = null;
        HfExport.betweenRenames = null;
        HfExport.afterRenames = null;
    }

    /**
     * A failure while the weights are written (here: their arrays already freed) left {@code .model.tmp}, as large
     * as the model, beside {@code model/} until the next export.
     */
    @Test
    void aFailedExportLeavesTheOldModelAndNoTemporaryDirectory() throws Exception {
        Path model = dir.resolve("model");
        MoeTransformer trained;
        try (NDManager manager = Pytorch.engine().newBaseManager()) {
            trained = new MoeTransformer(SPEC, manager, 1);
            HfExport.write(trained, model, 64, Map.of());
        }
        String config = Files.readString(model.resolve("config.json"));
        assertThatThrownBy(() -> HfExport.write(trained, model, 64, Map.of())).isInstanceOf(RuntimeException.class);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("model");
        }
        assertThat(model.resolve("config.json")).hasContent(config.strip());
        assertThat(model.resolve("model.safetensors")).isRegularFile();
    }

    /**
     * A failure between the two renames (the old model moved to {@code .model.old}, the new one not yet in place)
     * puts the old model back as it was, file for file and byte for byte, and leaves no hidden directory.
     */
    @Test
    void aFailureBetweenTheRenamesPutsTheOldModelBack() throws Exception {
        Path model = dir.resolve("model");
        try (NDManager manager = Pytorch.engine().newBaseManager()) {
            HfExport.write(new MoeTransformer(SPEC, manager, 1), model, 64, Map.of());
            Map<String, byte[]> before = contents(model);
            // A differently seeded model, so a new model left in place would not pass for the old one.
            MoeTransformer other = new MoeTransformer(SPEC, manager, 2);
            Path aside = dir.resolve(".model.old");
            HfExport.betweenRenames = () -> {
                assertThat(model).doesNotExist();
                assertThat(aside).isDirectory();
                throw new IOException("simulated failure of the second rename");
            };
            assertThatThrownBy(() -> HfExport.write(other, model, 64, Map.of()))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasRootCauseMessage("simulated failure of the second rename");
            assertThat(names()).containsExactly("model");
            Map<String, byte[]> after = contents(model);
            assertThat(after.keySet()).isEqualTo(before.keySet());
            before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
        }
    }

    /**
     * An earlier run killed between the renames left {@code .model.old} and no {@code model/}; if this export then
     * fails part-way through deleting it, what is left of it must not be moved in as {@code model/}, where a reader
     * would load a model with files missing. The next export succeeds and leaves only {@code model/}.
     */
    @Test
    void aLeftoverOldModelHalfDeletedIsNotMovedBackIn() throws Exception {
        Path model = dir.resolve("model");
        Path aside = dir.resolve(".model.old");
        try (NDManager manager = Pytorch.engine().newBaseManager()) {
            MoeTransformer trained = new MoeTransformer(SPEC, manager, 1);
            HfExport.write(trained, model, 64, Map.of());
            Files.move(model, aside); // as left by a run killed between the renames
            HfExport.beforeDeletingOld = () -> {
                Files.delete(aside.resolve("config.json")); // the deletion gets this far, then fails
                throw new IOException("simulated failure deleting " + aside);
            };
            assertThatThrownBy(() -> HfExport.write(trained, model, 64, Map.of()))
                    .isInstanceOf(UncheckedIOException.class);
            assertThat(model).doesNotExist();
            assertThat(dir.resolve(".model.tmp")).doesNotExist();

            HfExport.beforeDeletingOld = null;
            HfExport.write(trained, model, 64, Map.of());
            assertThat(names()).containsExactly("model");
            assertThat(model.resolve("config.json")).isRegularFile();
            assertThat(model.resolve("model.safetensors")).isRegularFile();
        }
    }

    /**
     * The new model in place, a failure to delete the old one moved aside loses nothing: the export succeeds (it
     * reported "cannot export the model" with the new model exported), and the next export deletes the leftover.
     */
    @Test
    void aFailureDeletingTheOldModelAfterTheRenamesStillExports() throws Exception {
        Path model = dir.resolve("model");
        Path aside = dir.resolve(".model.old");
        try (NDManager manager = Pytorch.engine().newBaseManager()) {
            HfExport.write(new MoeTransformer(SPEC, manager, 1), model, 64, Map.of());
            MoeTransformer other = new MoeTransformer(SPEC, manager, 2);
            HfExport.write(other, dir.resolve("expected"), 64, Map.of());
            Map<String, byte[]> expected = contents(dir.resolve("expected"));
            io.moelab.train.io.RunFiles.deleteTree(dir.resolve("expected"));
            HfExport.afterRenames = () -> {
                assertThat(aside).isDirectory();
                throw new IOException("simulated failure deleting " + aside);
            };
            HfExport.write(other, model, 64, Map.of());
            Map<String, byte[]> after = contents(model);
            assertThat(after.keySet()).isEqualTo(expected.keySet());
            expected.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
            assertThat(names()).containsExactlyInAnyOrder("model", ".model.old");

            HfExport.afterRenames = null;
            HfExport.write(other, model, 64, Map.of());
            assertThat(names()).containsExactly("model");
        }
    }

    /**
     * An unchecked failure between the renames (the path a failure of the weights' writer takes) puts the old model
     * back as a checked one does; and a leftover {@code .model.old} from an earlier run, with no model beside it, is
     * not moved in as the model when this export fails before moving anything aside.
     */
    @Test
    void anUncheckedFailurePutsBackOnlyWhatThisExportMovedAside() throws Exception {
        Path model = dir.resolve("model");
        Path aside = dir.resolve(".model.old");
        try (NDManager manager = Pytorch.engine().newBaseManager()) {
            HfExport.write(new MoeTransformer(SPEC, manager, 1), model, 64, Map.of());
            Map<String, byte[]> before = contents(model);
            MoeTransformer other = new MoeTransformer(SPEC, manager, 2);
            HfExport.betweenRenames = () -> {
                throw new IllegalStateException("simulated unchecked failure");
            };
            assertThatThrownBy(() -> HfExport.write(other, model, 64, Map.of()))
                    .isInstanceOf(IllegalStateException.class).hasMessage("simulated unchecked failure");
            assertThat(names()).containsExactly("model");
            Map<String, byte[]> after = contents(model);
            assertThat(after.keySet()).isEqualTo(before.keySet());
            before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));

            HfExport.betweenRenames = null;
            Files.move(model, aside); // as left by a run killed between the renames
            HfExport.beforeDeletingOld = () -> {
                throw new IllegalStateException("simulated failure before deleting " + aside);
            };
            assertThatThrownBy(() -> HfExport.write(other, model, 64, Map.of()))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(names()).containsExactly(".model.old");
        }
    }

    /**
     * A hidden {@code .model.tmp} left by an export killed while writing is emptied before this one writes into it:
     * its files would otherwise be renamed into {@code model/} with the new ones.
     */
    @Test
    void aLeftoverTemporaryDirectoryIsNotCarriedIntoTheModel() throws Exception {
        Path stale = Files.createDirectories(dir.resolve(".model.tmp"));
        Files.writeString(stale.resolve("model-00001-of-00002.safetensors"), "half-written");
        try (NDManager manager = Pytorch.engine().newBaseManager()) {
            HfExport.write(new MoeTransformer(SPEC, manager, 1), dir.resolve("model"), 64, Map.of());
        }
        assertThat(names()).containsExactly("model");
        assertThat(contents(dir.resolve("model")).keySet()).containsExactly("config.json", "model.safetensors",
                "tokenizer_config.json");
    }

    private java.util.List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }

    private static Map<String, byte[]> contents(Path model) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                m.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return m;
    }
}
