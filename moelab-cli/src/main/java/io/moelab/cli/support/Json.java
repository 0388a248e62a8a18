package io.moelab.cli.support;

import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The JSON settings of every report the command line writes: snake_case keys, indented. */
public final class Json {
    /** The shared, immutable mapper. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private Json() {
    }

    /** Serializes a value as indented JSON. */
    public static String write(Object value) {
        return MAPPER.writeValueAsString(value);
    }
}
