package io.moelab.cli.train;

import io.moelab.cli.CliRunner;
import io.moelab.cli.LockHolder;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.TraceFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

/** {@code moelab train} end to end: train, plots, resume, and the exported model through the runtime commands. */
class TrainCommandTest {
    @TempDir
    Path dir;

    /**
     * The tiny preset's time as --help gives it is README's measured figure (BENCHMARKS.md: 13.8 s for the whole
     * command on two quiet cores), not a guess of its own.
     */
    @Test
    void helpGivesTheTinyPresetTimeTheReadmeGives() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        java.util.regex.Matcher quoted = java.util.regex.Pattern
                .compile("train --preset tiny --out runs/tiny +# about 0\\.5M parameters, ~(\\d+) s on 2 idle cores")
                .matcher(readme);
        assertThat(quoted.find()).as("README's train --preset tiny line").isTrue();
        CliRunner.Result help = CliRunner.run("train", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out().replaceAll("\\s+", " "))
                .contains("tiny (0.45M parameters, about " + quoted.group(1) + " s on two idle cores)");
    }

    @Test
    void trainsExportsAndTheRuntimeReadsTheModel() throws Exception {
        Path out = dir.resolve("run");
        Path corpus = Files.createDirectory(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("letters.txt"), ("the quick brown fox jumps over the lazy dog. ".repeat(200)
                + "\n\n").repeat(4));
        Files.writeString(corpus.resolve("digits.txt"), ("0123456789 9876543210 1357924680 ".repeat(300)
                + "\n\n").repeat(4));
        // An earlier run's plot of a third layer, in an --out started over: the tiny preset has two.
        Files.createDirectories(out);
        Files.writeString(out.resolve("routing-layer-2.png"), "old");
        // And its held-out text of a domain this corpus lacks.
        Files.createDirectories(out.resolve("validation"));
        Files.writeString(out.resolve("validation/genre.txt"), "an earlier run's held-out text");
        // Under a German default locale (a user's LANG=de_DE.UTF-8), which wrote "2,3456" and "449.000" in the
        // summary: numbers print as everywhere else on the command line.
        Locale before = Locale.getDefault();
        CliRunner.Result r;
        try {
            Locale.setDefault(Locale.GERMANY);
            r = CliRunner.run("train", "--preset", "tiny", "--corpus", corpus.toString(),
                    "--steps", "12", "--eval-every", "6", "--log-every", "3", "--seq", "32", "--batch", "4",
                    "--experts", "4", "--top-k", "2", "--threads", "1", "--out", out.toString());
        } finally {
            Locale.setDefault(before);
        }
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("trained 12 steps of tiny").contains("bits/byte").contains("this invocation: ");
        // By hand, the tiny preset (vocabulary 258, 2 layers, d-model 64, 4 heads of 16, 2 key/value heads, experts
        // of 128) with 4 experts, top-2: per layer attention 64*16*(2*4+2*2) + 2*16 (q/k norms) + 2*64 (norms) =
        // 12,448 and MoE 4*64 (router) + 3*4*64*128 = 98,560 (3*2*64*128 + 256 = 49,408 active); embedding and
        // output 2*258*64 plus the final norm's 64 = 33,088. The exported tensors hold the same total (below).
        assertThat(r.out()).startsWith("trained 12 steps of tiny: 255,104 parameters (156,800 active per token)\n")
                .containsPattern("\nvalidation: loss \\d+\\.\\d{4} nats/token, \\d+\\.\\d{4} bits/byte\n")
                .containsPattern("\nthis invocation: \\d+\\.\\d s of training, \\d+ tokens/s\n");
        // One distance pair per layer (the tiny preset has two).
        assertThat(r.out().lines().filter(l -> l.startsWith("routing by domain")).findFirst()).get().asString()
                .containsPattern(" L0 \\d\\.\\d{3} vs \\d\\.\\d{3} L1 \\d\\.\\d{3} vs \\d\\.\\d{3}$");
        assertThat(Files.readAllLines(out.resolve("metrics.jsonl"))).hasSize(4);
        assertThat(out.resolve("loss.png")).exists();
        assertThat(out.resolve("routing-layer-0.png")).exists();
        assertThat(out.resolve("routing-layer-1.png")).exists();
        assertThat(out.resolve("routing-layer-2.png")).doesNotExist();
        // The summary names every layer's plot, in shell brace form, not layer 0's alone.
        assertThat(r.out())
                .contains("plots: " + out.resolve("loss.png") + ", " + out.resolve("routing-layer-{0..1}.png"));
        assertThat(out.resolve("validation/genre.txt")).doesNotExist();
        assertThat(out.resolve("validation/letters.txt")).exists();
        assertThat(out.resolve("validation/digits.txt")).exists();
        String config = Files.readString(out.resolve("model/config.json"));
        assertThat(config).contains("\"model_type\" : \"qwen3_moe\"").contains("\"num_experts\" : 4")
                .contains("\"norm_topk_prob\" : true");
        assertThat(exportedParameters(out.resolve("model/model.safetensors"))).isEqualTo(255_104);

        // On changed text the batches would not be the run's: refused, and nothing is written.
        Path letters = corpus.resolve("letters.txt");
        String original = Files.readString(letters);
        Files.writeString(letters, original + "one more line\n");
        String metricsBefore = Files.readString(out.resolve("metrics.jsonl"));
        CliRunner.Result changed = CliRunner.run("train", "--resume", "--steps", "15", "--out", out.toString());
        assertThat(changed.exitCode()).isEqualTo(2);
        assertThat(changed.errLines()).singleElement().asString().startsWith("error: train: the corpus (")
                .contains("has changed since the checkpoint at step 12 was saved");
        assertThat(out.resolve("metrics.jsonl")).hasContent(metricsBefore);
        Files.writeString(letters, original);

        CliRunner.Result more = CliRunner.run("train", "--resume", "--steps", "15", "--out", out.toString());
        assertThat(more.exitCode()).as(more.err()).isZero();
        assertThat(more.out()).contains("trained 15 steps");
        // The README's "--preset small --steps 3000 --out runs/small --resume": the run's own preset may be named
        // (it was refused as a change), and so may every option of the run with its saved value (they were refused
        // too, whatever their value): the command that started the run, with --resume and a new total, continues it.
        // The peak lr is given as 3e-3, the preset's 0.003.
        CliRunner.Result samePreset = CliRunner.run("train", "--resume", "--preset", "tiny", "--corpus",
                corpus.toString(), "--steps", "16", "--eval-every", "6", "--log-every", "3", "--seq", "32", "--batch",
                "4", "--experts", "4", "--top-k", "2", "--lr", "3e-3", "--capacity-factor", "1.25", "--threads", "1",
                "--out", out.toString());
        assertThat(samePreset.exitCode()).as(samePreset.err()).isZero();
        assertThat(samePreset.out()).contains("trained 16 steps");
        // A value that differs is a change, named with both values; nothing is written.
        String metricsAt16 = Files.readString(out.resolve("metrics.jsonl"));
        String[][] changes = {
            {"--preset", "small", "tiny", "small"},
            {"--lr", "1e-3", "0.003", "0.001"},
            {"--seed", "5", "1", "5"},
            {"--top-k", "1", "2", "1"},
            {"--corpus", "default", corpus.toString(), "default"}};
        for (String[] c : changes) {
            CliRunner.Result refused = CliRunner.run("train", "--resume", "--steps", "18", c[0], c[1], "--out",
                    out.toString());
            assertThat(refused.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(refused.errLines()).as(c[0]).containsExactly("error: " + c[0] + ": the run in " + out
                    + " was saved with " + c[2] + ", got " + c[3] + "; with --resume only --steps, --threads, "
                    + "--eval-windows, --eval-every and --log-every may change (start a new run in another --out to "
                    + "train differently)");
        }
        assertThat(out.resolve("metrics.jsonl")).hasContent(metricsAt16);
        // How often the run logs and validates changes what is reported, not what is learned: accepted (it was
        // refused like --lr), used from the checkpoint on, and recorded as the run's settings from then.
        CliRunner.Result reporting = CliRunner.run("train", "--resume", "--steps", "22", "--eval-every", "4",
                "--log-every", "1", "--threads", "1", "--out", out.toString());
        assertThat(reporting.exitCode()).as(reporting.err()).isZero();
        assertThat(Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .map(l -> l.replaceAll("^\\{\"step\":(\\d+),.*", "$1") + (l.contains("val_loss") ? "v" : "")))
                .containsExactly("3", "6v", "9", "12v", "15v", "16v", "17", "18", "19", "20v", "21", "22v");
        String summary = Files.readString(out.resolve("summary.json"));
        assertThat(summary).contains("\"log_every\" : 1").contains("\"eval_every\" : 4");
        // --steps at the checkpoint's step trains nothing: it says so (it reported "0.0 s of training, 0
        // tokens/s"), re-validates (here on more windows) and leaves the run's outputs in place.
        String metricsAt22 = Files.readString(out.resolve("metrics.jsonl"));
        CliRunner.Result nothing = CliRunner.run("train", "--resume", "--steps", "22", "--eval-windows", "3",
                "--threads", "1", "--out", out.toString());
        assertThat(nothing.exitCode()).as(nothing.err()).isZero();
        assertThat(nothing.out()).contains("trained 22 steps of tiny").contains("\nthis invocation: nothing to train "
                + "(the checkpoint is at step 22): its weights were validated and exported\n")
                .doesNotContain("tokens/s");
        assertThat(out.resolve("metrics.jsonl")).hasContent(metricsAt22);
        assertThat(Files.readString(out.resolve("summary.json"))).contains("\"eval_windows\" : 3");
        assertThat(out.resolve("model/model.safetensors")).exists();
        assertThat(out.resolve("loss.png")).exists();

        Path trace = dir.resolve("trace.json");
        CliRunner.Result t = CliRunner.run("trace", "--model", out.resolve("model").toString(), "--text",
                out.resolve("validation/letters.txt").toString(), out.resolve("validation/digits.txt").toString(),
                "--batch-tokens", "64", "--output", trace.toString(), "--plot", dir.resolve("shift.png").toString(),
                "--plot-layer", "1");
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(t.out()).contains("hottest expert per text").contains("letters.txt").contains("L1:e");
        assertThat(dir.resolve("shift.png")).exists();
        ExpertLoadTrace loads = TraceFiles.read(trace);
        assertThat(loads.layers()).isEqualTo(2);
        assertThat(loads.experts()).isEqualTo(4);
    }

    /**
     * The smallest run there is (one step), with an explicit top-1 (a given top-k decides the gates'
     * renormalization by itself: none for one expert, as in Switch; for two or more, the test above, it
     * renormalizes), on domains of one document each, which leave nothing to validate on. That run used to finish
     * training and then fail reading its own metrics ({@code "val_loss": "NaN"}) with a JSON library's message and
     * exit code 1; now each domain gets a warning up front and the report says there was no validation.
     */
    @Test
    void oneStepTopOneRunWithoutValidationText() throws Exception {
        Path out = dir.resolve("one");
        Path corpus = Files.createDirectory(dir.resolve("text"));
        Files.writeString(corpus.resolve("a.txt"), "abcdefghij klmnopqrst ".repeat(400));
        Files.writeString(corpus.resolve("b.txt"), "0123456789 ".repeat(800));
        // An earlier run's plots, its checkpoints and metrics deleted to start over here: they stayed beside this
        // run's files, which validated nothing, as if they were its own.
        Files.createDirectories(out);
        Files.writeString(out.resolve("routing-layer-0.png"), "old");
        Files.writeString(out.resolve("routing-layer-5.png"), "old");
        Files.writeString(out.resolve("routing-layer-x.png"), "not a plot of a run");
        CliRunner.Result r = CliRunner.run("train", "--preset", "tiny", "--corpus", corpus.toString(), "--steps", "1",
                "--seq", "32", "--batch", "2", "--top-k", "1", "--eval-windows", "1", "--threads", "1",
                "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("trained 1 step of tiny",
                "validation: none (no domain has held-out text; see the warnings above)")
                .doesNotContain("routing by domain", "routing-layer-0.png");
        assertThat(r.errLines()).filteredOn(l -> l.startsWith("warning: ")).containsExactly(
                "warning: domain a is not validated: it has one document, and a domain needs two or more "
                        + "(blank-line-separated blocks, merged until each holds 8,000 characters) to hold one out",
                "warning: domain b is not validated: it has one document, and a domain needs two or more "
                        + "(blank-line-separated blocks, merged until each holds 8,000 characters) to hold one out",
                // The tiny preset warms up over 20 steps: one step runs at a twentieth of the peak.
                "warning: the learning rate never reaches --lr 0.003: the warm-up is 20 steps and the run 1 (it "
                        + "peaks at 0.000150; lower --warmup)");
        assertThat(out.resolve("loss.png")).exists();
        assertThat(out.resolve("routing-layer-0.png")).doesNotExist();
        assertThat(out.resolve("routing-layer-5.png")).doesNotExist();
        assertThat(out.resolve("routing-layer-x.png")).exists();
        String config = Files.readString(out.resolve("model/config.json"));
        assertThat(config).contains("\"num_experts_per_tok\" : 1").contains("\"norm_topk_prob\" : false");
    }

    /**
     * A step whose training loss is finite can leave weights that are not (its own update overflowed): the run used to
     * validate them to a NaN loss, save them as a checkpoint, export them and exit 0, and every command reading the
     * model then refused it.
     */
    @Test
    void aValidationThatDivergedSavesNothing() throws Exception {
        Path out = dir.resolve("diverged");
        CliRunner.Result r = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--lr", "1e20", "--threads",
                "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.errLines()).filteredOn(l -> l.startsWith("error: ")).containsExactly("error: --lr: the "
                + "validation loss is not finite after step 1 (the weights are): lower --lr or raise --warmup; "
                + "nothing of this step was saved");
        // The --out it created is removed: it held an empty metrics.jsonl, a run that was never saved.
        assertThat(out).doesNotExist();
        // One that existed is kept, and holds nothing of the run.
        Path existing = Files.createDirectory(dir.resolve("existing"));
        Path mine = Files.writeString(existing.resolve("notes.txt"), "mine\n");
        CliRunner.Result again = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--lr", "1e20",
                "--threads", "1", "--out", existing.toString());
        assertThat(again.exitCode()).as(again.out()).isEqualTo(2);
        try (var left = Files.list(existing)) {
            assertThat(left).containsExactly(mine);
        }
    }

    /**
     * A path of the run's taken by the wrong kind of file: a run in such an --out trained to the end and then failed
     * with exit 1 (a file for checkpoints/: with no checkpoint saved and metrics.jsonl written, the --out could then
     * neither resume nor start again; a directory routing.json left a .routing.json.tmp beside it; a file model was
     * deleted to make room for the export), and a directory metrics.jsonl was called a run without a checkpoint. Each
     * is refused before training, naming the path, and nothing is written.
     */
    @Test
    void aRunPathOfTheWrongKindIsRefusedBeforeTraining() throws Exception {
        String[][] cases = {{"checkpoints", "file"}, {"model", "file"}, {"validation", "file"},
            {"routing.json", "directory"}, {"metrics.jsonl", "directory"}};
        for (String[] c : cases) {
            Path out = Files.createDirectories(dir.resolve("wrong-" + c[0]));
            Path taken = out.resolve(c[0]);
            if (c[1].equals("file")) {
                Files.writeString(taken, "mine\n");
            } else {
                Files.createDirectory(taken);
            }
            CliRunner.Result r = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--seq", "32",
                    "--batch", "2", "--warmup", "1", "--eval-windows", "1", "--threads", "1", "--out", out.toString());
            assertThat(r.exitCode()).as(c[0] + ": " + r.err()).isEqualTo(2);
            String expected = c[1].equals("file")
                    ? "error: --out " + out + ": " + c[0] + " is a file, not a directory (the run writes one there)"
                    : "error: " + taken + ": cannot write: is a directory";
            assertThat(r.errLines()).as(c[0]).containsExactly(expected);
            try (var names = Files.list(out)) {
                assertThat(names).as(c[0]).containsExactly(taken);
            }
            if (c[1].equals("file")) {
                assertThat(taken).hasContent("mine");
            }
        }
    }

    /**
     * A path whose name is known only once the corpus and settings are loaded, taken by a directory: a domain's
     * held-out text (OUT/validation/humor.txt: the default corpus has a domain humor), a layer's routing plot (the
     * tiny preset has layers 0 and 1) and the checkpoints' pointer file. The run trained, saved its checkpoint and
     * model, then failed (exit 1 and a stray .humor.txt.tmp, or exit 2 with no summary.json). Each is refused
     * before training, naming the path, with nothing written.
     */
    @Test
    void aLatePathOfTheWrongKindIsRefusedBeforeTraining() throws Exception {
        for (String name : List.of("validation/humor.txt", "routing-layer-1.png", "checkpoints/latest")) {
            Path out = Files.createDirectories(dir.resolve("late-" + name.replace('/', '-')));
            Path taken = Files.createDirectories(out.resolve(name));
            CliRunner.Result r = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--seq", "32",
                    "--batch", "2", "--warmup", "1", "--eval-windows", "1", "--threads", "1", "--out", out.toString());
            assertThat(r.exitCode()).as(name + ": " + r.err()).isEqualTo(2);
            assertThat(r.errLines()).as(name).containsExactly("error: " + taken + ": cannot write: is a directory");
            try (var files = Files.walk(out)) {
                // Only the directory made above and its parents: no metrics.jsonl, checkpoint, model or .tmp.
                assertThat(files.filter(f -> !taken.startsWith(f))).as(name).isEmpty();
            }
        }
    }

    /**
     * A directory that merely looks like an earlier run's routing plot of a layer this model lacks is not one: the
     * run deleted it when empty, and failed at the end (exit 1, after the model was saved) when not.
     */
    @Test
    void aDirectoryNamedLikeAStalePlotIsKept() throws Exception {
        Path out = dir.resolve("stale-plot");
        Path plots = Files.createDirectories(out.resolve("routing-layer-7.png"));
        Files.writeString(plots.resolve("mine.txt"), "mine\n");
        Path empty = Files.createDirectories(out.resolve("routing-layer-8.png"));
        CliRunner.Result r = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--seq", "32",
                "--batch", "2", "--warmup", "1", "--eval-windows", "1", "--threads", "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(plots.resolve("mine.txt")).hasContent("mine");
        assertThat(empty).isDirectory();
        assertThat(out.resolve("summary.json")).isRegularFile();
    }

    /**
     * Two runs on one --out at the same time wrote one metrics.jsonl and one checkpoints/ between them. A run in
     * use is refused up front, starting or resuming; a killed run's lock does not outlive it.
     */
    @Test
    void aRunDirectoryAnotherRunIsUsingIsRefused() throws Exception {
        Path out = dir.resolve("shared");
        String[] run = {"train", "--preset", "tiny", "--steps", "1", "--seq", "32", "--batch", "2", "--eval-windows",
                "1", "--threads", "1", "--out", out.toString()};
        try (LockHolder other = LockHolder.start(out)) {
            CliRunner.Result r = CliRunner.run(run);
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("error: --out " + out + ": another moelab run is using it (pid "
                    + other.pid() + ")\n");
            try (var names = Files.list(out)) {
                assertThat(names.map(p -> p.getFileName().toString())).containsExactly(".moelab.lock");
            }
        }
        CliRunner.Result r = CliRunner.run(run);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(out.resolve(".moelab.lock")).doesNotExist();
        String metrics = Files.readString(out.resolve("metrics.jsonl"));
        try (LockHolder other = LockHolder.start(out)) {
            CliRunner.Result resumed = CliRunner.run("train", "--resume", "--steps", "2", "--out", out.toString());
            assertThat(resumed.exitCode()).as(resumed.err()).isEqualTo(2);
            assertThat(resumed.err()).isEqualTo("error: --out " + out + ": another moelab run is using it (pid "
                    + other.pid() + ")\n");
        }
        assertThat(Files.readString(out.resolve("metrics.jsonl"))).isEqualTo(metrics);
    }

    /**
     * A learning rate so large that the weights end up past 2^64 (finite, but a float's square overflows there):
     * every RMSNorm then divides by an infinite root mean square, each layer's output is zero and so are the logits,
     * the losses a finite ln(vocab). The run exited 0 with that model; it is now refused as diverged.
     */
    @Test
    void weightsWhoseSquaresOverflowAreADivergedRun() throws Exception {
        Path out = dir.resolve("overflowed");
        CliRunner.Result r = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--lr", "3e38", "--threads",
                "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.errLines()).filteredOn(l -> l.startsWith("error: ")).singleElement(STRING)
                .startsWith("error: --lr: a weight is past 2^64 after step 1 (")
                .endsWith("): lower --lr or raise --warmup; nothing of this step was saved");
        assertThat(out).doesNotExist();
    }

    /**
     * The batch sampler changed on 2026-12-05 (seeds s and s + 2 had drawn nearly the same batches), so the reference
     * runs in docs/TRAINING.md could no longer be repeated. {@code --batch-sampler 1} repeats them: its first two
     * losses are those the build before the change wrote (21b71d5, {@code train --preset tiny --steps 2
     * --log-every 1 --eval-every 2 --threads 1}), bit for bit; the default draws other batches.
     */
    @Test
    void theFirstBatchSamplerRepeatsRunsMadeBeforeTheChange() throws Exception {
        Path legacy = dir.resolve("legacy");
        CliRunner.Result r = CliRunner.run("train", "--preset", "tiny", "--steps", "2", "--log-every", "1",
                "--eval-every", "2", "--threads", "1", "--batch-sampler", "1", "--out", legacy.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = Files.readAllLines(legacy.resolve("metrics.jsonl"));
        assertThat(lines.get(0)).contains("\"train_loss\":5.565542697906494,");
        assertThat(lines.get(1)).contains("\"train_loss\":5.5326385498046875,");
        assertThat(Files.readString(legacy.resolve("checkpoints/step-2/trainer.json")))
                .containsPattern("\"batch_sampler\" ?: ?1\\b");
        Path current = dir.resolve("current");
        CliRunner.Result d = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--log-every", "1",
                "--threads", "1", "--out", current.toString());
        assertThat(d.exitCode()).as(d.err()).isZero();
        assertThat(Files.readAllLines(current.resolve("metrics.jsonl")).get(0))
                .contains("\"train_loss\":").doesNotContain("5.565542697906494");
        CliRunner.Result bad = CliRunner.run("train", "--preset", "tiny", "--steps", "1", "--batch-sampler", "3",
                "--out", dir.resolve("bad").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.errLines()).containsExactly("error: --batch-sampler: must be 1 or 2, got 3");
        assertThat(dir.resolve("bad")).doesNotExist();
        CliRunner.Result resumed = CliRunner.run("train", "--resume", "--steps", "3", "--batch-sampler", "2",
                "--out", legacy.toString());
        assertThat(resumed.exitCode()).isEqualTo(2);
        assertThat(resumed.errLines()).containsExactly("error: --batch-sampler: cannot change with --resume: the "
                + "run continues with its saved configuration");
    }

    /**
     * A run whose corpus files moved could not be resumed: the saved paths were gone, and --corpus with the new
     * place was refused as a change. The same text in the new place is now accepted (the checkpoint's checksum
     * says it is the same), and recorded; other text there is still refused.
     */
    @Test
    void aRunWhoseCorpusMovedResumesFromItsNewPlace() throws Exception {
        Path out = dir.resolve("run");
        Path corpus = Files.createDirectory(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("a.txt"), ("abcdefghij klmnopqrst ".repeat(400) + "\n\n").repeat(3));
        Files.writeString(corpus.resolve("b.txt"), ("0123456789 ".repeat(800) + "\n\n").repeat(3));
        String[] run = {"train", "--corpus", corpus.toString(), "--steps", "2", "--eval-every", "2", "--seq", "32",
            "--batch", "2", "--warmup", "1", "--threads", "1", "--out", out.toString()};
        CliRunner.Result r = CliRunner.run(run);
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path moved = Files.move(corpus, dir.resolve("moved"));

        CliRunner.Result lost = CliRunner.run("train", "--resume", "--steps", "3", "--out", out.toString());
        assertThat(lost.exitCode()).isEqualTo(2);
        assertThat(lost.errLines()).containsExactly("error: --corpus: " + corpus + ": no such file or directory "
                + "(the run's corpus, as its checkpoint names it; if its files moved, give their new place with "
                + "--corpus)");

        CliRunner.Result resumed = CliRunner.run("train", "--resume", "--steps", "3", "--corpus", moved.toString(),
                "--threads", "1", "--out", out.toString());
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("trained 3 steps of tiny");
        // Recorded: the next resume reads the new place by itself.
        CliRunner.Result again = CliRunner.run("train", "--resume", "--steps", "4", "--threads", "1", "--out",
                out.toString());
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).contains("trained 4 steps of tiny");

        // Other text in another place is a change of corpus, refused as before.
        Path other = Files.createDirectory(dir.resolve("other"));
        Files.copy(moved.resolve("a.txt"), other.resolve("a.txt"));
        Files.writeString(other.resolve("b.txt"), Files.readString(moved.resolve("b.txt")) + "more\n");
        CliRunner.Result refused = CliRunner.run("train", "--resume", "--steps", "5", "--corpus", other.toString(),
                "--out", out.toString());
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.errLines()).singleElement().asString().startsWith("error: --corpus: the run in " + out
                + " was saved with " + moved + ", got " + other + ";");
    }

    /**
     * A run refused once it has claimed its --out removes only what it made: an --out, checkpoints/ and an empty
     * metrics.jsonl that were already there, empty, are the user's and stay. A corpus error that names no file
     * is passed on as the corpus gave it.
     */
    @Test
    void aRefusedRunKeepsTheEmptyPathsItFound() throws Exception {
        Path out = Files.createDirectory(dir.resolve("made-by-user"));
        CliRunner.Result r = CliRunner.run("train", "--steps", "1", "--batch-sampler", "3", "--out", out.toString());
        assertThat(r.errLines()).containsExactly("error: --batch-sampler: must be 1 or 2, got 3");
        assertThat(out).isEmptyDirectory();
        Files.createDirectory(out.resolve("checkpoints"));
        Files.createFile(out.resolve("metrics.jsonl"));
        assertThat(CliRunner.run("train", "--steps", "1", "--batch-sampler", "3", "--out", out.toString())
                .exitCode()).isEqualTo(2);
        assertThat(out.resolve("checkpoints")).isEmptyDirectory();
        assertThat(out.resolve("metrics.jsonl")).isEmptyFile();

        Path blank = Files.createDirectory(dir.resolve("blank"));
        Files.writeString(blank.resolve("empty.txt"), "\n\n");
        Path fresh = dir.resolve("fresh");
        CliRunner.Result noText = CliRunner.run("train", "--steps", "1", "--corpus", blank.toString(), "--threads",
                "1", "--out", fresh.toString());
        assertThat(noText.exitCode()).isEqualTo(2);
        assertThat(noText.errLines()).containsExactly("error: --corpus: the corpus holds no text: every domain is "
                + "empty or blank (empty)");
        assertThat(fresh).doesNotExist();
    }

    @Test
    void badInputIsOneLineAndExitCodeTwo() throws Exception {
        Path out = dir.resolve("x");
        CliRunner.Result preset = CliRunner.run("train", "--preset", "huge", "--out", out.toString());
        assertThat(preset.exitCode()).isEqualTo(2);
        assertThat(preset.errLines()).singleElement().asString().startsWith("error: ").contains("huge");

        CliRunner.Result corpus = CliRunner.run("train", "--corpus", dir.resolve("nope.txt").toString(),
                "--out", out.toString());
        assertThat(corpus.exitCode()).isEqualTo(2);
        assertThat(corpus.errLines()).singleElement().asString().contains("nope.txt");

        // Relative paths are named as given, not as the absolute paths the run records.
        Path here = Path.of("").toAbsolutePath();
        String relative = here.relativize(dir.resolve("nope.txt")).toString();
        CliRunner.Result relativeCorpus = CliRunner.run("train", "--corpus", relative, "--out", out.toString());
        assertThat(relativeCorpus.exitCode()).isEqualTo(2);
        assertThat(relativeCorpus.errLines()).containsExactly("error: --corpus: " + relative
                + ": no such file or directory");
        Path texts = dir.resolve("texts");
        Files.createDirectories(texts);
        Files.write(texts.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xe9});
        String relativeDir = here.relativize(texts) + "/";
        CliRunner.Result notUtf8 = CliRunner.run("train", "--corpus", relativeDir, "--out", out.toString());
        assertThat(notUtf8.exitCode()).isEqualTo(2);
        assertThat(notUtf8.errLines()).containsExactly("error: --corpus: " + here.relativize(texts)
                + "/latin1.txt: not UTF-8 text");
        Path nameless = Files.writeString(dir.resolve(".txt"), "text\n");
        CliRunner.Result noDomain = CliRunner.run("train", "--corpus", nameless.toString(), "--out", out.toString());
        assertThat(noDomain.exitCode()).isEqualTo(2);
        assertThat(noDomain.errLines()).containsExactly("error: --corpus: " + nameless
                + ": names no domain (a corpus file is named DOMAIN.txt or DOMAIN.txt.gz)");

        // Standard input cannot be a corpus (a domain is a file's name, and a resume reads the files again): it was
        // looked for as a file named -, "no such file or directory".
        for (String[] given : new String[][] {{"-"}, {dir.toString(), "-"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(
                    java.util.List.of("train", "--out", out.toString(), "--corpus"));
            args.addAll(java.util.List.of(given));
            CliRunner.Result stdin = CliRunner.runWithStdin("text\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    args.toArray(String[]::new));
            assertThat(stdin.exitCode()).isEqualTo(2);
            assertThat(stdin.errLines()).containsExactly("error: --corpus: standard input (-) cannot be a corpus: "
                    + "each corpus file is one domain, named after the file, and --resume reads it again; save the "
                    + "text as DOMAIN.txt and name that (./- for a file named -)");
        }
        assertThat(out).doesNotExist();

        CliRunner.Result mixed = CliRunner.run("train", "--corpus", "default", dir.toString(), "--out",
                out.toString());
        assertThat(mixed.exitCode()).isEqualTo(2);
        assertThat(mixed.errLines()).containsExactly("error: --corpus: 'default' cannot be combined with paths");

        CliRunner.Result shape = CliRunner.run("train", "--d-model", "30", "--heads", "4", "--out", out.toString());
        assertThat(shape.exitCode()).isEqualTo(2);
        assertThat(shape.errLines()).containsExactly("error: --d-model: 30 is not a multiple of heads 4");
        // A constraint between two options is reported under the one given: --heads 3 with the preset's d-model 64
        // read "--d-model: 64 is not a multiple of heads 3", blaming an option the user never wrote.
        String[][] between = {
            {"--heads", "3", "error: --heads: 3 does not divide d-model 64"},
            {"--d-model", "66", "error: --d-model: 66 is not a multiple of heads 4"},
            {"--kv-heads", "3", "error: --kv-heads: 3 does not divide heads 4"},
            {"--heads", "1", "error: --heads: 1 is not a multiple of kv-heads 2"},
            // Head dimension 1 (d-model 64 over 64 heads) read "model: head dimension 1 must be even for RoPE",
            // under no option at all.
            {"--heads", "64", "error: --heads: 64 heads leave a head dimension of 1, which must be even for RoPE"},
            {"--d-model", "36", "error: --d-model: 36 with heads 4 leaves a head dimension of 9, which must be even "
                + "for RoPE"}};
        for (String[] c : between) {
            CliRunner.Result r = CliRunner.run("train", c[0], c[1], "--out", out.toString());
            assertThat(r.exitCode()).as(c[0] + " " + c[1]).isEqualTo(2);
            assertThat(r.errLines()).as(c[0] + " " + c[1]).containsExactly(c[2]);
        }
        CliRunner.Result both = CliRunner.run("train", "--heads", "6", "--kv-heads", "4", "--d-model", "48", "--out",
                out.toString());
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.errLines()).containsExactly("error: --heads: 6 is not a multiple of kv-heads 4");
        CliRunner.Result odd = CliRunner.run("train", "--heads", "2", "--d-model", "6", "--out", out.toString());
        assertThat(odd.exitCode()).isEqualTo(2);
        assertThat(odd.errLines()).containsExactly(
                "error: --d-model: 6 with heads 2 leaves a head dimension of 3, which must be even for RoPE");

        // Sizes refused before anything is allocated: one tensor too large, a model beyond the heap, a step's tokens
        // beyond one array.
        CliRunner.Result tensor = CliRunner.run("train", "--d-model", "100000000", "--out", out.toString());
        assertThat(tensor.errLines()).singleElement().asString().isEqualTo("error: model: a weight of d-model x "
                + "d-model = 10000000000000000 values is more than one tensor holds (at most 2147483639)");
        assertThat(tensor.exitCode()).isEqualTo(2);
        CliRunner.Result layers = CliRunner.run("train", "--layers", "100000000", "--out", out.toString());
        assertThat(layers.exitCode()).isEqualTo(2);
        assertThat(layers.errLines()).singleElement().asString().startsWith("error: model: a model of ")
                .contains("parameters needs about").contains("MOELAB_JAVA_OPTS=-Xmx");
        CliRunner.Result batch = CliRunner.run("train", "--batch", "2000000000", "--out", out.toString());
        assertThat(batch.exitCode()).isEqualTo(2);
        assertThat(batch.errLines()).singleElement().asString()
                .startsWith("error: train: batch x (seq + 1) = 2000000000 x ")
                .contains("tokens a step is more than one array holds");
        // A window of 2^31 tokens: seq + 1 wrapped to a negative int, which passed, and the first batch failed with
        // "train: bound must be positive".
        CliRunner.Result seq = CliRunner.run("train", "--seq", "2147483647", "--out", out.toString());
        assertThat(seq.exitCode()).isEqualTo(2);
        assertThat(seq.errLines()).singleElement().asString()
                .isEqualTo("error: train: batch x (seq + 1) = 16 x 2147483648 = 34359738368 tokens a step is more "
                        + "than one array holds (at most 2147483639)");

        // Not finite: an infinite --lr passed "positive", trained on NaN and failed saving its configuration as JSON
        // (a Jackson message); an infinite --rope-theta trained without positions; a NaN --clip or --aux-weight ran
        // (the latter blamed --lr). Each is now named with its value.
        String[][] notFinite = {
            {"--lr", "Infinity", "error: --lr: must be a finite number > 0, got Infinity"},
            {"--weight-decay", "Infinity", "error: --weight-decay: must be a finite number >= 0, got Infinity"},
            {"--clip", "NaN", "error: --clip: must be a finite number >= 0, got NaN"},
            {"--aux-weight", "NaN", "error: --aux-weight: must be a finite number >= 0, got NaN"},
            {"--capacity-factor", "NaN", "error: --capacity-factor: must be a finite number >= 0, got NaN"},
            {"--beta2", "1", "error: --beta2: must lie in [0, 1), got 1"},
            {"--lr", "-0.5", "error: --lr: must be a finite number > 0, got -0.5"},
            {"--min-lr-ratio", "2", "error: --min-lr-ratio: must lie in [0, 1], got 2"},
            {"--eval-every", "0", "error: --eval-every: must be at least 1, got 0"},
            {"--rope-theta", "Infinity", "error: --rope-theta: must be a finite number > 0, got Infinity"},
            // The value as written: whole numbers without ".0", integer settings as integers, Java's form only
            // where a plain one would spell out many digits.
            {"--layers", "0", "error: --layers: must be positive, got 0"},
            {"--seq", "1", "error: --seq: must be at least 2, got 1"},
            {"--warmup", "-2", "error: --warmup: must be at least 0, got -2"},
            {"--weight-decay", "-1", "error: --weight-decay: must be a finite number >= 0, got -1"},
            {"--z-weight", "-0.25", "error: --z-weight: must be a finite number >= 0, got -0.25"},
            {"--beta1", "1.5", "error: --beta1: must lie in [0, 1), got 1.5"},
            {"--min-lr-ratio", "1e20", "error: --min-lr-ratio: must lie in [0, 1], got 1.0E20"},
            // Finite as a double but infinite as the float training multiplies by: the loss overflowed at step 1 and
            // the error blamed --lr, which the user had not given.
            {"--aux-weight", "1e308", "error: --aux-weight: must be at most 3.4028235E38 (it is used as a float), "
                + "got 1.0E308"},
            {"--z-weight", "1e39", "error: --z-weight: must be at most 3.4028235E38 (it is used as a float), "
                + "got 1.0E39"},
            {"--weight-decay", "1e308", "error: --weight-decay: must be at most 3.4028235E38 (it is used as a "
                + "float), got 1.0E308"},
            {"--lr", "1e308", "error: --lr: must be at most 3.4028235E38 (it is used as a float), got 1.0E308"}};
        for (String[] c : notFinite) {
            CliRunner.Result r = CliRunner.run("train", c[0], c[1], "--out", out.toString());
            assertThat(r.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(r.errLines()).as(c[0]).containsExactly(c[2]);
        }
        // The model's checks name the option too (they said "model: top-k 99 exceeds ...").
        CliRunner.Result topK = CliRunner.run("train", "--top-k", "99", "--out", out.toString());
        assertThat(topK.exitCode()).isEqualTo(2);
        assertThat(topK.errLines()).singleElement().asString().startsWith("error: --top-k: 99 exceeds the ")
                .endsWith(" experts");
        // One expert in the singular: it read "the 1 experts".
        CliRunner.Result oneExpert = CliRunner.run("train", "--experts", "1", "--top-k", "2", "--out", out.toString());
        assertThat(oneExpert.exitCode()).isEqualTo(2);
        assertThat(oneExpert.errLines()).containsExactly("error: --top-k: 2 exceeds the 1 expert");

        // PyTorch starts every thread asked for: 100000 exhausted the machine's processes.
        int most = 8 * Runtime.getRuntime().availableProcessors();
        for (String threads : new String[] {"0", Integer.toString(most + 1)}) {
            CliRunner.Result r = CliRunner.run("train", "--threads", threads, "--out", out.toString());
            assertThat(r.exitCode()).as(threads).isEqualTo(2);
            assertThat(r.errLines()).containsExactly("error: --threads: must be from 1 to " + most + " (8 per "
                    + "processor), got " + threads);
        }
        // The bound itself is allowed: the error is the next option's. The property DJL reads is put back, as the
        // engine may not have loaded yet.
        String numThreads = System.getProperty("ai.djl.pytorch.num_threads");
        try {
            CliRunner.Result atMost = CliRunner.run("train", "--threads", Integer.toString(most), "--batch-sampler",
                    "3", "--out", out.toString());
            assertThat(atMost.errLines()).containsExactly("error: --batch-sampler: must be 1 or 2, got 3");
        } finally {
            if (numThreads == null) {
                System.clearProperty("ai.djl.pytorch.num_threads");
            } else {
                System.setProperty("ai.djl.pytorch.num_threads", numThreads);
            }
        }

        CliRunner.Result resume = CliRunner.run("train", "--resume", "--out", out.toString());
        assertThat(resume.exitCode()).isEqualTo(2);
        assertThat(resume.errLines()).singleElement().asString().contains("no checkpoint");
        CliRunner.Result withPreset = CliRunner.run("train", "--resume", "--preset", "small", "--out", out.toString());
        assertThat(withPreset.errLines()).singleElement().asString().contains("no checkpoint");

        // Without a checkpoint there is no saved value to compare --lr with: the missing checkpoint is the error.
        CliRunner.Result change = CliRunner.run("train", "--resume", "--lr", "0.1", "--out", out.toString());
        assertThat(change.exitCode()).isEqualTo(2);
        assertThat(change.errLines()).containsExactly("error: train: " + out + " holds no checkpoint to resume from");
        assertThat(out.resolve("metrics.jsonl")).doesNotExist();
    }

    /** The elements of every tensor in a safetensors file, from its header (8-byte little-endian length, JSON). */
    private static long exportedParameters(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        long length = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        var header = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(new String(bytes, 8, Math.toIntExact(length), java.nio.charset.StandardCharsets.UTF_8));
        long total = 0;
        for (String name : header.propertyNames()) {
            if (!name.equals("__metadata__")) {
                long elements = 1;
                for (var d : header.get(name).get("shape")) {
                    elements *= d.asLong();
                }
                total += elements;
            }
        }
        return total;
    }
}
