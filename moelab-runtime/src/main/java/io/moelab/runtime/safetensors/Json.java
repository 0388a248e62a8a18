package io.moelab.runtime.safetensors;

import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The strict JSON mapper shared by the reader, the index loader and the writer. */
final class Json {
    /** Fails on duplicate keys and on anything after the top-level value (padding spaces are fine). */
    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }
}
