package io.moelab.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.runtime.EndedMidWrite;
import io.moelab.runtime.bench.SyntheticCheckpoint.Contents;
import io.moelab.runtime.bench.SyntheticCheckpoint.Shape;
import io.moelab.runtime.bench.SyntheticCheckpoint.Tensor;
import io.moelab.runtime.model.Family;
import io.moelab.runtime.model.ModelConfig;
import io.moelab.runtime.safetensors.ShardedCheckpoint;
import io.moelab.runtime.safetensors.TensorInfo;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synthetic checkpoint holds the tensors its shape lists, as many parameters as its formula says. */
class SyntheticCheckpointTest {
    @TempDir
    Path dir;

    /**
     * Ctrl-C while {@code bench --synthetic m100} wrote its checkpoint left a hidden
     * {@code .model.safetensors.<hex>.tmp} of up to 411 MB in the model directory; a shutdown hook now deletes it.
     */
    @Test
    void aJvmEndedMidWriteLeavesNoTemporaryFile() throws Exception {
        EndedMidWrite.assertLeavesNothing(SyntheticWriteAndHoldMain.class, Files.createDirectory(dir.resolve("out")),
                dir, "\\.model\\.safetensors\\.[0-9a-f]+\\.tmp");
    }

    /**
     * Ctrl-C or kill while {@code bench --synthetic m100 --model NEW} wrote its weights left NEW behind, empty: the
     * checkpoint is now written into a hidden directory beside it, renamed when complete and deleted by a shutdown
     * hook otherwise.
     */
    @Test
    void aJvmEndedMidWriteLeavesNoNewDirectory() throws Exception {
        EndedMidWrite.assertLeavesNothing(SyntheticNewDirectoryHoldMain.class, Files.createDirectory(dir.resolve("p")),
                dir, "\\.model\\.[0-9a-f]+\\.tmp");
    }

