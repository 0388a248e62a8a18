package io.moelab.runtime.safetensors;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.TextFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * All tensors of a checkpoint directory as one view: the shards named by {@code model.safetensors.index.json},
 * or else the directory's single {@code .safetensors} file. Tensor names are unique across shards.
 */
public final class ShardedCheckpoint implements AutoCloseable {
    private static final String SINGLE_FILE = "model.safetensors";

    private final Path directory;
    private final Path listing;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> owner;
    private final Map<String, TensorInfo> tensors;

    private ShardedCheckpoint(Path directory, Path listing, List<SafetensorsFile> shards) {
        this.directory = directory;
        this.listing = listing;
        this.shards = List.copyOf(shards);
        Map<String, SafetensorsFile> own = new LinkedHashMap<>();
        Map<String, TensorInfo> all = new LinkedHashMap<>();
        for (SafetensorsFile s : shards) {
            for (TensorInfo t : s.tensors().values()) {
                SafetensorsFile other = own.putIfAbsent(t.name(), s);
                if (other != null) {
                    throw new ModelFormatException(s.path().toString(), SafetensorsFile.shown(t.name()),
                            "tensor also present in shard "
                                    + SafetensorsFile.shown(other.path().getFileName().toString()));
                }
                all.put(t.name(), t);
            }
        }
        this.owner = own;
        this.tensors = Collections.unmodifiableMap(all);
    }

    /**
     * Opens the checkpoint in {@code dir}.
     *
     * @throws ModelFormatException if the index is invalid, a shard is missing or invalid, a tensor of the index
     *                              is absent from its shard, a tensor is in two shards, or there is no index and
     *                              not exactly one safetensors file (a {@code model.safetensors} is preferred)
     * @throws UncheckedIOException on other I/O failures
     */
    public static ShardedCheckpoint open(Path dir) {
        String d = dir.toString();
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(d, null, "not a directory");
        }
        Path index = dir.resolve(SafetensorsWriter.INDEX_FILE);
        if (Files.exists(index)) {
            return openIndexed(dir, index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (!Files.isRegularFile(single)) {
            List<Path> found = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
                for (Path p : ds) {
                    if (Files.isRegularFile(p)) {
                        found.add(p);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + d, e);
            }
            if (found.isEmpty()) {
                throw new ModelFormatException(d, null, "no safetensors file");
            }
            if (found.size() > 1) {
                throw new ModelFormatException(d, null, "no safetensors file: " + found.size()
                        + " .safetensors files but neither " + SINGLE_FILE + " nor " + SafetensorsWriter.INDEX_FILE);
            }
            single = found.get(0);
        }
        SafetensorsFile file = SafetensorsFile.open(single);
        return new ShardedCheckpoint(dir, single, List.of(file));
    }

    private static ShardedCheckpoint openIndexed(Path dir, Path index) {
        String i = index.toString();
        JsonNode root;
        try {
            // At most a header's size: an index names each tensor once, as a header does with more besides.
            root = Json.MAPPER.readTree(TextFiles.readUtf8(index, SafetensorsFile.MAX_HEADER_BYTES));
        } catch (JacksonException e) {
            throw new ModelFormatException(i, null, Json.problem(e));
        }
        if (root == null || !root.isObject() || !root.path("weight_map").isObject()) {
            throw new ModelFormatException(i, null, "no weight_map object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.get("weight_map").properties()) {
            if (!e.getValue().isString()) {
                throw new ModelFormatException(i, SafetensorsFile.shown(e.getKey()),
                        "weight_map value is not a string");
            }
            weightMap.put(e.getKey(), e.getValue().stringValue());
        }
        if (weightMap.isEmpty()) {
            // It opens no shard: the checkpoint would hold nothing, and the model miss its first tensor.
            throw new ModelFormatException(i, null, "weight_map names no tensors");
        }
        Path base = dir.toAbsolutePath().normalize();
        // By the file, not its spelling: "x" and "./x" are one shard (opened twice, its tensors were in "two").
        Map<Path, SafetensorsFile> byFile = new LinkedHashMap<>();
        boolean ok = false;
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shardName = e.getValue();
                // The index's strings as errors show them (a forged index's are not echoed whole).
                String tensor = SafetensorsFile.shown(e.getKey());
                String shownShard = SafetensorsFile.shown(shardName);
                Path p;
                try {
                    p = base.resolve(shardName).normalize();
                } catch (InvalidPathException x) {
                    p = null; // a NUL in the name: no path at all (an InvalidPathException, exit 1 from the CLI)
                }
                if (p == null || !base.equals(p.getParent())) {
                    throw new ModelFormatException(i, tensor,
                            "shard " + shownShard + " is not a file name in the checkpoint directory");
                }
                SafetensorsFile shard = byFile.get(p);
                if (shard == null) {
                    if (!Files.isRegularFile(p)) {
                        String file = shownShard.equals(shardName) ? p.toString() : SafetensorsFile.shown(p.toString());
                        throw new ModelFormatException(file, tensor, "shard file " + shownShard + " named in "
                                + SafetensorsWriter.INDEX_FILE + " is missing");
                    }
                    shard = SafetensorsFile.open(p);
                    byFile.put(p, shard);
                }
                if (shard.info(e.getKey()).isEmpty()) {
                    throw new ModelFormatException(shard.path().toString(), tensor,
                            "tensor listed in " + SafetensorsWriter.INDEX_FILE + " is absent from shard "
                                    + shownShard);
                }
            }
            ShardedCheckpoint c = new ShardedCheckpoint(dir, index, new ArrayList<>(byFile.values()));
            ok = true;
            return c;
        } finally {
            if (!ok) {
                byFile.values().forEach(SafetensorsFile::close);
            }
        }
    }

    /** The checkpoint directory. */
    public Path directory() {
        return directory;
    }

    /**
     * The file that lists the checkpoint's tensors: {@code model.safetensors.index.json} for a sharded checkpoint,
     * else the single safetensors file. A tensor the model needs and the checkpoint lacks is missing from it.
     */
    public Path listing() {
        return listing;
    }

    /** All tensors of all shards, shard by shard in header order. Unmodifiable. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}, if any shard has it. */
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /**
     * The read-only bytes of tensor {@code name}, from its shard.
     *
     * @throws ModelFormatException if no shard has that tensor
     */
    public MemorySegment segment(String name) {
        return shardOf(name).segment(name);
    }

    /**
     * The shard file holding tensor {@code name}.
     *
     * @throws ModelFormatException if no shard has that tensor
     */
    public Path fileOf(String name) {
        return shardOf(name).path();
    }

    private SafetensorsFile shardOf(String name) {
        SafetensorsFile s = owner.get(name);
        if (s == null) {
            throw new ModelFormatException(directory.toString(), name, "no such tensor");
        }
        return s;
    }

    /** Closes every shard. Idempotent. */
    @Override
    public void close() {
        for (SafetensorsFile s : shards) {
            s.close();
        }
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + directory + ", " + shards.size() + " shards, " + tensors.size() + " tensors]";
    }
}
