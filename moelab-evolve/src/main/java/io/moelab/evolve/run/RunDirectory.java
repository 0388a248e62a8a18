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
    static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final String CHECKPOINT = "checkpoint_";

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

    Path llmResponses() {
        return root.resolve("llm_responses.jsonl");
    }

    Path program(String id) {
        return root.resolve("programs").resolve(id + extension);
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
                boolean torn = last || (i == lines.length - 2 && lines[lines.length - 1].isEmpty());
                if (!torn) {
                    throw new InvalidInputException(trace() + ":" + (i + 1), "not a trace line: "
                            + e.getMessage());
                }
                break;
            }
            // Each iteration completes once (iteration 0 is the initial program): a repeated or negative one
            // is a trace edited or concatenated by hand, which a resume replayed as if it were the run.
            if (record.iteration() < 0 || !seen.add(record.iteration())) {
                throw new InvalidInputException(trace() + ":" + (i + 1), "iteration " + record.iteration()
                        + (record.iteration() < 0 ? " is negative" : " appears twice"));
            }
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

    /** Writes a checkpoint directory atomically and drops all but the newest {@code keep}. */
    void writeCheckpoint(long completed, CheckpointData data, int keep) throws IOException {
        Files.createDirectories(checkpoints());
        Path target = checkpoints().resolve(CHECKPOINT + completed);
        if (Files.isDirectory(target)) {
            return; // the same completed count means the same state
        }
        Path tmp = checkpoints().resolve(".tmp_" + completed + "_" + ProcessHandle.current().pid());
        Directories.deleteTree(tmp);
        Files.createDirectories(tmp);
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("database.json").toFile(), data.database());
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("state.json").toFile(), data.state());
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        List<Path> all = listCheckpoints();
        for (int i = 0; i < all.size() - keep; i++) {
            Directories.deleteTree(all.get(i));
        }
    }

    /** The newest whole checkpoint, if any. */
    Optional<CheckpointData> newestCheckpoint() throws IOException {
        List<Path> all = listCheckpoints();
        if (all.isEmpty()) {
            return Optional.empty();
        }
        Path dir = all.getLast();
        CheckpointData data;
        try {
            data = new CheckpointData(
                    JSON.readValue(dir.resolve("database.json").toFile(), io.moelab.evolve.database.DatabaseState.class),
                    JSON.readValue(dir.resolve("state.json").toFile(), CheckpointData.RunState.class));
        } catch (JacksonException e) {
            throw new InvalidInputException(dir.toString(), "unreadable checkpoint: " + YamlErrors.jsonProblem(e));
        }
        // The directory is named after the iterations it completed: a state that says otherwise was edited, and
        // resuming from it counted on from 400 (or -4) and named new checkpoints after that.
        long named = Long.parseLong(dir.getFileName().toString().substring(CHECKPOINT.length()));
        CheckpointData.RunState state = data.state();
        if (state.completed() != named || state.traceLines() < 0) {
            throw new InvalidInputException(dir.resolve("state.json").toString(), "completed " + state.completed()
                    + " and trace lines " + state.traceLines() + " disagree with the checkpoint's name "
                    + dir.getFileName());
        }
        return Optional.of(data);
    }

    private List<Path> listCheckpoints() throws IOException {
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
