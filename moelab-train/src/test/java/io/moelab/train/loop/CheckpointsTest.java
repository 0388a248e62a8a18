package io.moelab.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.engine.Pytorch;
import io.moelab.train.optim.AdamW;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restoring a checkpoint's tensors: values as saved, and tensors of another dtype or shape refused. */
class CheckpointsTest {
    @TempDir
    Path dir;

    private static final float[] SIX = {1, 2, 3, 4, 5, 6};

    /** A checkpoint whose {@code param/w} is {@code dtype} of {@code shape}; the moments are right. */
    private Path checkpoint(DType dtype, long[] shape) {
        new SafetensorsWriter()
                .add("param/w", dtype, shape, SIX)
                .add("adam.m/w", DType.F32, new long[] {2, 3}, new float[6])
                .add("adam.v/w", DType.F32, new long[] {2, 3}, new float[6])
                .write(dir.resolve("state.safetensors"));
        return dir;
    }

    private static Map<String, NDArray> params(NDManager m) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        params.put("w", m.zeros(new Shape(2, 3)));
        return params;
    }

    private static final Checkpoints.State STATE = new Checkpoints.State(null, 10, null, 7, null, 2);

    /**
     * The pointer {@code latest} names the newest checkpoint; one that names nothing usable falls back to the
     * newest step directory. A pointer that is not UTF-8 failed the resume ("cannot read .../checkpoints", exit 1),
     * and one naming a path outside the checkpoints (absolute, or up the tree) was followed there.
     */
    @Test
    void aLatestPointerThatNamesNoStepDirectoryFallsBackToTheNewest() throws Exception {
        Path out = dir.resolve("run");
        Path checkpoints = out.resolve("checkpoints");
        for (String step : new String[] {"step-2", "step-10"}) {
            Files.createDirectories(checkpoints.resolve(step));
            Files.writeString(checkpoints.resolve(step).resolve("trainer.json"), "{}");
        }
        Files.writeString(out.resolve("trainer.json"), "{}"); // a checkpoint-like file outside the checkpoints
        Path pointer = checkpoints.resolve("latest");
        Files.writeString(pointer, "step-2\n");
        assertThat(new Checkpoints(out).latest()).isEqualTo(Optional.of(checkpoints.resolve("step-2")));
        for (byte[] bad : new byte[][] {{(byte) 0xff, '\n'}, "..\n".getBytes(), (out + "\n").getBytes(),
                "step-2\u0000\n".getBytes(), "step-7\n".getBytes()}) {
            Files.write(pointer, bad);
            assertThat(new Checkpoints(out).latest()).as(new String(bad))
                    .isEqualTo(Optional.of(checkpoints.resolve("step-10")));
        }
    }

    /**
     * A checkpoint that cannot be made current (a directory {@code latest} in the pointer's place) fails, and leaves
     * no hidden {@code .latest.tmp} in the checkpoints.
     */
    @Test
    void aFailedSaveLeavesNoTemporaryFile() throws Exception {
        Path out = dir.resolve("run");
        Path checkpoints = out.resolve("checkpoints");
        Files.createDirectories(checkpoints.resolve("latest"));
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> params = params(m);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1);
            assertThatThrownBy(() -> new Checkpoints(out).save(params, opt, STATE))
                    .hasMessageContaining("cannot write checkpoint");
        }
        try (var names = Files.list(checkpoints)) {
            assertThat(names.map(p -> p.getFileName().toString())).doesNotContain(".latest.tmp", ".tmp-step-10");
        }
    }

    @Test
    void restoresTheSavedValuesAndStepCount() {
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> params = params(m);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1);
            Checkpoints.restore(checkpoint(DType.F32, new long[] {2, 3}), STATE, params, opt);
            assertThat(params.get("w").toFloatArray()).containsExactly(SIX);
        }
    }

    @Test
    void aTensorOfAnotherShapeOrDtypeIsRefusedNamingIt() {
        // Six values either way: the element count alone let a transposed tensor load as other numbers, and a
        // half-precision one would be read as floats.
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> params = params(m);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1);
            Path transposed = checkpoint(DType.F32, new long[] {3, 2});
            assertThatThrownBy(() -> Checkpoints.restore(transposed, STATE, params, opt))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(transposed.resolve("state.safetensors") + ": tensor param/w is F32 [3, 2], the model "
                            + "expects F32 [2, 3]");
            Path half = checkpoint(DType.F16, new long[] {2, 3});
            assertThatThrownBy(() -> Checkpoints.restore(half, STATE, params, opt))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(half.resolve("state.safetensors") + ": tensor param/w is F16 [2, 3], the model "
                            + "expects F32 [2, 3]");
        }
    }

    /**
     * A checkpoint holding a NaN parameter resumed, and the first step failed with "--lr: the loss is not finite ...
     * lower --lr", blaming a setting; an infinite second moment resumed without a word and froze its weights
     * (an update of m / sqrt(inf) is zero). Both are refused naming the tensor.
     */
    @Test
    void aTensorHoldingNaNOrInfinityIsRefusedNamingIt() {
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> params = params(m);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1);
            new SafetensorsWriter()
                    .add("param/w", DType.F32, new long[] {2, 3}, new float[] {1, 2, Float.NaN, 4, 5, 6})
                    .add("adam.m/w", DType.F32, new long[] {2, 3}, new float[6])
                    .add("adam.v/w", DType.F32, new long[] {2, 3}, new float[6])
                    .write(dir.resolve("state.safetensors"));
            assertThatThrownBy(() -> Checkpoints.restore(dir, STATE, params, opt))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(dir.resolve("state.safetensors") + ": tensor param/w holds NaN (value 2 of 6)");
            new SafetensorsWriter()
                    .add("param/w", DType.F32, new long[] {2, 3}, SIX)
                    .add("adam.m/w", DType.F32, new long[] {2, 3}, new float[6])
                    .add("adam.v/w", DType.F32, new long[] {2, 3}, new float[] {0, 0, 0, 0, 0, Float.POSITIVE_INFINITY})
                    .write(dir.resolve("state.safetensors"));
            assertThatThrownBy(() -> Checkpoints.restore(dir, STATE, params, opt))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(dir.resolve("state.safetensors") + ": tensor adam.v/w holds Infinity (value 5 of 6)");
        }
    }

    /**
     * A save and what reads it back: the state as saved (configuration, step, window, AdamW's count, the corpus's
     * SHA-256 or none, the sampler), the parameters and both moments as they were, the pointer naming the newest
     * checkpoint and the older one deleted, no hidden directory left.
     */
    @Test
    void aSavedCheckpointReadsBackAsSavedAndReplacesTheOlder() throws Exception {
        Path out = dir.resolve("run");
        Checkpoints checkpoints = new Checkpoints(out);
        assertThat(checkpoints.latest()).isEmpty();
        TrainConfig config = TrainConfig.preset("tiny").withSteps(9).withCorpus(List.of("/texts/a.txt"));
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            NDArray w = m.create(SIX, new Shape(2, 3));
            w.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", w);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1);
            for (int step = 0; step < 3; step++) {
                // The gradient of sum(w * w) is 2w: the moments become distinct from the weights and from each other.
                try (NDScope scope = new NDScope(); GradientCollector gc = Pytorch.engine().newGradientCollector()) {
                    scope.suppressNotUsedWarning();
                    gc.backward(w.mul(w).sum());
                }
                opt.step(0.01, 0);
                if (step == 1) {
                    checkpoints.save(params, opt, new Checkpoints.State(config, 2, LogWindow.EMPTY, 2, null,
                            TokenStreams.LEGACY_SAMPLER));
                }
            }
            LogWindow window = LogWindow.EMPTY.plus(1.25, 0.5, 0.125, 0.0625);
            Checkpoints.State state = new Checkpoints.State(config, 3, window, 3, "ab".repeat(32),
                    TokenStreams.SAMPLER);
            checkpoints.save(params, opt, state);
            Path ckpt = out.resolve("checkpoints/step-3");
            assertThat(checkpoints.latest()).contains(ckpt);
            assertThat(out.resolve("checkpoints/latest")).hasContent("step-3");
            try (var names = Files.list(out.resolve("checkpoints"))) {
                assertThat(names.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("latest", "step-3");
            }
            assertThat(Checkpoints.readState(ckpt)).isEqualTo(state);
            float[] weights = w.toFloatArray();
            float[] first = opt.firstMoments().get("w").toFloatArray();
            float[] second = opt.secondMoments().get("w").toFloatArray();
            assertThat(first).isNotEqualTo(second).isNotEqualTo(new float[6]);

            Map<String, NDArray> fresh = params(m);
            AdamW restored = new AdamW(fresh, m, 0.9, 0.95, 1e-8, 0.1);
            Checkpoints.restore(ckpt, Checkpoints.readState(ckpt), fresh, restored);
            assertThat(fresh.get("w").toFloatArray()).containsExactly(weights);
            assertThat(restored.firstMoments().get("w").toFloatArray()).containsExactly(first);
            assertThat(restored.secondMoments().get("w").toFloatArray()).containsExactly(second);
            assertThat(restored.steps()).isEqualTo(3);
        }
        // A checkpoint saved without the corpus's SHA-256 reads back without one.
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> params = params(m);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1);
            Checkpoints.State none = new Checkpoints.State(config, 4, LogWindow.EMPTY, 4, null, TokenStreams.SAMPLER);
            checkpoints.save(params, opt, none);
            assertThat(Checkpoints.readState(out.resolve("checkpoints/step-4"))).isEqualTo(none);
            assertThat(Files.readString(out.resolve("checkpoints/step-4/trainer.json")))
                    .doesNotContain("corpus_sha256");
        }
    }

    /**
     * What readState refuses in a trainer.json, and where its checks end: the step its directory names (no other),
     * AdamW's count equal to it, a logging window of at most the run's steps, the sampler 1 or 2 (none recorded: 1).
     */
    @Test
    void readStateTakesWhatARunWritesAndRefusesEachEdit() throws Exception {
        Path out = dir.resolve("run");
        TrainConfig config = TrainConfig.preset("tiny");
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> params = params(m);
            new Checkpoints(out).save(params, new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1),
                    new Checkpoints.State(config, 5, new LogWindow(5, 1, 1, 1, 1), 5, null, TokenStreams.SAMPLER));
        }
        Path ckpt = out.resolve("checkpoints/step-5");
        Path meta = ckpt.resolve("trainer.json");
        String saved = Files.readString(meta);
        // A window as long as the run is taken.
        assertThat(Checkpoints.readState(ckpt).window().steps()).isEqualTo(5);
        String[][] edits = {
                {"\"step\" : 5,", "\"step\" : 6,", "step 6 disagrees with its directory step-5"},
                {"\"optimizer_steps\" : 5,", "\"optimizer_steps\" : 4,",
                        "optimizer_steps 4 disagrees with step 5 (one AdamW update a step)"},
                {"\"steps\" : 5,", "\"steps\" : 6,", "window of 6 steps is longer than the run's 5"},
                {"\"batch_sampler\" : 2,", "\"batch_sampler\" : 0,", "batch_sampler 0 is none of this moelab's (1, 2)"},
                {"\"batch_sampler\" : 2,", "\"batch_sampler\" : \"1\",",
                        "batch_sampler \"1\" is none of this moelab's (1, 2)"},
                {"\"steps\" : 200,", "\"steps\" : 0,", "steps must be at least 1, got 0"},
        };
        for (String[] e : edits) {
            assertThat(saved).contains(e[0]);
            Files.writeString(meta, saved.replace(e[0], e[1]));
            assertThatThrownBy(() -> Checkpoints.readState(ckpt)).as(e[1]).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(meta + ": not a moelab checkpoint: " + e[2]);
        }
        Files.writeString(meta, saved.replace("\"batch_sampler\" : 2,", "\"batch_sampler\" : null,"));
        assertThat(Checkpoints.readState(ckpt).sampler()).isEqualTo(TokenStreams.LEGACY_SAMPLER);
        Files.writeString(meta, saved.replace("\"batch_sampler\" : 2,", "\"batch_sampler\" : 1,"));
        assertThat(Checkpoints.readState(ckpt).sampler()).isEqualTo(TokenStreams.LEGACY_SAMPLER);
        Files.writeString(meta, "[");
        assertThatThrownBy(() -> Checkpoints.readState(ckpt)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(meta + ": not a moelab checkpoint: Unexpected end-of-input")
                .hasMessageNotContaining("\n");
        // Outside a step directory nothing says which step it saved.
        Path elsewhere = Files.createDirectories(dir.resolve("copy"));
        Files.writeString(elsewhere.resolve("trainer.json"), saved.replace("\"step\" : 5,", "\"step\" : 6,")
                .replace("\"optimizer_steps\" : 5,", "\"optimizer_steps\" : 6,"));
        assertThat(Checkpoints.readState(elsewhere).step()).isEqualTo(6);
    }

    /**
     * A step saved again replaces the checkpoint of that step (a run killed after renaming it into place but before
     * naming it latest resumes from the one before and saves it again); without a pointer the newest of many step
     * directories, by number, is the latest.
     */
    @Test
    void aStepSavedAgainReplacesItsCheckpointAndTheNewestByNumberIsLatest() throws Exception {
        Path out = dir.resolve("run");
        Checkpoints checkpoints = new Checkpoints(out);
        TrainConfig config = TrainConfig.preset("tiny");
        try (NDManager m = Pytorch.engine().newBaseManager()) {
            Map<String, NDArray> params = params(m);
            AdamW opt = new AdamW(params, m, 0.9, 0.95, 1e-8, 0.1);
            checkpoints.save(params, opt, new Checkpoints.State(config, 7, LogWindow.EMPTY, 7, null, 2));
            params.get("w").addi(1);
            checkpoints.save(params, opt, new Checkpoints.State(config, 7, LogWindow.EMPTY, 7, null, 2));
            Map<String, NDArray> fresh = params(m);
            Path seven = out.resolve("checkpoints/step-7");
            Checkpoints.restore(seven, Checkpoints.readState(seven), fresh, opt);
            assertThat(fresh.get("w").toFloatArray()).containsOnly(1f);
        }
        Path dirs = out.resolve("checkpoints");
        Files.delete(dirs.resolve("latest"));
        for (int step : new int[] {3, 12, 9, 100, 11, 20, 1, 99, 8}) {
            Files.createDirectories(dirs.resolve("step-" + step));
            Files.writeString(dirs.resolve("step-" + step).resolve("trainer.json"), "{}");
        }
        Files.createDirectories(dirs.resolve("step-500")); // no trainer.json: a checkpoint half deleted
        assertThat(checkpoints.latest()).contains(dirs.resolve("step-100"));
    }
}
