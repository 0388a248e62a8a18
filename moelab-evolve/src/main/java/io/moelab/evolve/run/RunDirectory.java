package io.moelab.evolve.run;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.evolve.config.YamlErrors;
import io.moelab.evolve.process.Directories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The files of a run under {@code OUT}: {@code trace.jsonl} (the journal, one synced line per completed
 * iteration), {@code programs/<id>.<ext>} (every evaluated program, written before its trace line),
 * {@code checkpoints/checkpoint_N/} (N completed iterations; written in a temporary directory and renamed,
 * so a checkpoint is whole or absent), {@code best/}, {@code llm_responses.jsonl} and {@code work/} (the
 * candidates' working directories while they are evaluated).
 */
final class RunDirectory {
    /**
     * Reads and writes the run's files. They never repeat a key, so a repeat is refused: which value was meant cannot
     * be known (Jackson otherwise took the last without a word).
     */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final String CHECKPOINT = "checkpoint_";
    /** A checkpoint being written: {@code .tmp_<completed>_<pid>}, renamed to {@code checkpoint_<completed>}. */
    private static final String TEMPORARY = ".tmp_";
    private static final java.util.regex.Pattern TEMPORARY_NAME = java.util.regex.Pattern.compile(
            "\\.tmp_\\d+_(\\d+)");
    /**
     * The ids the loop makes: an iteration number, or {@code ID>ISLAND} for a migrated copy. Ids come back from the
     * trace and checkpoints, which a person may edit: any other form is refused, so that no path is ever formed from
     * one that leaves {@code programs/} ({@code ../../x}).
     */
    private static final java.util.regex.Pattern PROGRAM_ID = java.util.regex.Pattern.compile(
            "(0|[1-9]\\d{0,18})(>(0|[1-9]\\d{0,9}))?");
    private static final String ID_FORM = "(an iteration number, or ID>ISLAND for a migrated copy)";

    private final Path root;
    private final String extension;

    RunDirectory(Path root, String programFileName) {
        this.root = root;
        int dot = programFileName.lastIndexOf('.');
        this.extension = dot < 0 ? "" : programFileName.substring(dot);
    }

    Path root() {
        return root;
    }

    Path trace() {
        return root.resolve("trace.jsonl");
    }

    /** The file of an iteration's program; {@code id} is an iteration number (the caller has checked it). */
    Path program(String id) {
        if (!id.matches("0|[1-9]\\d{0,18}")) {
            throw new IllegalStateException("not an iteration's program id: '" + id + "'");
        }
        return root.resolve("programs").resolve(id + extension);
    }

    /** Whether {@code id} has the form of an id the loop makes. */
    static boolean isProgramId(String id) {
        return id != null && PROGRAM_ID.matcher(id).matches();
    }

    Path prompt(long iteration) {
        return root.resolve("prompts").resolve(iteration + ".md");
    }

    /** Keeps the prompt of an iteration for people reading the run (not needed to resume it). */
    void writePrompt(long iteration, String system, String user) throws IOException {
        Files.createDirectories(prompt(iteration).getParent());
        AtomicFiles.writeString(prompt(iteration), "# System\n\n" + system.strip() + "\n\n# User\n\n" + user.strip()
                + "\n");
    }

    /** Removes the prompt of an iteration whose call was never made. */
    void removePrompt(long iteration) throws IOException {
        Files.deleteIfExists(prompt(iteration));
    }

    Path work(long iteration) {
        return root.resolve("work").resolve(String.valueOf(iteration));
    }

    /**
     * Removes the evaluations' working folder once it is empty (each evaluation deletes its own), and, when
     * {@code alsoRoot}, the run's folder if nothing else is in it: a start that failed before its first file
     * leaves no empty {@code --out} behind.
     */
    void removeEmpty(boolean alsoRoot) throws IOException {
        for (Path p : alsoRoot ? List.of(root.resolve("work"), root) : List.of(root.resolve("work"))) {
            try {
                Files.deleteIfExists(p);
            } catch (DirectoryNotEmptyException e) {
                // Holds files of the run, or an evaluation still running: kept.
            }
        }
    }

    Path checkpoints() {
        return root.resolve("checkpoints");
    }

    Path best() {
        return root.resolve("best");
    }

    void writeProgram(String id, String code) throws IOException {
        Files.createDirectories(program(id).getParent());
        AtomicFiles.writeString(program(id), code);
    }

    String readProgram(String id) {
        try {
            return Files.readString(program(id), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidInputException(program(id).toString(), "cannot read a program the trace names: "
                    + e.getMessage());
        }
    }

    /** Appends one line and syncs it, so that a completed iteration survives a crash. */
    void appendTrace(String line) throws IOException {
        try (FileChannel ch = FileChannel.open(trace(), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(false);
        }
    }

    /**
     * The trace lines, dropping a torn last line (a crash while appending) from the file so that appends go on
     * from a clean end.
     *
     * @throws InvalidInputException if a line other than the last is not valid JSON
     */
    List<TraceRecord> readTrace() throws IOException {
        List<TraceRecord> records = new ArrayList<>();
        if (!Files.exists(trace())) {
            return records;
        }
        if (Files.isDirectory(trace())) {
            // Reading it failed with "Is a directory", naming no file.
            throw new InvalidInputException(trace().toString(), "is a directory, expected the run's trace (a file)");
        }
        byte[] bytes = Files.readAllBytes(trace());
        String text = new String(bytes, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        long goodBytes = 0;
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            boolean last = i == lines.length - 1;
            if (line.isBlank()) {
                if (!last) {
                    goodBytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
                }
                continue;
            }
            TraceRecord record;
            try {
                record = TraceRecord.fromJson(JSON.readTree(line));
            } catch (JacksonException | NullPointerException | IllegalArgumentException e) {
                // A crash cuts the last line short; it does not repeat a key, so such a line is refused wherever.
                boolean torn = (last || (i == lines.length - 2 && lines[lines.length - 1].isEmpty()))
                        && !(e instanceof JacksonException j && YamlErrors.duplicateKey(j));
                if (!torn) {
                    throw new InvalidInputException(trace() + ":" + (i + 1), "not a trace line: "
                            + (e instanceof JacksonException j ? YamlErrors.jsonProblem(j) : e.getMessage()));
                }
                break;
            }
            // Each iteration completes once (iteration 0 is the initial program): a repeated or negative one
            // is a trace edited or concatenated by hand, which a resume replayed as if it were the run.
            if (record.iteration() < 0 || !seen.add(record.iteration())) {
                throw new InvalidInputException(trace() + ":" + (i + 1), "iteration " + record.iteration()
                        + (record.iteration() < 0 ? " is negative" : " appears twice"));
            }
            requireIds(record, trace() + ":" + (i + 1));
            records.add(record);
            goodBytes += line.getBytes(StandardCharsets.UTF_8).length + (last ? 0 : 1);
        }
        if (goodBytes < bytes.length) {
            try (FileChannel ch = FileChannel.open(trace(), StandardOpenOption.WRITE)) {
                ch.truncate(goodBytes);
                ch.force(false);
            }
        }
        return records;
    }

    /**
     * Refuses a trace line whose program is not named as the loop names it (the iteration's number), or whose
     * parent id has no form the loop makes: a resume reads {@code programs/<program_id>}.
     */
    private static void requireIds(TraceRecord record, String where) {
        String expected = String.valueOf(record.iteration());
        if (record.programId() != null && !record.programId().equals(expected)) {
            throw new InvalidInputException(where, "program_id '" + record.programId() + "' is not the id the loop "
                    + "gives iteration " + expected + "'s program ('" + expected + "'): a corrupt trace");
        }
        if (record.parentId() != null && !isProgramId(record.parentId())) {
            throw new InvalidInputException(where, "parent_id '" + record.parentId() + "' is not a program id "
                    + ID_FORM + ": a corrupt trace");
        }
    }

    /**
     * Refuses a checkpoint naming a program by an id the loop does not make, or with an island without members
     * (edited by hand, so refused rather than skipped): the first sample on such an island failed the resume with an
     * IllegalStateException. The islands, grids and archive name only the programs' ids, which the database checked.
     */
    private static void requireWellFormed(Path dir, io.moelab.evolve.database.DatabaseState state) {
        String file = dir.resolve("database.json").toString();
        for (int i = 0; i < state.islands().size(); i++) {
            if (state.islands().get(i).members().isEmpty()) {
                throw new InvalidInputException(file, "corrupt checkpoint: islands[" + i + "] has no members (each "
                        + "island of a run holds at least a copy of the initial program)");
            }
        }
        for (int i = 0; i < state.programs().size(); i++) {
            var p = state.programs().get(i);
            requireId(file, "programs[" + i + "].id", p.id());
            requireId(file, "programs[" + i + "].parentId", p.parentId());
            requireId(file, "programs[" + i + "].migratedFrom", p.migratedFrom());
        }
        for (int i = 0; i < state.islands().size(); i++) {
            var attempts = state.islands().get(i).attempts();
            for (int j = 0; j < attempts.size(); j++) {
                String where = "islands[" + i + "].attempts[" + j + "]";
                requireId(file, where + ".parentId", attempts.get(j).parentId());
                requireId(file, where + ".programId", attempts.get(j).programId());
            }
        }
    }

    private static void requireId(String file, String field, String id) {
        if (id != null && !isProgramId(id)) {
            throw new InvalidInputException(file, "corrupt checkpoint: " + field + " '" + id + "' is not a program id "
                    + ID_FORM);
        }
    }

    /**
     * Writes a checkpoint directory atomically and drops all but the newest {@code keep}. Its files and the
     * directory are forced to disk before the rename, and the rename itself after: else a power cut could leave
     * the newest checkpoint's name in place with its files empty or cut short.
     */
    void writeCheckpoint(long completed, CheckpointData data, int keep) throws IOException {
        Files.createDirectories(checkpoints());
        Path target = checkpoints().resolve(CHECKPOINT + completed);
        if (Files.isDirectory(target)) {
            return; // the same completed count means the same state
        }
        Path tmp = checkpoints().resolve(TEMPORARY + completed + "_" + ProcessHandle.current().pid());
        Directories.deleteTree(tmp);
        Files.createDirectories(tmp);
        writeSynced(tmp.resolve("database.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(
                data.database()));
        writeSynced(tmp.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(data.state()));
        syncDirectory(tmp);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(checkpoints());
        List<Path> all = listCheckpoints();
        for (int i = 0; i < all.size() - keep; i++) {
            Directories.deleteTree(all.get(i));
        }
    }

    private static void writeSynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    /** Forces a directory's entries to disk where the platform allows it (Linux does; some systems refuse). */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Best effort: the files themselves are synced, and not every platform can sync a directory.
        }
    }

    /**
     * Removes temporary checkpoint directories left by a crash: those of processes no longer running, and this
     * process's own (a pid reused from the crashed run). Another live process's is kept: it may be writing it.
     */
    void removeStaleTemporaries() throws IOException {
        if (!Files.isDirectory(checkpoints())) {
            return;
        }
        List<Path> stale;
        try (Stream<Path> s = Files.list(checkpoints())) {
            stale = s.filter(p -> {
                var m = TEMPORARY_NAME.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    return false;
                }
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    return true; // no pid this program wrote
                }
                return pid == ProcessHandle.current().pid()
                        || ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
            }).toList();
        }
        for (Path p : stale) {
            Directories.deleteTree(p);
        }
    }

    /**
     * The newest readable checkpoint, if any. A newer one whose files cannot be read (cut short by a crash) is
     * skipped, with a warning through {@code warn}, and removed when {@code removeSkipped}: the trace lines after
     * the older checkpoint cover its iterations, and a checkpoint of the same count written later must not find
     * its name taken.
     *
     * @throws InvalidInputException if no checkpoint is readable (naming the newest), or the newest readable one
     *                               disagrees with its name
     */
    Optional<CheckpointData> newestCheckpoint(java.util.function.Consumer<String> warn, boolean removeSkipped)
            throws IOException {
        List<Path> all = listCheckpoints();
        if (all.isEmpty()) {
            return Optional.empty();
        }
        InvalidInputException newestProblem = null;
        List<Path> skipped = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            Path dir = all.get(i);
            CheckpointData data;
            try {
                data = readCheckpoint(dir);
            } catch (InvalidInputException e) {
                if (newestProblem == null) {
                    newestProblem = e;
                }
                skipped.add(dir);
                continue;
            }
            requireNamedCount(dir, data.state());
            requireWellFormed(dir, data.database());
            for (Path bad : skipped) {
                warn.accept("warning: skipping unreadable checkpoint " + bad + (removeSkipped ? " (removed)" : "")
                        + "; resuming from " + dir.getFileName() + " and the trace after it");
                if (removeSkipped) {
                    Directories.deleteTree(bad);
                }
            }
            return Optional.of(data);
        }
        throw newestProblem;
    }

    /** Both files of a checkpoint. @throws InvalidInputException if either cannot be read or lacks its parts */
    private static CheckpointData readCheckpoint(Path dir) {
        return new CheckpointData(read(dir, "database.json", io.moelab.evolve.database.DatabaseState.class),
                read(dir, "state.json", CheckpointData.RunState.class));
    }

    /** One file of a checkpoint. @throws InvalidInputException if it cannot be read or lacks its parts */
    private static <T> T read(Path dir, String file, Class<T> type) {
        T value;
        try {
            value = JSON.readValue(dir.resolve(file).toFile(), type);
        } catch (JacksonException e) {
            // A part the state's constructor refused: its message says what, Jackson's wrapper names a Java class.
            String problem = e instanceof tools.jackson.databind.exc.ValueInstantiationException
                    && e.getCause() instanceof IllegalArgumentException cause && cause.getMessage() != null
                    ? cause.getMessage() : YamlErrors.jsonProblem(e);
            throw new InvalidInputException(dir.toString(), "unreadable checkpoint: " + file + ": " + problem);
        }
        // Jackson reads the JSON literal null as no object: a resume then failed with a NullPointerException.
        if (value == null) {
            throw new InvalidInputException(dir.toString(), "unreadable checkpoint: " + file
                    + " holds null, not an object");
        }
        return value;
    }

    /**
     * The directory is named after the iterations it completed, and its trace lines are those and the initial
     * program's: a state that says otherwise was edited (not cut short, so it is refused rather than skipped).
     * Resuming from it counted on from 400 (or -4) and named new checkpoints after that, or replayed trace lines
     * the checkpoint already held.
     */
    private static void requireNamedCount(Path dir, CheckpointData.RunState state) {
        long named = Long.parseLong(dir.getFileName().toString().substring(CHECKPOINT.length()));
        if (state.completed() != named || state.traceLines() != named + 1) {
            throw new InvalidInputException(dir.resolve("state.json").toString(), "completed " + state.completed()
                    + " and trace lines " + state.traceLines() + " disagree with the checkpoint's name "
                    + dir.getFileName());
        }
    }

    /** The checkpoint directories, oldest first. */
    List<Path> listCheckpoints() throws IOException {
        if (!Files.isDirectory(checkpoints())) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(checkpoints())) {
            // At most 18 digits: a longer number is no checkpoint this program wrote (it broke Long.parseLong).
            return s.filter(p -> p.getFileName().toString().matches(CHECKPOINT + "\\d{1,18}"))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString()
                            .substring(CHECKPOINT.length()))))
                    .toList();
        }
    }

    /** Reads a JSON file into a tree. */
    static JsonNode readJson(Path file) throws IOException {
        return JSON.readTree(file.toFile());
    }
}
