package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The placement file {@code eplb rebalance} writes and migration-aware planning reads back:
 * <pre>{"algorithm": NAME, "num_replicas": R, "num_groups": G, "num_nodes": N, "num_gpus": M,
 *  "phy2log": [[...]], "log2phy": [[[...]]], "logcnt": [[...]]}</pre>
 * The first three arrays are DeepSeek EPLB's outputs; the topology makes the file self-describing.
 */
public final class PlacementFile {
    private PlacementFile() {
    }

    /**
     * Writes a placement atomically, tagged with the algorithm that planned it.
     *
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void write(Path path, String algorithm, Placement placement) throws IOException {
        AtomicFiles.write(path, raw -> {
            BufferedWriter out = new BufferedWriter(new OutputStreamWriter(raw, StandardCharsets.UTF_8), 1 << 16);
            JsonWriter json = new JsonWriter(out);
            Topology t = placement.topology();
            json.beginObject()
                    .name("algorithm").value(algorithm)
                    .name("num_replicas").value(t.replicas())
                    .name("num_groups").value(t.groups())
                    .name("num_nodes").value(t.nodes())
                    .name("num_gpus").value(t.gpus());
            json.name("phy2log").beginArray();
            for (int[] row : placement.phy2log()) {
                json.numbers(row);
            }
            json.endArray();
            json.name("log2phy").beginArray();
            for (int[][] layer : placement.log2phy()) {
                json.beginArray();
                for (int[] slots : layer) {
                    json.numbers(slots);
                }
                json.endArray();
            }
            json.endArray();
            json.name("logcnt").beginArray();
            for (int[] row : placement.logcnt()) {
                json.numbers(row);
            }
            json.endArray();
            json.endObject().finish();
            out.flush();
        });
    }

    /**
     * Reads a placement's {@code phy2log} ({@code logcnt} and {@code log2phy}, where present, must agree with it);
     * the topology comes from the file where it has one, else from {@code fallback}.
     *
     * @param experts logical experts per layer
     * @throws InvalidInputException for a malformed file or a placement that is invalid for its topology
     */
    public static Placement read(Path path, int experts, Topology fallback) {
        try {
            return parse(path, experts, fallback);
        } catch (InvalidInputException e) {
            // Name the file: a --previous placement's "phy2log[0]" could be mistaken for the input's.
            throw e.in(path.toString());
        }
    }

    private static Placement parse(Path path, int experts, Topology fallback) {
        return JsonFiles.parse(path, reader -> {
            reader.beginObject();
            int[][] phy2log = null;
            NumericArray logcnt = null;
            NumericArray log2phy = null;
            TopologyFields fields = new TopologyFields();
            while (reader.hasNext()) {
                String name = reader.nextName();
                if (name.equals("phy2log")) {
                    phy2log = intMatrix(NumericArray.read(reader, "phy2log", InputLimits.SLOTS));
                } else if (name.equals("logcnt")) {
                    logcnt = NumericArray.read(reader, "logcnt", InputLimits.COUNTS);
                } else if (name.equals("log2phy")) {
                    log2phy = NumericArray.read(reader, "log2phy", InputLimits.REPLICA_SLOTS);
                } else if (!fields.accept(name, reader)) {
                    reader.skipValue();
                }
            }
            reader.endObject();
            if (phy2log == null) {
                throw new InvalidInputException(path.toString(), "has no \"phy2log\"");
            }
            Topology topology = fields.orElse(fallback, field -> "not in " + path + " and not given otherwise");
            int highest = -1;
            int lowest = 0;
            for (int[] row : phy2log) {
                for (int e : row) {
                    highest = Math.max(highest, e);
                    lowest = Math.min(lowest, e);
                }
            }
            // Indices in range and slots enough (Placement.of names those problems), yet experts the file never
            // names: a placement for a smaller model, which "expert E has no replica" would misdescribe.
            if (lowest >= 0 && highest >= 0 && highest < experts - 1 && topology.replicas() >= experts) {
                throw new InvalidInputException("phy2log", "places experts 0.." + highest + " but the loads have "
                        + experts + " experts per layer");
            }
            Placement placement = Placement.of(topology, experts, phy2log);
            requireAgreement(placement, logcnt, log2phy);
            return placement;
        });
    }

