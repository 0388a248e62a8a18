package io.moelab.train.loop;

import io.moelab.train.data.Corpus;
import io.moelab.train.data.TokenStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrainerTest {
    @TempDir
    Path dir;

    static List<JsonNode> metrics(Path out) throws Exception {
        return Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .map(l -> Checkpoints.JSON.readTree(l)).toList();
    }

    /** The tiny preset with its own step and evaluation counts. */
    static TrainConfig tiny(int steps, int logEvery, int evalEvery, double auxWeight, double capacity) {
        TrainConfig t = TrainConfig.preset("tiny");
        return new TrainConfig("tiny", t.model(), t.seq(), t.batch(), steps, t.lr(), t.minLrRatio(),
                Math.min(t.warmup(), steps / 2), t.weightDecay(), t.beta1(), t.beta2(), t.clip(), auxWeight,
                t.zWeight(), capacity, t.seed(), logEvery, evalEvery, 2, t.corpus());
    }

    /** Each reason a domain can have no validation window has its own words. */
    @Test
    void unvalidatedDomainsSayWhy() {
        String block = "x".repeat(Corpus.DOCUMENT_CHARS);
        Corpus c = Corpus.fromTexts(Map.of("one", block, "two", block + "\n\n" + block));
        assertThat(c.validation()).containsOnlyKeys("two");
        TokenStreams streams = new TokenStreams(c);
        assertThat(Trainer.unvalidated(c, streams, "one", 64))
                .startsWith("domain one is not validated: it has one document");
        // Two documents hold one out, 8,000 characters: BOS, 8,000 bytes, EOS. A window is --seq + 1 tokens, so
        // --seq 8002 has none (the warning said the 8,002 tokens were "shorter than one window of 8002 tokens")
        // and --seq 8001 has one.
        assertThat(streams.validationWindows(8002, 8)).doesNotContainKey("two");
        assertThat(Trainer.unvalidated(c, streams, "two", 8002)).isEqualTo("domain two is not validated: its "
                + "held-out text has 8,002 tokens (its bytes, with BOS and EOS around each document), fewer than one "
                + "window of --seq + 1 = 8,003");
        assertThat(streams.validationWindows(8001, 8)).containsKey("two");
    }

    /** {@code t} trained on the text files of {@code corpus} instead of the default corpus. */
    private static TrainConfig withCorpus(TrainConfig t, Path corpus) {
        return new TrainConfig("tiny", t.model(), t.seq(), t.batch(), t.steps(), t.lr(), t.minLrRatio(),
                t.warmup(), t.weightDecay(), t.beta1(), t.beta2(), t.clip(), t.auxWeight(), t.zWeight(),
                t.capacityFactor(), t.seed(), t.logEvery(), t.evalEvery(), t.evalWindows(),
                List.of(corpus.toString()));
    }

    /**
     * A domain shorter than one window is refused before the first step: drawn now and then in proportion to its
     * size, it failed the run at step 71 of this one (and its resume at the same step).
     */
    @Test
    void aDomainShorterThanAWindowIsRefusedBeforeTraining() throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("big.txt"), ("the quick brown fox jumps over the lazy dog. ".repeat(200)
                + "\n\n").repeat(5));
        Files.writeString(corpus.resolve("small.txt"), "just a short line of text here, fifty bytes long.");
        TrainConfig c = withCorpus(tiny(200, 10, 50, 0.01, 1.25), corpus);
        Path out = dir.resolve("out");
        List<Long> steps = new java.util.ArrayList<>();
        assertThatThrownBy(() -> Trainer.start(c, out, new TrainListener() {
            @Override
            public void stepped(long step, double loss) {
                steps.add(step);
            }
        })).isInstanceOf(Corpus.CorpusException.class)
                .hasMessage("domain 'small' has 51 training tokens (its bytes, with BOS and EOS around each document), "
                        + "fewer than one window of --seq + 1 = 65: give it more text, leave it out, or lower --seq");
        assertThat(steps).isEmpty();
        assertThat(out.resolve("metrics.jsonl")).doesNotExist();
    }

    /** A file without text is no domain: the run says so instead of leaving it out in silence. */
    @Test
    void anEmptyDomainIsNamedInAWarning() throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("big.txt"), ("the quick brown fox jumps over the lazy dog. ".repeat(200)
                + "\n\n").repeat(5));
        Files.writeString(corpus.resolve("empty.txt"), "");
        TrainConfig c = withCorpus(tiny(1, 1, 1, 0.01, 1.25), corpus);
        List<String> warnings = new java.util.ArrayList<>();
        Trainer.start(c, dir.resolve("out"), new TrainListener() {
            @Override
            public void warning(String message) {
                warnings.add(message);
            }
        });
        assertThat(warnings).containsExactly("domain empty is left out: its text is empty");
    }

    @Test
    void tinyPresetLossFallsWithinFiftySteps() throws Exception {
        TrainConfig c = TrainConfig.preset("tiny").withSteps(50);
        Trainer.Summary s = Trainer.start(c, dir, TrainListener.NONE);
        List<JsonNode> m = metrics(dir);
        assertThat(m).hasSize(5);
        assertThat(m).extracting(n -> n.get("step").asInt()).containsExactly(10, 20, 30, 40, 50);
        double firstLoss = m.get(0).get("train_loss").asDouble();
        double lastLoss = m.get(4).get("train_loss").asDouble();
        // Uniform over 258 ids is ln 258 = 5.55 nats; bytes of English fall well below that quickly.
        assertThat(firstLoss).isGreaterThan(4.5);
        assertThat(lastLoss).isLessThan(firstLoss - 1.0);
        JsonNode last = m.get(4);
        assertThat(last.get("val_bits_per_byte").asDouble()).isLessThan(Math.log(258) / Math.log(2) - 2);
        assertThat(last.get("val_bits_per_byte_by_domain").size()).isEqualTo(16);
        assertThat(last.get("load_cv_by_layer").size()).isEqualTo(2);
        assertThat(s.validation().bitsPerByte()).isEqualTo(last.get("val_bits_per_byte").asDouble());
        assertThat(dir.resolve("model/config.json")).exists();
        assertThat(dir.resolve("model/model.safetensors")).exists();
        assertThat(dir.resolve("validation/humor.txt")).exists();
        assertThat(dir.resolve("routing.json")).exists();
        assertThat(dir.resolve("checkpoints/latest")).hasContent("step-50");
        // summary.json spells its keys as metrics.jsonl, routing.json and config.json do (it used Java's names:
        // dModel, bitsPerByte, tokensPerSecond).
        JsonNode summary = Checkpoints.JSON.readTree(dir.resolve("summary.json").toFile());
        assertThat(summary.propertyNames()).containsExactly("config", "steps", "parameters", "active_parameters",
                "validation", "train_seconds", "tokens_per_second");
        assertThat(summary.get("config").propertyNames()).containsExactly("preset", "model", "seq", "batch",
                "steps", "lr", "min_lr_ratio", "warmup", "weight_decay", "beta1", "beta2", "clip", "aux_weight",
                "z_weight", "capacity_factor", "seed", "log_every", "eval_every", "eval_windows", "corpus");
        assertThat(summary.get("config").get("model").propertyNames()).containsExactly("vocab", "layers", "d_model",
                "heads", "kv_heads", "experts", "top_k", "expert_dim", "norm_top_k", "rope_theta", "rms_eps");
        assertThat(summary.get("validation").propertyNames()).containsExactly("loss", "bits_per_byte",
                "bits_per_byte_by_domain", "routing_by_domain", "specialization");
        assertThat(summary.get("validation").get("specialization").propertyNames())
                .containsExactly("between_domains", "within_domain");
        assertThat(summary.get("validation").get("bits_per_byte_by_domain").has("fiction-mystery")).isTrue();
        assertThat(summary.get("validation").get("bits_per_byte").asDouble()).isEqualTo(s.validation().bitsPerByte());
        assertThat(summary.get("config").get("model").get("d_model").asInt()).isEqualTo(c.model().dModel());
    }

    /**
     * A line's tokens_per_s is training throughput: the validation before it was left out, but the checkpoint written
     * after the previous line was counted in the next one's time (seconds for a model of hundreds of megabytes).
     * Here writing the checkpoint takes 2.5 s more: counted, steps 3 and 4 would read as taking longer than that.
     */
    @Test
    void writingACheckpointDoesNotCountAsTrainingTime() throws Exception {
        TrainConfig c = tiny(4, 2, 2, 0.01, 1.25);
        Trainer.afterCheckpoint = () -> {
            try {
                Thread.sleep(2500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try {
            Trainer.start(c, dir, TrainListener.NONE);
        } finally {
            Trainer.afterCheckpoint = () -> { };
        }
        List<JsonNode> m = metrics(dir);
        assertThat(m).extracting(n -> n.get("step").asInt()).containsExactly(2, 4);
        double seconds = 2.0 * c.batch() * c.seq() / m.get(1).get("tokens_per_s").asDouble();
        assertThat(seconds).as("steps 3-4 took %.3f s by their line", seconds).isLessThan(2.5);
    }

    @Test
    void resumeReproducesTheUninterruptedRun() throws Exception {
        TrainConfig c = tiny(30, 5, 10, 0.01, 1.25);
        Path whole = dir.resolve("whole");
        Path broken = dir.resolve("broken");
        Trainer.start(c, whole, TrainListener.NONE);
        // A crash at step 25: the newest checkpoint is step 20, and lines for steps 25 were already written.
        assertThatThrownBy(() -> Trainer.start(c, broken, new TrainListener() {
            @Override
            public void stepped(long step, double loss) {
                if (step == 27) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        })).hasMessage("simulated crash");
        assertThat(metrics(broken)).hasSize(5);
        assertThat(broken.resolve("checkpoints/latest")).hasContent("step-20");
        Trainer.resume(broken, null, TrainListener.NONE);
        List<JsonNode> a = metrics(whole);
        List<JsonNode> b = metrics(broken);
        assertThat(b).hasSize(a.size());
        for (int i = 0; i < a.size(); i++) {
            ((ObjectNode) a.get(i)).remove("tokens_per_s");
            ((ObjectNode) b.get(i)).remove("tokens_per_s");
            assertThat(b.get(i)).as("line %d", i).isEqualTo(a.get(i));
        }
        assertThat(Files.readAllBytes(broken.resolve("model/model.safetensors")))
                .isEqualTo(Files.readAllBytes(whole.resolve("model/model.safetensors")));
    }

    @Test
    void resumeCanExtendARunAndRefusesToShrinkIt() throws Exception {
        TrainConfig c = tiny(10, 5, 5, 0.01, 1.25);
        Trainer.start(c, dir, TrainListener.NONE);
        Trainer.Summary more = Trainer.resume(dir, 15, TrainListener.NONE);
        assertThat(more.steps()).isEqualTo(15);
        assertThat(metrics(dir)).extracting(n -> n.get("step").asInt()).containsExactly(5, 10, 15);
        assertThatThrownBy(() -> Trainer.resume(dir, 12, TrainListener.NONE))
                .hasMessageContaining("below the checkpoint's step 15");
    }

    /**
     * A resume may also end a run before its planned total (not before its checkpoint): the cosine schedule is
     * planned again over the new total, so the last step runs at the floor, and the checkpoints and the export
     * record the new total.
     */
    @Test
    void resumeCanEndARunBeforeItsPlannedTotalWithTheScheduleReplanned() throws Exception {
        TrainConfig c = tiny(20, 5, 5, 0.01, 1.25); // warm-up 10 steps
        assertThatThrownBy(() -> Trainer.start(c, dir, new TrainListener() {
            @Override
            public void stepped(long step, double loss) {
                if (step == 12) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        })).hasMessage("simulated crash");
        assertThat(dir.resolve("checkpoints/latest")).hasContent("step-10");
        Trainer.Summary s = Trainer.resume(dir, 15, TrainListener.NONE);
        assertThat(s.steps()).isEqualTo(15);
        List<JsonNode> lines = metrics(dir);
        assertThat(lines).extracting(n -> n.get("step").asInt()).containsExactly(5, 10, 15);
        // A line's lr is the rate its last step ran at. Step 5 (index 4) is the fifth of 10 warm-up steps: half the
        // peak (the next step's rate, 6/10, passed the checks below, which sit where the schedule is flat). Step 10
        // (index 9) ran on the 20-step plan, at the peak; step 15 (index 14) is the last of 15: the floor.
        assertThat(lines.get(0).get("lr").asDouble()).isCloseTo(c.lr() * 5 / 10,
                org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lines.get(1).get("lr").asDouble()).isEqualTo(c.lr());
        assertThat(lines.get(2).get("lr").asDouble()).isCloseTo(c.lr() * c.minLrRatio(),
                org.assertj.core.api.Assertions.within(1e-12));
        assertThat(dir.resolve("checkpoints/latest")).hasContent("step-15");
        assertThat(Checkpoints.readState(dir.resolve("checkpoints/step-15")).config().steps()).isEqualTo(15);
        assertThat(Checkpoints.JSON.readTree(dir.resolve("model/config.json").toFile()).get("moelab")
                .get("trained_steps").asInt()).isEqualTo(15);
    }

    @Test
    void refusesToOverwriteARunOrResumeNothing() {
        TrainConfig c = tiny(5, 5, 5, 0.01, 1.25);
        Trainer.start(c, dir, TrainListener.NONE);
        assertThatThrownBy(() -> Trainer.start(c, dir, TrainListener.NONE))
                .hasMessageContaining("already holds a training run");
        assertThatThrownBy(() -> Trainer.resume(dir.resolve("empty"), null, TrainListener.NONE))
                .hasMessageContaining("no checkpoint");
    }

    @Test
    void aCorruptCheckpointIsOneLineNamingItsFile() throws Exception {
        Trainer.start(tiny(5, 5, 5, 0.01, 1.25), dir, TrainListener.NONE);
        Path meta = new Checkpoints(dir).latest().orElseThrow().resolve("trainer.json");
        String saved = Files.readString(meta);
        Files.writeString(meta, "{");
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(meta + ": not a moelab checkpoint: Unexpected end-of-input: expected close marker for "
                        + "Object");
        // Valid JSON that lies: a step its directory does not name (-1 restarted the schedule on the saved weights),
        // a missing field (a NullPointerException's text).
        Files.writeString(meta, "{\"config\": {}, \"step\": -1, \"window\": {}, \"optimizer_steps\": 5}");
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .hasMessage(meta + ": not a moelab checkpoint: step -1 disagrees with its directory step-5");
        Files.writeString(meta, "{}");
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .hasMessage(meta + ": not a moelab checkpoint: no \"config\"");
        // Bytes that are not UTF-8 failed as an I/O error, "cannot read .../trainer.json" (exit 1), saying nothing
        // of why.
        Files.write(meta, new byte[] {'{', (byte) 0xff, '}'});
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(meta + ": not a moelab checkpoint: not UTF-8 text");
        // A configuration without its model was taken, and the run failed with a NullPointerException.
        Files.writeString(meta, saved.replaceFirst("\"model\" : \\{[^}]*}", "\"model\" : null"));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(meta + ": not a moelab checkpoint: no model");
        // A value the configuration refuses is said as the configuration says it, not in Jackson's wrapper
        // ("Cannot construct instance of `io.moelab.train.loop.TrainConfig`, problem: ..."), nested or not.
        assertThat(saved).contains("\"steps\" : 5,").contains("\"experts\" : 8,");
        Files.writeString(meta, saved.replace("\"steps\" : 5,", "\"steps\" : 0,"));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .hasMessage(meta + ": not a moelab checkpoint: steps must be at least 1, got 0");
        Files.writeString(meta, saved.replace("\"experts\" : 8,", "\"experts\" : 0,"));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .hasMessage(meta + ": not a moelab checkpoint: experts must be positive, got 0");
        // What no run writes: an AdamW update count other than the step's (-5 made the bias corrections negative
        // and the first step NaN, blamed on --lr; 10^12 resumed silently without them), a logging window of a
        // negative step count (the next metrics line divided by it) or one longer than the run, a sum "NaN".
        assertThat(saved).contains("\"optimizer_steps\" : 5,").contains("\"steps\" : 0,")
                .contains("\"loss\" : 0.0,");
        Files.writeString(meta, saved.replace("\"optimizer_steps\" : 5,", "\"optimizer_steps\" : -5,"));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE)).hasMessage(meta
                + ": not a moelab checkpoint: optimizer_steps -5 disagrees with step 5 (one AdamW update a step)");
        Files.writeString(meta, saved.replace("\"optimizer_steps\" : 5,", "\"optimizer_steps\" : 1000000000000,"));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE)).hasMessage(meta
                + ": not a moelab checkpoint: optimizer_steps 1000000000000 disagrees with step 5 (one AdamW update "
                + "a step)");
        Files.writeString(meta, saved.replace("\"steps\" : 0,", "\"steps\" : -3,"));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .hasMessage(meta + ": not a moelab checkpoint: window steps must be at least 0, got -3");
        Files.writeString(meta, saved.replace("\"steps\" : 0,", "\"steps\" : 6,"));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .hasMessage(meta + ": not a moelab checkpoint: window of 6 steps is longer than the run's 5");
        Files.writeString(meta, saved.replace("\"loss\" : 0.0,", "\"loss\" : \"NaN\","));
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .hasMessage(meta + ": not a moelab checkpoint: window loss must be a finite number, got NaN");
    }

    /**
     * A checkpoint records its run's batch sampler; one saved before it did (no batch_sampler) is a run that drew with
     * the old sampler, which its resume keeps drawing with (an exact resume needs the same batches).
     */
    @Test
    void aCheckpointRecordsItsBatchSampler() throws Exception {
        Trainer.start(tiny(5, 5, 5, 0.01, 1.25), dir, TrainListener.NONE);
        Path ckpt = new Checkpoints(dir).latest().orElseThrow();
        Path meta = ckpt.resolve("trainer.json");
        String saved = Files.readString(meta);
        assertThat(Checkpoints.readState(ckpt).sampler()).isEqualTo(TokenStreams.SAMPLER);
        assertThat(saved).contains("\"batch_sampler\" : 2,");
        Files.writeString(meta, saved.replace("\"batch_sampler\" : 2,", ""));
        assertThat(Checkpoints.readState(ckpt).sampler()).isEqualTo(TokenStreams.LEGACY_SAMPLER);
        for (String bad : new String[] {"3", "\"2\"", "2.5"}) {
            Files.writeString(meta, saved.replace("\"batch_sampler\" : 2,", "\"batch_sampler\" : " + bad + ","));
            assertThatThrownBy(() -> Checkpoints.readState(ckpt)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(meta + ": not a moelab checkpoint: batch_sampler " + bad + " is none of this "
                            + "moelab's (1, 2)");
        }
    }

    /**
     * A key given twice in the run's own files: which value was meant cannot be known. Jackson took the last without a
     * word (a trainer.json with two "logEvery" resumed logging on the second), and a metrics line with two "step"s
     * was kept or dropped by the second.
     */
    @Test
    void aKeyGivenTwiceInTrainerJsonOrMetricsIsRefusedNamingIt() throws Exception {
        Trainer.start(tiny(5, 5, 5, 0.01, 1.25), dir, TrainListener.NONE);
        Path meta = new Checkpoints(dir).latest().orElseThrow().resolve("trainer.json");
        String saved = Files.readString(meta);
        assertThat(saved).contains("\"logEvery\" : 5,");
        Files.writeString(meta, saved.replace("\"logEvery\" : 5,", "\"logEvery\" : 5, \"logEvery\" : 1,"));
        long line = saved.substring(0, saved.indexOf("\"logEvery\"")).lines().count();
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(meta + ": not a moelab checkpoint: duplicate key \"logEvery\" (line " + line + ")");
        Files.writeString(meta, saved);
        Path metrics = dir.resolve("metrics.jsonl");
        String lines = Files.readString(metrics);
        Files.writeString(metrics, lines + "{\"step\":5,\"train_loss\":5.1,\"step\":1}\n");
        assertThatThrownBy(() -> Trainer.resume(dir, null, TrainListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(metrics + ":2: duplicate key \"step\"");
        assertThat(Files.readString(metrics)).isEqualTo(lines + "{\"step\":5,\"train_loss\":5.1,\"step\":1}\n");
    }

    /**
     * A crash can cut the last metrics line inside a character of more than one byte (a domain named after a file
     * café.txt): the resume failed with "cannot write in OUT" (exit 1) instead of dropping the line as it drops any
     * line cut off.
     */
    @Test
    void aMetricsLineCutInsideACharacterIsDroppedOnResume() throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("café.txt"), ("the quick brown fox jumps over the lazy dog. ".repeat(200)
                + "\n\n").repeat(5));
        Path out = dir.resolve("run");
        TrainConfig c = withCorpus(tiny(10, 5, 5, 0.01, 1.25), corpus);
        assertThatThrownBy(() -> Trainer.start(c, out, new TrainListener() {
            @Override
            public void stepped(long step, double loss) {
                if (step == 8) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        })).hasMessage("simulated crash");
        Path metrics = out.resolve("metrics.jsonl");
        String kept = Files.readString(metrics);
        byte[] line = "{\"step\":10,\"val_bits_per_byte_by_domain\":{\"café".getBytes(StandardCharsets.UTF_8);
        // Up to the first of the two bytes of é.
        Files.write(metrics, Arrays.copyOf(line, line.length - 1), StandardOpenOption.APPEND);
        Trainer.resume(out, null, TrainListener.NONE);
        assertThat(metrics(out)).extracting(n -> n.get("step").asInt()).containsExactly(5, 10);
        assertThat(Files.readString(metrics)).startsWith(kept);
    }

    /**
     * A run killed after logging but before its first validation has metric lines and no checkpoint: starting again
     * said "pass --resume to continue it", and resuming then said there was no checkpoint. Both now say what
     * happened and what can be done; neither touches the metrics.
     */
    @Test
    void aRunWithoutACheckpointIsNamedAsSuchByStartAndResume() throws Exception {
        Path killed = Files.createDirectories(dir.resolve("killed"));
        String line = "{\"step\":5,\"train_loss\":5.1}\n";
        Files.writeString(killed.resolve("metrics.jsonl"), line);
        String why = "without a checkpoint to resume from (it stopped before its first validation, or its checkpoints "
                + "were deleted)";
        assertThatThrownBy(() -> Trainer.start(tiny(5, 5, 5, 0.01, 1.25), killed, TrainListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(killed + " already holds a training run " + why + "; choose another --out, or delete "
                        + killed.resolve("metrics.jsonl") + " to start over in it");
        assertThatThrownBy(() -> Trainer.resume(killed, null, TrainListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(killed + " holds a training run " + why + "; start it again without --resume in another "
                        + "--out, or in this one after deleting " + killed.resolve("metrics.jsonl"));
        assertThat(killed.resolve("metrics.jsonl")).hasContent(line);
        assertThatThrownBy(() -> Trainer.resume(dir.resolve("empty"), null, TrainListener.NONE))
                .hasMessage(dir.resolve("empty") + " holds no checkpoint to resume from");
    }

    @Test
    void aStartThatFailedBeforeItsFirstStepDoesNotBlockTheNext() throws Exception {
        // What a start that ran out of memory in its first step leaves: the metrics file, empty, and no checkpoint.
        Path failed = dir.resolve("failed");
        Files.createDirectories(failed);
        Files.createFile(failed.resolve("metrics.jsonl"));
        Trainer.Summary s = Trainer.start(tiny(5, 5, 5, 0.01, 1.25), failed, TrainListener.NONE);
        assertThat(s.steps()).isEqualTo(5);
        assertThat(metrics(failed)).extracting(n -> n.get("step").asInt()).containsExactly(5);
    }

    @Test
    void theAuxiliaryLossLowersTheLoadImbalance() throws Exception {
        // No capacity limit, so the only force towards balance is the auxiliary loss.
        Path without = dir.resolve("without");
        Path with = dir.resolve("with");
        Trainer.start(tiny(80, 40, 40, 0.0, 0), without, TrainListener.NONE);
        Trainer.start(tiny(80, 40, 40, 0.05, 0), with, TrainListener.NONE);
        double cvWithout = metrics(without).get(1).get("load_cv").asDouble();
        double cvWith = metrics(with).get(1).get("load_cv").asDouble();
        assertThat(cvWith).isLessThan(cvWithout * 0.75);
    }
}
