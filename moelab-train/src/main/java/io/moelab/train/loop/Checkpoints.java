package io.moelab.train.loop;

import ai.djl.ndarray.NDArray;
import io.moelab.runtime.JsonProblems;
import io.moelab.runtime.safetensors.SafetensorsFile;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.io.RunFiles;
import io.moelab.train.optim.AdamW;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.exc.ValueInstantiationException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Training checkpoints under {@code OUT/checkpoints/}: one directory {@code step-N} per checkpoint holding
 * {@code state.safetensors} (parameters {@code param/NAME}, AdamW moments {@code adam.m/NAME} and
 * {@code adam.v/NAME}, all F32) and {@code trainer.json} (configuration, step, optimizer step count, the
 * partially filled logging window). A checkpoint is written into a hidden directory and renamed into place, then
 * the file {@code latest} is replaced atomically to name it; older checkpoints are deleted after that, so a crash
 * at any moment leaves a complete checkpoint to resume from.
 */
public final class Checkpoints {
    /** Reads the run's own files (trainer.json, metrics.jsonl), which never repeat a key: a repeat is refused. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path dir;

    /** Checkpoints of the run in {@code out}. */
    public Checkpoints(Path out) {
        this.dir = out.resolve("checkpoints");
    }

    /** The file in {@code checkpoints/} that names the newest checkpoint. */
    static final String LATEST = "latest";

    /** A checkpoint directory's name: {@code step-N}, N of at most 18 digits (so that it parses as a long). */
    private static final String STEP_DIR = "step-\\d{1,18}";

    /**
     * What a checkpoint records besides tensors.
     *
     * @param config    the run's configuration
     * @param step      completed steps
     * @param window    the partially filled logging window at that step
     * @param optimizerSteps AdamW updates taken (its bias corrections depend on it)
     * @param corpusSha256 the corpus's {@link io.moelab.train.data.Corpus#sha256()}, or null in checkpoints saved
     *                     before it was recorded
     * @param sampler   the run's batch sampler ({@link TokenStreams#SAMPLER}; {@link TokenStreams#LEGACY_SAMPLER} in
     *                  checkpoints saved before it was recorded)
     */
    public record State(TrainConfig config, long step, LogWindow window, long optimizerSteps, String corpusSha256,
                        int sampler) {}

