package io.moelab.cli.support;

import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON settings of every report the command line writes (snake_case keys, indented) and of the files of its own
 * that it reads back (an evolve run's run.json and trace.jsonl): those never repeat a key, so a repeat is refused.
 */
public final class Json {
    /** The shared, immutable mapper. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {
    }

    /** Serializes a value as indented JSON. */
    public static String write(Object value) {
        return MAPPER.writeValueAsString(value);
    }
}
