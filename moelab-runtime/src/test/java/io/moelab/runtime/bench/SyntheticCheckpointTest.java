package io.moelab.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