    /** A new directory appears complete, nothing beside it; one that exists (empty) is written into in place. */
    @Test
    void aNewDirectoryAppearsWholeAndAnExistingOneIsKept() throws Exception {
        Path parent = Files.createDirectory(dir.resolve("parent"));
        Path model = SyntheticCheckpoint.write(parent.resolve("a/b/model"), Shape.tiny(), DType.F32, 1);
        assertThat(names(parent)).containsExactly("a");
        assertThat(names(model)).containsExactly("config.json", "model.safetensors");
        assertThat(SyntheticCheckpoint.exists(model, Shape.tiny(), DType.F32, 1)).isTrue();

        Path existing = Files.createDirectory(dir.resolve("existing"));
        Object key = Files.readAttributes(existing, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        SyntheticCheckpoint.write(existing, Shape.tiny(), DType.F32, 1);
        assertThat(Files.readAttributes(existing, java.nio.file.attribute.BasicFileAttributes.class).fileKey())
                .as("the same directory, not one renamed over it").isEqualTo(key);
        assertThat(Files.readAllBytes(existing.resolve("model.safetensors")))
                .isEqualTo(Files.readAllBytes(model.resolve("model.safetensors")));
    }

    /** A write that fails leaves neither the new directory, its hidden stand-in, nor the parents it made. */
    @Test
    void aFailedWriteLeavesNothingOfTheNewDirectory() throws Exception {
        Path parent = Files.createDirectory(dir.resolve("parent"));
        assertThatThrownBy(() -> SyntheticCheckpoint.intoNewDirectory(parent.resolve("a/b/model"), d -> {
            Files.writeString(d.resolve("config.json"), "{}");
            throw new java.io.IOException("disk full");
        })).isInstanceOf(java.io.IOException.class).hasMessage("disk full");
        assertThat(names(parent)).isEmpty();
    }

    private static List<String> names(Path d) throws Exception {
        try (java.util.stream.Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void parameterFormulaMatchesTheTensorsWritten() throws Exception {
        for (Shape shape : List.of(Shape.tiny(), new Shape(50, 64, 3, 4, 1, 8, 96, 5, 3))) {
            for (DType dtype : List.of(DType.F32, DType.BF16)) {
                Path d = SyntheticCheckpoint.write(dir.resolve(dtype + "-" + shape.layers()), shape, dtype, 7);
                long elements = 0;
                try (ShardedCheckpoint c = ShardedCheckpoint.open(d)) {
                    List<Tensor> expected = shape.tensors();
                    assertThat(c.tensors().keySet()).containsExactlyElementsOf(
                            expected.stream().map(Tensor::name).toList());
                    for (Tensor t : expected) {
                        TensorInfo info = c.info(t.name()).orElseThrow();
                        assertThat(info.dtype()).isEqualTo(dtype);
                        assertThat(info.shape()).containsExactly(t.shape());
                        elements += info.elements();
                    }
                }
                assertThat(elements).isEqualTo(shape.parameters());
                assertThat(Files.size(d.resolve("model.safetensors")))
                        .isGreaterThan(shape.parameters() * dtype.bytes());
                ModelConfig config = ModelConfig.read(d.resolve("config.json"));
                assertThat(config.family()).isEqualTo(Family.MIXTRAL);
                assertThat(config.vocabSize()).isEqualTo(shape.vocab());
                assertThat(config.hidden()).isEqualTo(shape.hidden());
                assertThat(config.layers()).isEqualTo(shape.layers());
                assertThat(config.kvHeads()).isEqualTo(shape.kvHeads());
                assertThat(config.headDim()).isEqualTo(shape.headDim());
                assertThat(config.expertIntermediate()).isEqualTo(shape.intermediate());
                assertThat(config.experts()).isEqualTo(shape.experts());
                assertThat(config.topK()).isEqualTo(shape.topK());
                // Known before writing, so that bench checks its options against it first.
                assertThat(shape.modelConfig()).isEqualTo(config);
            }
        }
    }

    @Test
    void m100IsAboutOneHundredMillionParameters() {
        Shape m = Shape.m100();
        // 2·8192·512 + 512 + 8·(2·512 + 512·(16 + 8)·64 + 16·512 + 3·16·512·448)
        assertThat(m.parameters()).isEqualTo(8_388_608L + 512 + 8L * (1024 + 786_432 + 8192 + 11_010_048));
        assertThat(m.parameters()).isEqualTo(102_834_688L);
        // 8192·512 + 512 + 8·(786_432 + 8192 + 3·2·512·448)
        assertThat(m.activeParameters()).isEqualTo(21_561_856L);
        assertThat(m.tensors().stream().mapToLong(Tensor::elements).sum()).isEqualTo(m.parameters());
        assertThat(Shape.named("M100")).isEqualTo(m);
        assertThatThrownBy(() -> Shape.named("m7b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("m100");
    }

    @Test
    void sameSeedSameBytesAndExistsRecognizesIt() throws Exception {
        Path a = SyntheticCheckpoint.write(dir.resolve("a"), Shape.tiny(), DType.F32, 3);
        Path b = SyntheticCheckpoint.write(dir.resolve("b"), Shape.tiny(), DType.F32, 3);
        Path c = SyntheticCheckpoint.write(dir.resolve("c"), Shape.tiny(), DType.F32, 4);
        byte[] bytesA = Files.readAllBytes(a.resolve("model.safetensors"));
        assertThat(Files.readAllBytes(b.resolve("model.safetensors"))).isEqualTo(bytesA);
        assertThat(Files.readAllBytes(c.resolve("model.safetensors"))).isNotEqualTo(bytesA);
        assertThat(SyntheticCheckpoint.exists(a, Shape.tiny(), DType.F32, 3)).isTrue();
        assertThat(SyntheticCheckpoint.exists(a, Shape.tiny(), DType.F32, 4)).isFalse();
        assertThat(SyntheticCheckpoint.exists(a, Shape.tiny(), DType.BF16, 3)).isFalse();
        assertThat(SyntheticCheckpoint.exists(a, Shape.m100(), DType.F32, 3)).isFalse();
        assertThat(SyntheticCheckpoint.exists(dir.resolve("none"), Shape.tiny(), DType.F32, 3)).isFalse();
        try (var files = Files.list(a)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("config.json", "model.safetensors");
        }
    }

    @Test
    void refusesF16AndBadShapes() {
        assertThatThrownBy(() -> SyntheticCheckpoint.write(dir, Shape.tiny(), DType.F16, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Shape(8, 8, 1, 3, 2, 4, 8, 2, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Shape(8, 8, 1, 2, 2, 4, 8, 2, 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Shape(8, 0, 1, 2, 2, 4, 8, 2, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void inspectTellsTheSameCheckpointFromPartsOfItAndFromAnythingElse() throws Exception {
        Shape tiny = Shape.tiny();
        assertThat(SyntheticCheckpoint.inspect(dir.resolve("none"), tiny, DType.F32, 3)).isEqualTo(Contents.NONE);
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertThat(SyntheticCheckpoint.inspect(empty, tiny, DType.F32, 3)).isEqualTo(Contents.NONE);

        Path a = SyntheticCheckpoint.write(dir.resolve("a"), tiny, DType.F32, 3);
        assertThat(SyntheticCheckpoint.inspect(a, tiny, DType.F32, 3)).isEqualTo(Contents.SAME);
        // Another seed, type or shape is another model: its weights would be replaced.
        assertThat(SyntheticCheckpoint.inspect(a, tiny, DType.F32, 4)).isEqualTo(Contents.OTHER);
        assertThat(SyntheticCheckpoint.inspect(a, tiny, DType.BF16, 3)).isEqualTo(Contents.OTHER);
        assertThat(SyntheticCheckpoint.inspect(a, new Shape(64, 64, 1, 4, 2, 16, 64, 4, 2), DType.F32, 3))
                .isEqualTo(Contents.OTHER);
        // A killed write's temporary file is no reason to refuse.
        Files.writeString(a.resolve(".model.safetensors.1f2e.tmp"), "partial");
        assertThat(SyntheticCheckpoint.inspect(a, tiny, DType.F32, 3)).isEqualTo(Contents.SAME);
        // Any other file is: shards of another model beside ours would make a mix.
        Files.writeString(a.resolve("model.safetensors.index.json"), "{}");
        assertThat(SyntheticCheckpoint.inspect(a, tiny, DType.F32, 3)).isEqualTo(Contents.OTHER);
        assertThat(SyntheticCheckpoint.exists(a, tiny, DType.F32, 3)).isFalse();

        // Part of the checkpoint (the weights renamed into place, the configuration not yet) is finished by a write.
        Path half = SyntheticCheckpoint.write(dir.resolve("half"), tiny, DType.F32, 3);
        Files.delete(half.resolve("config.json"));
        assertThat(SyntheticCheckpoint.inspect(half, tiny, DType.F32, 3)).isEqualTo(Contents.NONE);
        // A configuration alone: ours is part of the checkpoint, another model's (or a broken one) is not.
        Path configOnly = Files.createDirectory(dir.resolve("config-only"));
        Files.copy(a.resolve("config.json"), configOnly.resolve("config.json"));
        assertThat(SyntheticCheckpoint.inspect(configOnly, tiny, DType.F32, 3)).isEqualTo(Contents.NONE);
        Files.writeString(configOnly.resolve("config.json"), Files.readString(configOnly.resolve("config.json"))
                .replace("\"num_local_experts\" : 4", "\"num_local_experts\" : 8"));
        assertThat(SyntheticCheckpoint.inspect(configOnly, tiny, DType.F32, 3)).isEqualTo(Contents.OTHER);
        Files.writeString(configOnly.resolve("config.json"), "{\"model_type\": ");
        assertThat(SyntheticCheckpoint.inspect(configOnly, tiny, DType.F32, 3)).isEqualTo(Contents.OTHER);
        // Weights that are not ours, under our name.
        Path foreign = Files.createDirectory(dir.resolve("foreign"));
        Files.writeString(foreign.resolve("model.safetensors"), "not safetensors");
        assertThat(SyntheticCheckpoint.inspect(foreign, tiny, DType.F32, 3)).isEqualTo(Contents.OTHER);
        // A file where the directory goes.
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThat(SyntheticCheckpoint.inspect(file, tiny, DType.F32, 3)).isEqualTo(Contents.OTHER);
    }

    @Test
    void writeLeavesOnlyItsTwoFilesReadableByOthers() throws Exception {
        Path d = SyntheticCheckpoint.write(dir.resolve("d"), Shape.tiny(), DType.BF16, 1);
        try (var files = Files.list(d)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("config.json", "model.safetensors");
        }
        // Files.createTempFile made the weights owner-only; they should look like the configuration beside them.
        if (d.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertThat(Files.getPosixFilePermissions(d.resolve("model.safetensors")))
                    .isEqualTo(Files.getPosixFilePermissions(d.resolve("config.json")));
        }
    }

    /**
     * The weights are uniform with the documented spread: a projection's within sqrt(3) standard deviations of 0
     * (1/sqrt(cols): the input width), mean near 0 and sample deviation near its own; the embedding's deviation 1;
     * norms within 1 +- 0.1. A shape whose hidden (64), attention (32) and expert (128) widths differ, with an
     * embedding of more than the writer's chunk of 2^20 values, one layer, one KV head and top-k of every expert.
     */
    @Test
    void weightsAreUniformWithTheDocumentedSpread() {
        Shape shape = new Shape(16_400, 64, 1, 2, 1, 16, 128, 2, 2);
        Path d = SyntheticCheckpoint.write(dir, shape, DType.F32, 3);
        assertThat(shape.tensors().getFirst().elements()).isGreaterThan(1 << 20);
        try (ShardedCheckpoint c = ShardedCheckpoint.open(d)) {
            int norms = 0;
            for (Tensor t : shape.tensors()) {
                java.lang.foreign.MemorySegment s = c.segment(t.name());
                long n = t.elements();
                double sum = 0;
                double squares = 0;
                double min = Double.POSITIVE_INFINITY;
                double max = Double.NEGATIVE_INFINITY;
                for (long i = 0; i < n; i++) {
                    double v = s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED
                            .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i);
                    sum += v;
                    squares += v * v;
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
                double mean = sum / n;
                if (t.std() < 0) {
                    norms++;
                    assertThat(min).as(t.name()).isGreaterThanOrEqualTo(0.9f);
                    assertThat(max).as(t.name()).isLessThanOrEqualTo(1.1f);
                    assertThat(mean).as(t.name()).isCloseTo(1, within(0.02));
                    continue;
                }
                String name = t.name();
                double expected = name.contains("embed") ? 1 : name.contains("o_proj") ? 1 / Math.sqrt(32)
                        : name.endsWith("w2.weight") ? 1 / Math.sqrt(128) : 1 / Math.sqrt(64);
                assertThat(t.std()).as(name).isCloseTo(expected, within(1e-12));
                double bound = Math.sqrt(3) * expected * (1 + 1e-6);
                assertThat(Math.max(-min, max)).as(name).isLessThanOrEqualTo(bound).isGreaterThan(0.9 * bound);
                double sd = Math.sqrt(squares / n - mean * mean);
                assertThat(mean).as(name).isCloseTo(0, within(5 * expected / Math.sqrt(n)));
                assertThat(sd).as(name).isCloseTo(expected, within(expected * (n >= 4096 ? 0.05 : 0.25)));
            }
            assertThat(norms).isEqualTo(3);
        }
    }

    @Test
    void aShapeOfOnesAndOfTopKEqualToTheExpertsIsValid() {
        Shape ones = new Shape(1, 1, 1, 1, 1, 2, 1, 1, 1);
        assertThat(ones.parameters()).isEqualTo(2 + 1 + (2 + 4 * 2 + 1 + 3));
        assertThat(new Shape(64, 64, 2, 4, 2, 16, 64, 4, 4).topK()).isEqualTo(4);
        assertThatThrownBy(() -> new Shape(64, 64, 2, 4, 2, 16, 64, 4, 5)).isInstanceOf(
                IllegalArgumentException.class);
    }

    /**
     * The same shape, type and seed give the same bytes, across versions too: {@link SyntheticCheckpoint#inspect}
     * reuses a checkpoint on disk by its recorded shape, type and seed alone, so a change to the draws would leave
     * old and new checkpoints of one description with different weights. The tensor data (after the header) of
     * tiny, F32 and BF16, seed 1, pinned by SHA-256.
     */
    @Test
    void theWeightsOfADescriptionArePinned() throws Exception {
        String[][] cases = {{"F32", "ecb513250c0b664c1311ba916d79e7b6fe11449dc0be3b70501df7273dc6be5f"},
            {"BF16", "68db6c2085eadbf51aad1349b50f40881f72e539b25aefe7df32e0f764737dff"}};
        for (String[] c : cases) {
            DType dtype = DType.valueOf(c[0]);
            Path d = SyntheticCheckpoint.write(dir.resolve(c[0]), Shape.tiny(), dtype, 1);
            byte[] file = Files.readAllBytes(d.resolve("model.safetensors"));
            long header = java.nio.ByteBuffer.wrap(file, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            byte[] data = java.util.Arrays.copyOfRange(file, Math.toIntExact(8 + header), file.length);
            assertThat(data.length).isEqualTo(Shape.tiny().parameters() * dtype.bytes());
            assertThat(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(data))).as(c[0]).isEqualTo(c[1]);
        }
    }
}
