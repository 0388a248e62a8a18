package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The input of {@code eplb rebalance}, DeepSeek EPLB's arguments as JSON:
 * <pre>{"weight": [[...]], "num_replicas": R, "num_groups": G, "num_nodes": N, "num_gpus": M,
 *  "history": [[[...]]]}</pre>
 * {@code history} (earlier windows, oldest first) is optional, and so is each topology number when the caller
 * supplies it another way (command-line overrides).
 */
public final class RebalanceInput {
    private static final Map<String, String> OPTIONS = Map.of("num_replicas", "--replicas", "num_groups",
            "--groups", "num_nodes", "--nodes", "num_gpus", "--gpus");

    private final LoadMatrix weight;
    private final List<LoadMatrix> history;
    private final TopologyFields topology;

    private RebalanceInput(LoadMatrix weight, List<LoadMatrix> history, TopologyFields topology) {
        this.weight = weight;
        this.history = List.copyOf(history);
        this.topology = topology;
    }

    /**
     * Reads a rebalance input file.
     *
     * @throws InvalidInputException naming the file, and the offending field where there is one
     */
    public static RebalanceInput read(Path path) {
        try {
            return parse(path);
        } catch (InvalidInputException e) {
            // Name the file, as a --previous placement's errors do: "weight[0][1]: load is NaN" did not say where.
            throw e.in(path.toString());
        }
    }

    private static RebalanceInput parse(Path path) {
        return JsonFiles.parse(path, reader -> {
            reader.beginObject();
            LoadMatrix weight = null;
            List<LoadMatrix> history = List.of();
            TopologyFields topology = new TopologyFields();
            while (reader.hasNext()) {
                String name = reader.nextName();
                switch (name) {
                    case "weight" ->
                            weight = NumericArray.read(reader, "weight", InputLimits.LOADS).toLoadMatrix("weight");
                    case "history" -> history = history(reader);
                    default -> {
                        if (!topology.accept(name, reader)) {
                            reader.skipValue();
                        }
                    }
                }
            }
            reader.endObject();
            if (weight == null) {
                throw new InvalidInputException("weight", "missing (expected [layers][experts] loads)");
            }
            for (int i = 0; i < history.size(); i++) {
                history.get(i).requireShape(weight.layers(), weight.experts(), "history[" + i + "]");
            }
            return new RebalanceInput(weight, history, topology);
        });
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
        long numbers = 0;
        while (reader.hasNext()) {
            String field = "history[" + windows.size() + "]";
            if (numbers >= InputLimits.MAX_HISTORY) {
                throw new InvalidInputException(field, InputLimits.HISTORY_EXCESS);
            }
            LoadMatrix window = NumericArray.read(reader, field, InputLimits.historyWindow(numbers))
                    .toLoadMatrix(field);
            numbers += (long) window.layers() * window.experts();
            windows.add(window);
        }
        reader.endArray();
        return windows;
    }

    /** Per-layer, per-expert load. */
    public LoadMatrix weight() {
        return weight;
    }

    /** Earlier windows, oldest first (possibly empty). */
    public List<LoadMatrix> history() {
        return history;
    }

    /**
     * The topology, each number taken from the command line where given (non-null), else from the file.
     *
     * @param replicas R from the command line, or null
     * @param groups   G from the command line, or null
     * @param nodes    N from the command line, or null
     * @param gpus     M from the command line, or null
     * @throws InvalidInputException naming the first number given nowhere, or an invalid topology
     */
    public Topology topology(Integer replicas, Integer groups, Integer nodes, Integer gpus) {
        return topology.overriddenBy(new Integer[] {replicas, groups, nodes, gpus},
                field -> "give it in the input file or with " + OPTIONS.get(field));
    }
}
