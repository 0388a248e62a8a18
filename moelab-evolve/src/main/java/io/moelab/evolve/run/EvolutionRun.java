package io.moelab.evolve.run;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.evolve.database.Program;
import io.moelab.evolve.database.ProgramDatabase;
import io.moelab.evolve.database.Sample;
import io.moelab.evolve.database.SeededRandom;
import io.moelab.evolve.edit.BlockOutcome;
import io.moelab.evolve.edit.CodeExtractor;
import io.moelab.evolve.edit.EditApplier;
import io.moelab.evolve.edit.EditException;
import io.moelab.evolve.edit.EditResult;
import io.moelab.evolve.edit.EvolveBlocks;
import io.moelab.evolve.eval.CascadeEvaluator;
import io.moelab.evolve.eval.Evaluation;
import io.moelab.evolve.eval.EvaluatorSettings;
import io.moelab.evolve.llm.ChatMessage;
import io.moelab.evolve.llm.Completion;
import io.moelab.evolve.llm.CostLedger;
import io.moelab.evolve.llm.LlmClient;
import io.moelab.evolve.llm.LlmException;
import io.moelab.evolve.process.Directories;
import io.moelab.evolve.prompt.Prompt;
import io.moelab.evolve.prompt.PromptBuilder;
import io.moelab.evolve.prompt.TextTail;
import io.moelab.evolve.task.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import tools.jackson.databind.node.ObjectNode;

/**
 * The generate–evaluate–refine loop. Each iteration i works on island {@code i mod islands}: it samples a
 * parent and context from that island, asks the model for an edit, applies it, evaluates the child in a child
 * process and adds it to the parent's island. Up to {@code parallel_evaluations} iterations run at once.
 *
 * <p>Crash safety: an iteration's program file and then its trace line (synced) are written when it
 * completes, in the order its program enters the database; checkpoints hold the database every
 * {@code checkpoint_interval} completed iterations. {@link #run(boolean) Resuming} restores the newest
 * checkpoint, replays the trace lines written after it and runs the iterations that never completed, so a
 * crash loses only the iterations in flight. Iteration i draws its random choices from a stream seeded by
 * (seed, i), so no random state needs saving.
 */
public final class EvolutionRun {
    private static final int CUT = 4000;

    private final Task task;
    private final EvolveSettings settings;
    private final LlmClient llm;
    private final CostLedger ledger;
    /**
     * The costs of the iterations in the trace: what a checkpoint saves. The live ledger also holds the calls of
     * iterations still in flight, whose trace lines, replayed on resume after the checkpoint, counted them twice.
     */
    private final CostLedger journaled = new CostLedger();
    private final RunDirectory dir;
    private final RunListener listener;
    private final PromptBuilder prompts;
    private final CascadeEvaluator evaluator;
    private final String fitnessMetric;
    private final Object journal = new Object();

    private ProgramDatabase db;
    private long completed;
    private long traceLines;
    private double bestFitness = Double.NEGATIVE_INFINITY;
    private long lastImprovement;
    /**
     * The best fitness when the patience was last reset. Improvements are measured from it, not from the best so
     * far: else a best rising by less than the threshold each time, however much in all, stopped the run early.
     */
    private double improvedTo = Double.NEGATIVE_INFINITY;
    private double initialFitness = Double.NaN;
    private final Map<String, Integer> errors = new TreeMap<>();
    private volatile String stopReason;
    private volatile IOException fatal;

    /**
     * A run writing under {@code out}.
     *
     * @param llm      the model client (its costs go to {@code ledger})
     * @param ledger   the cost ledger the client records into; restored on resume
     * @param listener told how the run goes; {@link RunListener#NONE} for nothing, not null
     */
    public EvolutionRun(Task task, EvolveSettings settings, LlmClient llm, CostLedger ledger, Path out,
                        RunListener listener) {
        this.task = task;
        this.settings = settings;
        this.llm = llm;
        this.ledger = ledger;
        this.dir = new RunDirectory(out, task.programFileName());
        this.listener = listener;
        this.prompts = new PromptBuilder(settings.prompt());
        this.fitnessMetric = settings.database().fitnessMetric();
        this.evaluator = new CascadeEvaluator(task, settings.evaluator(), fitnessMetric);
    }

