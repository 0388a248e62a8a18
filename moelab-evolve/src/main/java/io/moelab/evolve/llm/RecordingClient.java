package io.moelab.evolve.llm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import tools.jackson.core.json.JsonWriteFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Passes calls to another client and appends each successful completion to a JSON-lines file that
 * {@link ReplayClient} reads back: {@code iteration}, {@code model}, {@code content}, {@code prompt_tokens},
 * {@code completion_tokens}, {@code cost_usd}, {@code attempts} and {@code messages_sha256} (SHA-256 of the
 * prompt, see {@link #messagesSha256}). The file is opened for appending; a torn last line left by a crash is
 * cut off first. Each line is forced to disk before the completion is returned. Thread-safe.
 */
public final class RecordingClient implements LlmClient, AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final LlmClient delegate;
    private final Path path;
    private final FileChannel channel;

    /**
     * Records the completions of {@code delegate} to {@code jsonl}, creating it and its directories if needed.
     *
     * @throws UncheckedIOException if the file cannot be opened
     */
    public RecordingClient(LlmClient delegate, Path jsonl) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.path = Objects.requireNonNull(jsonl, "jsonl");
        try {
            Path parent = jsonl.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            cutTornTail(jsonl);
            this.channel = FileChannel.open(jsonl, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the recording " + jsonl + ": " + e.getMessage(), e);
        }
    }

    /** Drops bytes after the last newline: an unfinished line from a crash would corrupt the next one. */
    private static void cutTornTail(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long keep = size;
            ByteBuffer one = ByteBuffer.allocate(1);
            while (keep > 0) {
                one.clear();
                ch.read(one, keep - 1);
                if (one.get(0) == '\n') {
                    break;
                }
                keep--;
            }
            if (keep < size) {
                ch.truncate(keep);
                ch.force(true);
            }
        }
    }

    /**
     * Completes with the delegate, then appends the completion.
     *
     * @throws UncheckedIOException if the line cannot be written
     */
    @Override
    public Completion complete(List<ChatMessage> messages, int iteration) throws LlmException {
        Completion c = delegate.complete(messages, iteration);
        ObjectNode line = JSON.createObjectNode();
        line.put("iteration", iteration);
        line.put("model", c.model());
        line.put("content", c.content());
        line.put("prompt_tokens", c.promptTokens());
        line.put("completion_tokens", c.completionTokens());
        line.put("cost_usd", c.costUsd());
        line.put("attempts", c.attempts());
        line.put("messages_sha256", messagesSha256(messages));
        String text = JSON.writeValueAsString(line);
        if (!StandardCharsets.UTF_8.newEncoder().canEncode(text)) {
            // An unpaired surrogate (a broken answer) would reach the file as '?', and a replay would then run
            // another answer: written as a JSON escape it reads back as it came.
            text = JSON.writer().with(JsonWriteFeature.ESCAPE_NON_ASCII).writeValueAsString(line);
        }
        append((text + "\n").getBytes(StandardCharsets.UTF_8));
        return c;
    }

    private synchronized void append(byte[] bytes) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
            channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the recording " + path + ": " + e.getMessage(), e);
        }
    }

    /** Hex SHA-256 of the prompt as compact JSON {@code [{"role":...,"content":...},...]} in UTF-8. */
    public static String messagesSha256(List<ChatMessage> messages) {
        ArrayNode arr = JSON.createArrayNode();
        for (ChatMessage m : messages) {
            arr.addObject().put("role", m.role()).put("content", m.content());
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(JSON.writeValueAsBytes(arr)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** The file recorded to. */
    public Path path() {
        return path;
    }

    /** Closes the file; later completions fail. */
    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the recording " + path, e);
        }
    }
}