    /**
     * The placement is read from {@code phy2log}; {@code logcnt} and {@code log2phy}, where the file has them, must
     * say the same (a file edited in one field only was taken by that field without a word). {@code log2phy}'s
     * order of replicas is not checked, only which slots it lists: other tools rank replicas their own way.
     */
    private static final String DROP_DERIVED = " (phy2log defines the placement: fix or drop logcnt and log2phy)";

    private static void requireAgreement(Placement placement, NumericArray logcnt, NumericArray log2phy) {
        int layers = placement.layers();
        int experts = placement.experts();
        // The placement's own derivation from phy2log: each expert's slots in ascending order (rank = slot order).
        int[][][] slotsOf = placement.log2phy();
        if (logcnt != null) {
            if (logcnt.depth() != 2 || logcnt.shape()[0] != layers || logcnt.shape()[1] != experts) {
                throw new InvalidInputException("logcnt", "expected [" + layers + "][" + experts + "] to match "
                        + "phy2log, found shape " + Arrays.toString(logcnt.shape()));
            }
            for (int i = 0; i < layers * experts; i++) {
                int held = placement.replicaCount(i / experts, i % experts);
                if (logcnt.values()[i] != held) {
                    throw new InvalidInputException("logcnt[" + i / experts + "][" + i % experts + "]", "is "
                            + Numbers.plain(logcnt.values()[i]) + " but phy2log holds " + held
                            + " replica(s) of expert " + i % experts + DROP_DERIVED);
                }
            }
        }
        if (log2phy != null) {
            if (log2phy.depth() != 3 || log2phy.shape()[0] != layers || log2phy.shape()[1] != experts) {
                throw new InvalidInputException("log2phy", "expected [" + layers + "][" + experts + "][replicas] "
                        + "to match phy2log, found shape " + Arrays.toString(log2phy.shape()));
            }
            int width = log2phy.shape()[2];
            for (int i = 0; i < layers * experts; i++) {
                List<Integer> listed = new ArrayList<>();
                for (int r = 0; r < width; r++) {
                    double v = log2phy.values()[i * width + r];
                    if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
                        // Not an index at all: it was listed as slot -2147483648, which the file never says.
                        throw new InvalidInputException("log2phy[" + i / experts + "][" + i % experts + "][" + r + "]",
                                "expected a slot index or -1 but found " + Numbers.plain(v));
                    }
                    if (v != -1) {
                        listed.add((int) v);
                    }
                }
                listed.sort(null);
                List<Integer> slots = Arrays.stream(slotsOf[i / experts][i % experts]).filter(p -> p >= 0).boxed()
                        .toList();
                if (!listed.equals(slots)) {
                    throw new InvalidInputException("log2phy[" + i / experts + "][" + i % experts + "]", "lists slots "
                            + listed + " but phy2log puts expert " + i % experts + " in slots " + slots
                            + DROP_DERIVED);
                }
            }
        }
    }

    private static int[][] intMatrix(NumericArray array) {
        if (array.depth() != 2) {
            throw new InvalidInputException("phy2log", "expected [layers][replicas] but found a " + array.depth()
                    + "-dimensional array");
        }
        int rows = array.shape()[0];
        int cols = array.shape()[1];
        List<int[]> out = new ArrayList<>(rows);
        for (int l = 0; l < rows; l++) {
            int[] row = new int[cols];
            for (int p = 0; p < cols; p++) {
                double v = array.values()[l * cols + p];
                if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
                    throw new InvalidInputException("phy2log[" + l + "][" + p + "]",
                            "expected an expert index but found " + Numbers.plain(v));
                }
                row[p] = (int) v;
            }
            out.add(row);
        }
        return out.toArray(int[][]::new);
    }
}
