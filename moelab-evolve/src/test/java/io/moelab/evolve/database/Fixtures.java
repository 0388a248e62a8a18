package io.moelab.evolve.database;

import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/** Programs and settings for the database tests. */
final class Fixtures {
    static final JsonMapper JSON = JsonMapper.builder().build();

    private Fixtures() {
    }

    /** Settings with the given shape; fitness is {@code score}, features are code length (one bin unless told). */
    static DatabaseSettings settings(int islands, int population, int archive, int interval, double rate,
                                     double exploration, double exploitation) {
        return new DatabaseSettings(islands, population, archive, interval, rate, exploration, exploitation,
                List.of("complexity"), 1, "score", List.of(), 3, 3);
    }

    static Program initial(double score) {
        return new Program("0", "code 0", null, 0, 0, 0, Map.of("score", score), null, "", null);
    }

    /** A valid child with its own code, iteration = id. */
    static Program child(int iteration, int island, double score) {
        return child(iteration, island, "code " + iteration, Map.of("score", score));
    }

    static Program child(int iteration, int island, String code, Map<String, Double> metrics) {
        return new Program(Integer.toString(iteration), code, "0", island, 1, iteration, metrics, null, "", null);
    }

    static Program failed(int iteration, int island) {
        return new Program(Integer.toString(iteration), "broken " + iteration, "0", island, 1, iteration, Map.of(),
                "compile error", "", null);
    }

    /** A database state as JSON text, the checkpoint form. */
    static String json(DatabaseState state) {
        return JSON.writeValueAsString(state);
    }

    static DatabaseState fromJson(String json) {
        return JSON.readValue(json, DatabaseState.class);
    }
}