    /**
     * The seed the newest checkpoint of the run in {@code out} records, if it has a checkpoint: what a resume
     * must use.
     *
     * @throws InvalidInputException if the checkpoint cannot be read
     * @throws IOException           if the checkpoints cannot be listed
     */
    public static OptionalLong checkpointSeed(Path out) throws IOException {
        // The run itself warns about (and removes) an unreadable newer checkpoint when it resumes.
        return new RunDirectory(out, "").newestCheckpoint(w -> { }, false)
                .map(c -> OptionalLong.of(c.state().seed())).orElse(OptionalLong.empty());
    }

    /**
     * Runs to {@code max_iterations} completed iterations (or an early stop).
     *
     * @param resume continue the run in {@code out}; without it, {@code out} must not hold a run
     * @throws InvalidInputException if {@code out} does not suit (a run there without resume, a different
     *                               task or seed, a corrupt trace) or the initial program fails evaluation
     * @throws IOException           if the run's files cannot be written
     * @throws InterruptedException  if the calling thread is interrupted while it waits for the initial
     *                               program's evaluation or for the iterations
     */
    public RunSummary run(boolean resume) throws IOException, InterruptedException {
        int thresholds = settings.evaluator().cascadeThresholds().size();
        int stages = task.stageCommands().size();
        if (thresholds > stages - 1) {
            // OpenEvolve's own default configuration has three thresholds and runs a one-stage evaluator with
            // them, the extra ones unused; refused, its files did not load here. A task's own thresholds beside its
            // own stages are still refused (task.yaml): there the two are written together.
            listener.message("warning: evaluator.cascade_thresholds: " + Nouns.count(thresholds, "threshold")
                    + ", but the task has " + Nouns.count(stages, "stage") + "; "
                    + (stages > 1 ? "the last " + (thresholds - stages + 1) : "they") + " gate nothing (a threshold "
                    + "gates the stage after the one it follows), as in OpenEvolve");
        }
        boolean created = !Files.exists(dir.root());
        Files.createDirectories(dir.root());
        for (Path sub : List.of(dir.checkpoints(), dir.root().resolve("programs"), dir.root().resolve("best"),
                dir.root().resolve("prompts"), dir.root().resolve("work"))) {
            // Checked before any work: a file named so failed at the first checkpoint, with the trace written on (or
            // at the first prompt; and a file named work was deleted as an empty working folder).
            if (Files.exists(sub) && !Files.isDirectory(sub)) {
                throw new InvalidInputException(sub.toString(), "is a file where the run keeps a directory");
            }
        }
        // A crash while writing a checkpoint leaves its temporary directory, which no later run would remove.
        dir.removeStaleTemporaries();
        List<TraceRecord> trace = dir.readTrace();
        if (!resume && !trace.isEmpty()) {
            throw new InvalidInputException(dir.root().toString(), "already holds a run (trace.jsonl); pass --resume"
                    + " to continue it or choose another --out");
        }
        List<Path> earlier = resume ? List.of() : dir.listCheckpoints();
        if (!earlier.isEmpty()) {
            // An earlier run's, its trace removed: the new run's checkpoints joined them (one of the same count was
            // not written, the old one kept), and a resume loaded the old run's newest.
            throw new InvalidInputException(dir.root().toString(), "holds an earlier run's checkpoints ("
                    + earlier.getLast().getFileName() + ", but no trace.jsonl); choose another --out, or remove "
                    + dir.checkpoints() + " to start a run there");
        }
        Optional<CheckpointData> checkpoint = resume ? dir.newestCheckpoint(listener::message, true)
                : Optional.empty();
        if (resume && trace.isEmpty() && checkpoint.isEmpty()) {
            // As train refuses it: a mistyped --out would otherwise start a fresh run where a resume was meant. The
            // folder made above goes again.
            dir.removeEmpty(created);
            throw new InvalidInputException(dir.root().toString(), "holds no run to resume (no trace.jsonl, no "
                    + "checkpoint); leave out --resume to start one");
        }
        restore(trace, checkpoint);
        if (completed > settings.maxIterations()) {
            throw new InvalidInputException("max_iterations", settings.maxIterations() + " is below the "
                    + completed + " iterations the run has completed");
        }
        if (db == null) {
            try {
                evaluateInitial();
            } catch (IOException | InterruptedException | RuntimeException e) {
                // The initial program or a setting it disproves (a metric it does not report): nothing of the run
                // was written, so no folder is left behind either.
                dir.removeEmpty(created);
                throw e;
            }
        }
        if (resume && db.best().isPresent()) {
            // A crash after a trace line and before best/ was replaced left best/ behind the trace, and replaying
            // the line does not write it.
            writeBest(db.best().orElseThrow());
        }
        TreeSet<Long> done = new TreeSet<>();
        trace.forEach(r -> done.add(r.iteration()));
        // The lowest iteration numbers without a trace line, as many as the total still lacks: a parallel run's crash
        // can leave a gap (1-3 and 5 done, 4 lost), and running every number up to the total then completed one more
        // iteration than asked ("completed 5 of 4 iterations").
        List<Long> pending = new ArrayList<>();
        for (long i = 1; pending.size() < settings.maxIterations() - completed; i++) {
            if (!done.contains(i)) {
                pending.add(i);
            }
        }
        listener.started(settings.maxIterations(), completed, bestFitness);
        checkEarlyStop();
        int parallel = settings.evaluator().parallel();
        try (ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "evolve-worker");
            t.setDaemon(true);
            return t;
        })) {
            List<Future<?>> futures = new ArrayList<>();
            for (long i : pending) {
                futures.add(pool.submit(() -> {
                    if (stopReason == null && fatal == null) {
                        iterate(i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    stopReason = "internal_error";
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        }
        if (fatal != null) {
            throw fatal;
        }
        synchronized (journal) {
            checkpoint();
        }
        dir.removeEmpty(false);
        return summary();
    }

    private void evaluateInitial() throws IOException, InterruptedException {
        db = new ProgramDatabase(settings.database());
        String code = task.initialProgram();
        if (code.length() > settings.maxCodeLength()) {
            // Children start from it: nearly every one would fail as too_long, each after a paid model call.
            throw new InvalidInputException("max_code_length", settings.maxCodeLength() + " characters, but the "
                    + "initial program has " + code.length() + ": its children would fail as too_long unless they "
                    + "cut it");
        }
        long start = System.nanoTime();
        Evaluation ev = evaluator.evaluate(code, dir.work(0));
        Directories.deleteTree(dir.work(0));
        if (!ev.ok()) {
            throw new InvalidInputException("initial program", "failed evaluation: " + ev.error() + ": "
                    + firstLines(ev.errorMessage(), 12));
        }
        String metric = settings.database().fitnessMetric();
        if (!metric.equals(task.fitnessMetric())) {
            // A fitness metric no program reports falls back to the mean of all metrics (for tasks without one):
            // a misspelt name would silently optimize that mean instead.
            requireMetric("database.fitness_metric", metric, ev, "");
        } else if (!metric.equals("combined_score") && task.directory() != null) {
            // Likewise a task.yaml's own: only the default, combined_score, means "the mean when not reported".
            requireMetric(task.directory().resolve("task.yaml") + ": fitness_metric", metric, ev, "");
        }
        // A cascade that stopped the initial program because its metric was missing stops every candidate there:
        // the later stages would never run (a misspelt cascade_metric, or a first stage without the fitness metric).
        String cascadeMetric = settings.evaluator().cascadeMetric() != null ? settings.evaluator().cascadeMetric()
                : metric;
        if (ev.stages() < task.stageCommands().size() && !ev.metrics().containsKey(cascadeMetric)) {
            throw new InvalidInputException("evaluator.cascade_metric", "'" + cascadeMetric + "'"
                    + (settings.evaluator().cascadeMetric() == null ? " (the fitness metric)" : "")
                    + " is not reported by stage " + ev.stages() + " of the initial program, which reports "
                    + reported(ev) + ": the cascade would stop every candidate after that stage");
        }
        // Likewise a Pareto objective no program reports is every program's worst value (the objective silently
        // drops out), and a grid dimension every program's bin 0 (the axis collapses). Only when every stage ran:
        // a cascade that stopped the initial program early leaves the later stages' metrics unknown.
        if (ev.stages() == task.stageCommands().size()) {
            for (String objective : settings.database().paretoMetrics()) {
                requireMetric("database.pareto_metrics", objective.startsWith("-") ? objective.substring(1)
                        : objective, ev, "");
            }
            for (String dimension : settings.database().featureDimensions()) {
                if (!dimension.equals("complexity") && !dimension.equals("diversity") && !dimension.equals("score")) {
                    requireMetric("database.feature_dimensions", dimension, ev, " (or use complexity, diversity, "
                            + "score)");
                }
            }
        }
        // The built-in axes are computed, not read: a metric the task gives one of their names would silently go
        // unread (OpenEvolve reads the metric instead). Unambiguous for score when that metric is the fitness.
        if (settings.database().featureDimensions().contains("score") && ev.metrics().containsKey("score")
                && !metric.equals("score")) {
            throw new InvalidInputException("database.feature_dimensions", "'score' is the built-in dimension that "
                    + "bins the fitness (" + metric + "), but the initial program also reports a metric named score, "
                    + "which it would not read: rename that metric, or make it the fitness (database.fitness_metric: "
                    + "score)");
        }
        for (String builtIn : List.of("complexity", "diversity")) {
            if (settings.database().featureDimensions().contains(builtIn) && ev.metrics().containsKey(builtIn)) {
                throw new InvalidInputException("database.feature_dimensions", "'" + builtIn + "' is the built-in "
                        + "dimension that bins " + (builtIn.equals("complexity") ? "the code's length"
                        : "the code's distance to the island's elites") + ", but the initial program also reports a "
                        + "metric named " + builtIn + ", which it would not read: rename that metric");
            }
        }
        Program initial = new Program("0", code, null, 0, 0, 0, ev.metrics(), null, cut(ev.feedback()), null);
        double f = db.fitness(initial);
        TraceRecord r = new TraceRecord(0, 0, null, "0", 0, "unchanged", ev.metrics(), f, Double.NaN, null, "",
                cut(ev.feedback()), "", "", 0, 0, null, 0, 0, 0, ledger.totalUsd(), (System.nanoTime() - start) / 1e9);
        synchronized (journal) {
            commit(r, initial, null);
        }
    }

    /** Refuses {@code setting}'s {@code name} unless the initial program reports it; {@code besides}: other choices. */
    private static void requireMetric(String setting, String name, Evaluation initial, String besides) {
        if (!initial.metrics().containsKey(name)) {
            throw new InvalidInputException(setting, "'" + name + "' is not a metric of the initial program, which "
                    + "reports " + reported(initial) + besides);
        }
    }

    /** The initial program's metric names, sorted, for messages. */
    private static String reported(Evaluation initial) {
        return String.join(", ", new TreeSet<>(initial.metrics().keySet()));
    }

    /** Rebuilds the state from the newest checkpoint and the trace lines after it. */
    private void restore(List<TraceRecord> trace, Optional<CheckpointData> checkpoint) {
        int from = 0;
        if (checkpoint.isPresent()) {
            CheckpointData.RunState s = checkpoint.get().state();
            if (s.seed() != settings.randomSeed()) {
                throw new InvalidInputException("--seed", "the run in " + dir.root() + " used seed " + s.seed()
                        + ", not " + settings.randomSeed());
            }
            if (!s.task().equals(task.name())) {
                throw new InvalidInputException("--task", "the run in " + dir.root() + " is of task " + s.task()
                        + ", not " + task.name());
            }
            if (s.traceLines() > trace.size()) {
                throw new InvalidInputException(dir.trace().toString(), "has " + trace.size()
                        + " lines but the checkpoint covers " + s.traceLines());
            }
            db = ProgramDatabase.restore(settings.database(), checkpoint.get().database());
            // What programs are ranked by and where they sit in the grids: another value mixed programs ranked
            // two ways in one archive, or cells of two meanings in one grid (checkpoints before these were kept
            // hold null and are not checked).
            requireSame("database.fitness_metric", fitnessMetric, s.fitnessMetric());
            requireSame("database.pareto_metrics", settings.database().paretoMetrics(), s.paretoMetrics());
            requireSame("database.feature_dimensions", settings.database().featureDimensions(),
                    s.featureDimensions());
            // The saved cells are bin numbers: with another count they would mean other ranges.
            requireSame("database.feature_bins", settings.database().featureBins(), s.featureBins());
            ledger.restore(s.costs());
            journaled.restore(s.costs());
            completed = s.completed();
            traceLines = s.traceLines();
            bestFitness = s.bestFitness() == null ? Double.NEGATIVE_INFINITY : s.bestFitness();
            lastImprovement = s.lastImprovement();
            improvedTo = s.improvedTo() != null ? s.improvedTo() : bestFitness;
            from = (int) s.traceLines();
            for (TraceRecord r : trace.subList(0, from)) {
                countError(r);
                if (r.iteration() == 0) {
                    initialFitness = r.fitness();
                }
            }
        }
        int islands = settings.database().numIslands();
        for (TraceRecord r : trace.subList(from, trace.size())) {
            if (r.island() < 0 || r.island() >= islands) {
                // A resume before the first checkpoint with another island count (or an edited trace): as the
                // checkpoint's check says, name the setting (it failed as an internal error).
                throw new InvalidInputException("database.num_islands", islands + " islands, but iteration "
                        + r.iteration() + " of the run's trace ran on island " + r.island() + " (resume with the "
                        + "run's --config)");
            }
            Program p = r.programId() == null ? null : new Program(r.programId(), dir.readProgram(r.programId()),
                    r.parentId(), r.island(), r.generation(), r.iteration(), r.metrics(), r.error(), r.feedback(),
                    null);
            if (r.model() != null) {
                ledger.record(r.model(), r.promptTokens(), r.completionTokens(), r.costUsd());
            }
            if (r.iteration() == 0 && db == null) {
                db = new ProgramDatabase(settings.database());
            } else if (db == null) {
                throw new InvalidInputException(dir.trace().toString(), "does not start with the initial program");
            }
            apply(r, p);
        }
    }

    /** Refuses a resume whose {@code setting} is not the checkpoint's {@code saved} value (unless none was saved). */
    private static void requireSame(String setting, Object now, Object saved) {
        if (saved != null && !saved.equals(now)) {
            throw new InvalidInputException(setting, now + ", but the run's checkpoint has " + saved
                    + " (resume with the run's --config)");
        }
    }

    private void iterate(long i) {
        long start = System.nanoTime();
        int island = (int) (i % settings.database().numIslands());
        Sample sample = db.sample(island, SeededRandom.forIteration(settings.randomSeed(), i));
        Program parent = sample.parent();
        double parentFitness = db.fitness(parent);
        Builder b = new Builder(i, island, parent, parentFitness);
        try {
            Prompt prompt = prompts.build(sample, task.language(), fitnessMetric, task.systemMessage(),
                    settings.diffBased(), db::fitness);
            dir.writePrompt(i, prompt.system(), prompt.user());
            Completion c;
            try {
                c = llm.complete(List.of(ChatMessage.system(prompt.system()), ChatMessage.user(prompt.user())),
                        (int) i);
            } catch (LlmException e) {
                if (e.kind() == LlmException.Kind.BUDGET_EXHAUSTED) {
                    // Refused before it was sent: prompts/ holds the prompts sent (a resume writes it again).
                    dir.removePrompt(i);
                    stop("budget", "stopping: " + e.getMessage());
                    return;
                }
                b.fail("llm_error", e.kind().name().toLowerCase(java.util.Locale.ROOT) + ": " + e.getMessage());
                finish(b, null, start);
                return;
            }
            b.completion = c;
            b.changes = changes(c.content(), settings.diffBased());
            int broken = unpairedSurrogate(c.content());
            if (broken >= 0) {
                // Not text: no file could hold the child (it failed as evaluator_error, "Input length = 1").
                b.fail("llm_error", "malformed_response: the answer holds an unpaired UTF-16 surrogate at character "
                        + broken + ", which is not valid Unicode");
                finish(b, null, start);
                return;
            }
            String code = edit(b, parent, c.content());
            if (code == null) {
                finish(b, null, start);
                return;
            }
            if (code.length() > settings.maxCodeLength()) {
                b.fail("too_long", code.length() + " characters, more than max_code_length "
                        + settings.maxCodeLength());
                finish(b, null, start);
                return;
            }
            Evaluation ev = evaluator.evaluate(code, dir.work(i));
            Directories.deleteTree(dir.work(i));
            Program child = new Program(String.valueOf(i), code, parent.id(), island, parent.generation() + 1, i,
                    ev.metrics(), ev.error(), cut(ev.feedback()), null);
            b.metrics = ev.metrics();
            b.feedback = child.feedback();
            // About the edit that made the child, so the attempt's: as the child's feedback, the prompts that edit
            // the child showed it as what the evaluator said of it.
            b.editNote = cut(b.editNote());
            if (ev.ok()) {
                b.fitness = db.fitness(child);
                b.outcome = b.fitness > parentFitness ? "improved" : b.fitness < parentFitness ? "regressed"
                        : "unchanged";
            } else {
                b.fail(ev.error(), ev.errorMessage());
            }
            finish(b, child, start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop("interrupted", "interrupted");
        } catch (IOException e) {
            fatal = e;
        } catch (RuntimeException e) {
            if (b.traced) {
                // After its trace line: a second line for the iteration made a trace no resume accepts. The run
                // ends here (no other iteration starts), its trace whole, and a resume goes on from it.
                stopReason = "internal_error";
                throw e;
            }
            // A bug or an unexpected shape of input must not end a long run: the iteration fails visibly.
            b.fail("internal_error", e.toString());
            finish(b, null, start);
        }
    }

    /** Applies the model's answer to the parent; null (with the reason in {@code b}) when nothing changed. */
    private String edit(Builder b, Program parent, String answer) {
        if (settings.diffBased()) {
            EditResult r;
            try {
                r = EditApplier.applyAnswer(parent.code(), answer, true);
            } catch (EditException e) {
                // The parent's own markers are malformed (an initial program so written): no edit can be placed.
                b.fail("no_edit", e.getMessage());
                return null;
            }
            b.applied = (int) r.outcomes().stream().filter(o -> o.status() == BlockOutcome.Status.APPLIED).count();
            b.failed = r.failures().size() + r.parseProblems().size();
            b.editFeedback = r.feedback();
            if (!r.changed()) {
                b.fail("no_edit", r.outcomes().isEmpty() && r.parseProblems().isEmpty()
                        ? "the answer held no SEARCH/REPLACE block" : r.feedback());
                return null;
            }
            return r.code();
        }
        Optional<String> rewrite = CodeExtractor.program(answer, task.language());
        if (rewrite.isEmpty()) {
            b.fail("no_edit", "the answer held no ```" + task.language() + " code block");
            return null;
        }
        try {
            String code = EvolveBlocks.splice(parent.code(), rewrite.get());
            if (code.equals(parent.code())) {
                b.fail("no_edit", "the rewrite is identical to the current program");
                return null;
            }
            b.applied = 1;
            return code;
        } catch (EditException e) {
            b.fail("no_edit", e.getMessage());
            return null;
        }
    }

    private void finish(Builder b, Program child, long start) {
        synchronized (journal) {
            if (fatal != null) {
                // A journal write failed (maybe half-way through a trace line): the run ends, and a whole line
                // after a torn one would leave a trace no resume reads. The iteration is run again on resume.
                return;
            }
            TraceRecord r = new TraceRecord(b.iteration, b.island, b.parent.id(), child == null ? null : child.id(),
                    b.parent.generation() + 1, b.outcome, b.metrics, b.fitness, b.parentFitness, b.error,
                    cut(b.errorMessage), b.feedback, b.editNote, b.changes, b.applied, b.failed,
                    b.completion == null ? null : b.completion.model(),
                    b.completion == null ? 0 : b.completion.promptTokens(),
                    b.completion == null ? 0 : b.completion.completionTokens(),
                    b.completion == null ? 0 : b.completion.costUsd(), ledger.totalUsd(),
                    (System.nanoTime() - start) / 1e9);
            try {
                commit(r, child, b);
            } catch (IOException e) {
                fatal = e;
            }
        }
    }

    /**
     * Writes the program and the trace line, then applies them; the caller holds the journal lock. {@code b} (null
     * for the initial program) learns when the line is written.
     */
    private void commit(TraceRecord r, Program child, Builder b) throws IOException {
        if (child != null) {
            dir.writeProgram(child.id(), child.code());
        }
        dir.appendTrace(RunDirectory.JSON.writeValueAsString(r.toJson(RunDirectory.JSON.createObjectNode())));
        if (b != null) {
            b.traced = true;
        }
        String bestBefore = db.best().map(Program::id).orElse(null);
        apply(r, child);
        String bestNow = db.best().map(Program::id).orElse(null);
        if (bestNow != null && !bestNow.equals(bestBefore)) {
            writeBest(db.best().orElseThrow());
        }
        if (r.iteration() > 0) {
            listener.iteration(new IterationReport(r, completed, settings.maxIterations(), bestFitness,
                    bestNow, ledger.totalUsd()));
            if (completed % settings.checkpointInterval() == 0) {
                checkpoint();
            }
            checkEarlyStop();
        }
    }

    /** Applies one completed iteration to the in-memory state (also when replaying the trace). */
    private void apply(TraceRecord r, Program child) {
        traceLines++;
        if (r.iteration() == 0) {
            db.seed(child);
            initialFitness = r.fitness();
            bestFitness = db.fitness(child);
            improvedTo = bestFitness;
            return;
        }
        completed++;
        countError(r);
        if (r.model() != null) {
            journaled.record(r.model(), r.promptTokens(), r.completionTokens(), r.costUsd());
        }
        if (child != null) {
            db.add(child);
        } else if (r.model() != null) {
            // The model answered, but nothing usable (no edit, too long, not text): an iteration of the island
            // all the same, which the migration interval counts (replayed from the trace alike).
            db.recordNoChild(r.island());
        }
        db.recordAttempt(r.island(), r.attempt());
        double best = db.best().map(db::fitness).orElse(Double.NEGATIVE_INFINITY);
        if (best > improvedTo + settings.convergenceThreshold()) {
            lastImprovement = completed;
            improvedTo = best;
        }
        bestFitness = Math.max(bestFitness, best);
    }

    private void countError(TraceRecord r) {
        if (r.error() != null) {
            errors.merge(r.error(), 1, Integer::sum);
        }
    }

    private void checkEarlyStop() {
        int patience = settings.earlyStoppingPatience();
        // Not once the total is reached: nothing is left to stop, and the summary said "stopped: early_stopping".
        if (patience > 0 && completed - lastImprovement >= patience && completed < settings.maxIterations()
                && stopReason == null) {
            stop("early_stopping", "stopping early: no improvement above " + settings.convergenceThreshold()
                    + " in " + patience + " iterations");
        }
    }

    private void stop(String reason, String message) {
        if (stopReason == null) {
            stopReason = reason;
            listener.message(message);
        }
    }

    private void checkpoint() throws IOException {
        CheckpointData.RunState state = new CheckpointData.RunState(completed, traceLines, settings.randomSeed(),
                task.name(), journaled.snapshot(), Double.isFinite(bestFitness) ? bestFitness : null, lastImprovement,
                Double.isFinite(improvedTo) ? improvedTo : null, fitnessMetric, settings.database().paretoMetrics(),
                settings.database().featureDimensions(), settings.database().featureBins());
        dir.writeCheckpoint(completed, new CheckpointData(db.snapshot(), state), settings.keepCheckpoints());
    }

    /**
     * Replaces best/'s program and info together: both are written and synced before either is renamed into
     * place, so a failure writing one leaves both as they were (two separate writes could leave a new program
     * beside the info of the old one).
     */
    private void writeBest(Program best) throws IOException {
        Files.createDirectories(dir.best());
        ObjectNode info = RunDirectory.JSON.createObjectNode();
        info.put("id", best.id());
        info.put("iteration", best.iteration());
        info.put("island", best.island());
        info.put("generation", best.generation());
        info.put("parent_id", best.parentId());
        info.put("fitness_metric", fitnessMetric);
        info.put("fitness", db.fitness(best));
        ObjectNode m = info.putObject("metrics");
        best.metrics().forEach(m::put);
        String infoText = RunDirectory.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(info) + "\n";
        AtomicFiles.together(() -> {
            AtomicFiles.writeString(dir.best().resolve(task.programFileName()), best.code());
            AtomicFiles.writeString(dir.best().resolve("best_program_info.json"), infoText);
        });
    }

    private RunSummary summary() {
        synchronized (journal) {
            Program best = db.best().orElse(null);
            return new RunSummary(completed, settings.maxIterations(), best == null ? null : best.id(),
                    best == null ? Double.NaN : db.fitness(best), best == null ? Map.of() : best.metrics(),
                    initialFitness, ledger.totalUsd(), ledger.totalTokens(), stopReason,
                    // A sorted copy: Map.copyOf's order changes from JVM to JVM, and so did the printed line.
                    Collections.unmodifiableMap(new TreeMap<>(errors)));
        }
    }

    /** The run directory's root. */
    public Path out() {
        return dir.root();
    }

    /** The last {@value #CUT} characters of {@code s}, stripped, never starting with half a surrogate pair. */
    static String cut(String s) {
        if (s == null) {
            return "";
        }
        return TextTail.of(s.strip(), CUT);
    }

    private static String firstLines(String s, int n) {
        return String.join(" | ", s.lines().limit(n).toList());
    }

    /** The fields of one iteration's trace line as they become known. */
    private static final class Builder {
        final long iteration;
        final int island;
        final Program parent;
        final double parentFitness;
        String outcome = "failed";
        Map<String, Double> metrics = Map.of();
        double fitness = Double.NaN;
        String error;
        String errorMessage = "";
        String feedback = "";
        String editFeedback = "";
        /** The edit's note for the trace, set once a child was made. */
        String editNote = "";
        /** What the answer said it changes. */
        String changes = "";
        int applied;
        int failed;
        Completion completion;
        /** Whether the iteration's trace line is written: it completed, whatever fails after. */
        boolean traced;

        Builder(long iteration, int island, Program parent, double parentFitness) {
            this.iteration = iteration;
            this.island = island;
            this.parent = parent;
            this.parentFitness = parentFitness;
        }

        void fail(String kind, String message) {
            error = kind;
            errorMessage = message;
            outcome = switch (kind) {
                case "no_edit" -> "no_edit";
                case "llm_error" -> "llm_error";
                default -> "failed";
            };
        }

        /** Blocks that did not apply although others did: the model should hear about them too. */
        String editNote() {
            return editFeedback.isBlank() ? "" : "Some edits did not apply:\n" + editFeedback;
        }
    }

    /** The most characters of an answer's explanation kept for the prompts' previous attempts. */
    private static final int CHANGES_CHARS = 300;

    /**
     * What an answer says it changes: its words before the first SEARCH/REPLACE block (diff mode) or code block
     * (full rewrites), whitespace collapsed to one line and cut to {@value #CHANGES_CHARS} characters; empty when
     * it has no such block (no edit to describe) or no words before it.
     */
    static String changes(String answer, boolean diff) {
        java.util.regex.Matcher m = (diff ? FIRST_SEARCH : FIRST_FENCE).matcher(answer);
        if (!m.find()) {
            return "";
        }
        String words = answer.substring(0, m.start()).strip().replaceAll("\\s+", " ");
        if (words.length() <= CHANGES_CHARS) {
            return words;
        }
        int end = CHANGES_CHARS - 3;
        if (Character.isHighSurrogate(words.charAt(end - 1))) {
            end--;
        }
        return words.substring(0, end) + "...";
    }

    private static final java.util.regex.Pattern FIRST_SEARCH = java.util.regex.Pattern.compile(
            "^\\s*<{5,9}\\s*SEARCH\\s*$", java.util.regex.Pattern.MULTILINE
                    | java.util.regex.Pattern.CASE_INSENSITIVE);
    private static final java.util.regex.Pattern FIRST_FENCE = java.util.regex.Pattern.compile("^\\s*```",
            java.util.regex.Pattern.MULTILINE);

    /** The index of the first surrogate in {@code s} that is not half of a pair, or -1 if there is none. */
    static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(ch)) {
                return i;
            }
        }
        return -1;
    }
}
