package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The input of {@code eplb rebalance}, DeepSeek EPLB's arguments as JSON:
 * <pre>{"weight": [[...]], "num_replicas": R, "num_groups": G, "num_nodes": N, "num_gpus": M,
 *  "history": [[[...]]]}</pre>
 * {@code history} (earlier windows, oldest first) is optional, and so is each topology number when the caller
 * supplies it another way (command-line overrides).
 *
 * @param weight      per-layer, per-expert load
 * @param history     earlier windows, oldest first
 * @param numReplicas R, or null when absent
 * @param numGroups   G, or null when absent
 * @param numNodes    N, or null when absent
 * @param numGpus     M, or null when absent
 */
public record RebalanceInput(LoadMatrix weight, List<LoadMatrix> history, Integer numReplicas, Integer numGroups,
                             Integer numNodes, Integer numGpus) {

    /**
     * Reads a rebalance input file.
     *
     * @throws InvalidInputException naming the file or the offending field
     */
    public static RebalanceInput read(Path path) {
        return JsonFiles.parse(path, reader -> {
            reader.beginObject();
            LoadMatrix weight = null;
            List<LoadMatrix> history = List.of();
            Integer r = null;
            Integer g = null;
            Integer n = null;
            Integer m = null;
            while (reader.hasNext()) {
                String name = reader.nextName();
                switch (name) {
                    case "weight" -> weight = matrix(NumericArray.read(reader, "weight"), "weight");
                    case "history" -> history = history(reader);
                    case "num_replicas" -> r = JsonFiles.readInt(reader, name);
                    case "num_groups" -> g = JsonFiles.readInt(reader, name);
                    case "num_nodes" -> n = JsonFiles.readInt(reader, name);
                    case "num_gpus" -> m = JsonFiles.readInt(reader, name);
                    default -> reader.skipValue();
                }
            }
            reader.endObject();
            if (weight == null) {
                throw new InvalidInputException("weight", "missing from " + path + " (expected [layers][experts] loads)");
            }
            return new RebalanceInput(weight, history, r, g, n, m);
        });
    }

    private static LoadMatrix matrix(NumericArray array, String field) {
        if (array.depth() != 2) {
            throw new InvalidInputException(field, "expected [layers][experts] but found a " + array.depth()
                    + "-dimensional array");
        }
        return LoadMatrix.ofFlat(array.shape()[0], array.shape()[1], array.values(), field);
    }

    private static List<LoadMatrix> history(JsonReader reader) {
        if (reader.peek() == JsonReader.Token.NULL) {
            reader.nextNull();
            return List.of();
        }
        if (reader.peek() != JsonReader.Token.BEGIN_ARRAY) {
            throw new InvalidInputException("history", "expected [windows][layers][experts] but found "
                    + reader.peek().phrase());
        }
        reader.beginArray();
        List<LoadMatrix> windows = new ArrayList<>();
        while (reader.hasNext()) {
            String field = "history[" + windows.size() + "]";
            windows.add(matrix(NumericArray.read(reader, field), field));
        }
        reader.endArray();
        return windows;
    }

    /**
     * The topology, each number taken from {@code overrides} where given (non-null), else from the file.
     *
     * @param replicas R from the command line, or null
     * @param groups   G from the command line, or null
     * @param nodes    N from the command line, or null
     * @param gpus     M from the command line, or null
     * @throws InvalidInputException naming the first number given nowhere, or an invalid topology
     */
    public Topology topology(Integer replicas, Integer groups, Integer nodes, Integer gpus) {
        return new Topology(pick(replicas, numReplicas, "num_replicas", "--replicas"),
                pick(groups, numGroups, "num_groups", "--groups"),
                pick(nodes, numNodes, "num_nodes", "--nodes"),
                pick(gpus, numGpus, "num_gpus", "--gpus"));
    }

    private static int pick(Integer override, Integer fromFile, String field, String option) {
        if (override != null) {
            return override;
        }
        if (fromFile != null) {
            return fromFile;
        }
        throw new InvalidInputException(field, "missing (give it in the input file or with " + option + ")");
    }
}