    /** Saves parameters, optimizer state and {@code state}. */
    public void save(Map<String, NDArray> params, AdamW optimizer, State state) {
        String name = "step-" + state.step();
        Path tmp = dir.resolve(".tmp-" + name);
        try {
            Files.createDirectories(dir);
            RunFiles.deleteTree(tmp);
            Files.createDirectories(tmp);
            SafetensorsWriter w = new SafetensorsWriter();
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                add(w, "param/" + e.getKey(), e.getValue());
                add(w, "adam.m/" + e.getKey(), optimizer.firstMoments().get(e.getKey()));
                add(w, "adam.v/" + e.getKey(), optimizer.secondMoments().get(e.getKey()));
            }
            w.write(tmp.resolve("state.safetensors"));
            ObjectNode meta = JSON.createObjectNode();
            meta.set("config", JSON.valueToTree(state.config()));
            meta.put("step", state.step());
            meta.put("optimizer_steps", state.optimizerSteps());
            if (state.corpusSha256() != null) {
                meta.put("corpus_sha256", state.corpusSha256());
            }
            meta.put("batch_sampler", state.sampler());
            meta.set("window", JSON.valueToTree(state.window()));
            Files.writeString(tmp.resolve("trainer.json"), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(meta));
            // On the disk before the renames that make the checkpoint current (see RunFiles.sync).
            RunFiles.sync(tmp.resolve("state.safetensors"));
            RunFiles.sync(tmp.resolve("trainer.json"));
            RunFiles.syncDirectory(tmp);
            Path target = dir.resolve(name);
            RunFiles.deleteTree(target);
            RunFiles.move(tmp, target);
            RunFiles.syncDirectory(dir);
            RunFiles.writeAtomically(dir.resolve(LATEST), name + "\n");
            try (Stream<Path> s = Files.list(dir)) {
                for (Path old : s.filter(p -> p.getFileName().toString().startsWith("step-")
                        && !p.getFileName().toString().equals(name)).toList()) {
                    RunFiles.deleteTree(old);
                }
            }
        } catch (IOException e) {
            // A half-written checkpoint (a full disk) would stay, as large as the model and its moments, until the
            // next save.
            RunFiles.deleteTemporary(tmp, e);
            throw new UncheckedIOException("cannot write checkpoint in " + dir, e);
        } catch (RuntimeException e) {
            RunFiles.deleteTemporary(tmp, e); // the weights' writer fails unchecked
            throw e;
        }
    }

    /** The newest complete checkpoint's directory, if any. */
    public Optional<Path> latest() {
        Path pointer = dir.resolve(LATEST);
        try {
            if (Files.isRegularFile(pointer)) {
                // Only a step directory of this run: a pointer that is not UTF-8 failed the resume, and one naming
                // a path elsewhere (absolute, or up the tree) was followed there. Else the newest step, below.
                String name = new String(Files.readAllBytes(pointer), StandardCharsets.UTF_8).strip();
                if (name.matches(STEP_DIR) && Files.isRegularFile(dir.resolve(name).resolve("trainer.json"))) {
                    return Optional.of(dir.resolve(name));
                }
            }
            if (!Files.isDirectory(dir)) {
                return Optional.empty();
            }
            try (Stream<Path> s = Files.list(dir)) {
                return s.filter(p -> p.getFileName().toString().matches(STEP_DIR)
                                && Files.isRegularFile(p.resolve("trainer.json")))
                        .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(5))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir, e);
        }
    }

    /** Reads the state of checkpoint {@code checkpoint} without its tensors. */
    public static State readState(Path checkpoint) {
        try {
            JsonNode meta = JSON.readTree(Files.readString(checkpoint.resolve("trainer.json")));
            for (String key : new String[] {"config", "step", "window", "optimizer_steps"}) {
                if (meta.get(key) == null || meta.get(key).isNull()) {
                    throw new IllegalArgumentException("no \"" + key + "\"");
                }
            }
            long step = meta.get("step").asLong();
            // The directory's name says which step it saved: a step edited to -1 restarted the schedule at 0 on
            // the saved weights.
            String name = checkpoint.getFileName().toString();
            if (step < 0 || name.matches(STEP_DIR) && Long.parseLong(name.substring(5)) != step) {
                throw new IllegalArgumentException("step " + step + " disagrees with its directory " + name);
            }
            // The loop takes one AdamW update a step: another count (-5 made the bias corrections negative and the
            // first step NaN, blamed on --lr) is damage, as is a logging window longer than the run.
            long optimizerSteps = meta.get("optimizer_steps").asLong();
            if (optimizerSteps != step) {
                throw new IllegalArgumentException("optimizer_steps " + optimizerSteps + " disagrees with step " + step
                        + " (one AdamW update a step)");
            }
            LogWindow window = JSON.treeToValue(meta.get("window"), LogWindow.class);
            if (window.steps() > step) {
                throw new IllegalArgumentException("window of " + window.steps() + " steps is longer than the run's "
                        + step);
            }
            JsonNode corpus = meta.get("corpus_sha256");
            // Absent in checkpoints of runs that started before the sampler was recorded: they drew with the first.
            JsonNode samplerNode = meta.get("batch_sampler");
            int sampler = samplerNode == null || samplerNode.isNull() ? TokenStreams.LEGACY_SAMPLER
                    : samplerNode.isInt() ? samplerNode.asInt() : -1;
            if (sampler != TokenStreams.LEGACY_SAMPLER && sampler != TokenStreams.SAMPLER) {
                throw new IllegalArgumentException("batch_sampler " + samplerNode + " is none of this moelab's ("
                        + TokenStreams.LEGACY_SAMPLER + ", " + TokenStreams.SAMPLER + ")");
            }
            return new State(JSON.treeToValue(meta.get("config"), TrainConfig.class), step, window, optimizerSteps,
                    corpus == null || corpus.isNull() ? null : corpus.asString(), sampler);
        } catch (CharacterCodingException e) {
            // Damage, not an I/O failure: "cannot read" said nothing of why.
            throw new IllegalArgumentException(checkpoint.resolve("trainer.json") + ": not a moelab checkpoint: not "
                    + "UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + checkpoint.resolve("trainer.json"), e);
        } catch (RuntimeException e) {
            // Jackson's own message ends in a second line with its location, which says nothing here; a value the
            // configuration refused is said as it says it (Jackson's wrapper names a Java class).
            String problem = e instanceof ValueInstantiationException
                    && e.getCause() instanceof IllegalArgumentException refused && refused.getMessage() != null
                    ? refused.getMessage()
                    : e instanceof JacksonException j
                    ? Objects.requireNonNullElse(JsonProblems.duplicate(j), JsonProblems.describe(j)) : e.getMessage();
            throw new IllegalArgumentException(checkpoint.resolve("trainer.json") + ": not a moelab checkpoint: "
                    + (problem == null ? e.getClass().getSimpleName() : problem.lines().findFirst().orElse("")), e);
        }
    }

    /**
     * Copies the tensors of {@code checkpoint}, whose state is {@code state}, into {@code params} and
     * {@code optimizer}, and restores the optimizer's step count.
     */
    public static void restore(Path checkpoint, State state, Map<String, NDArray> params, AdamW optimizer) {
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint.resolve("state.safetensors"))) {
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                load(f, "param/" + e.getKey(), e.getValue());
                load(f, "adam.m/" + e.getKey(), optimizer.firstMoments().get(e.getKey()));
                load(f, "adam.v/" + e.getKey(), optimizer.secondMoments().get(e.getKey()));
            }
        }
        optimizer.steps(state.optimizerSteps());
    }

    private static void add(SafetensorsWriter w, String name, NDArray a) {
        w.add(name, DType.F32, a.getShape().getShape(), a.toFloatArray());
    }

    private static void load(SafetensorsFile f, String name, NDArray into) {
        MemorySegment s = f.segment(name);
        long[] expected = into.getShape().getShape();
        // Checked before the bytes are read as floats: an F16 or BF16 tensor of the same byte count, or a transposed
        // one of the same count, would otherwise load as other numbers.
        f.info(name).ifPresent(info -> {
            if (info.dtype() != DType.F32 || !Arrays.equals(info.shape(), expected)) {
                throw new IllegalArgumentException(f.path() + ": tensor " + name + " is " + info.dtype() + " "
                        + Arrays.toString(info.shape()) + ", the model expects F32 " + Arrays.toString(expected));
            }
        });
        float[] v = s.toArray(F32);
        if (v.length != into.getShape().size()) {
            throw new IllegalArgumentException(f.path() + ": tensor " + name + " has " + v.length
                    + " values, the model expects " + into.getShape().size());
        }
        // Training stops at a non-finite loss before it saves, so such a value is damage: resumed, a NaN weight
        // failed the first step as if --lr were too high, and an infinite moment froze its weights silently.
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException(f.path() + ": tensor " + name + " holds " + v[i] + " (value " + i
                        + " of " + v.length + ")");
            }
        }
        // In place through arithmetic rather than NDArray.set: DJL sets a tensor that requires gradients under
        // libtorch's deprecated AutoNonVariableTypeMode, which prints a warning on stderr. 0 * x + v is v exactly.
        try (NDArray loaded = into.getManager().create(v, into.getShape())) {
            into.muli(0).addi(loaded);
        }
    }
}
