package io.moelab.runtime.safetensors;

import io.moelab.runtime.JsonProblems;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The strict JSON mapper shared by the reader, the index loader and the writer. */
final class Json {
    /**
     * Most tokens a header or index may hold: about 16 per tensor, so 500,000 tensors in one file (DeepSeek-V3 has
     * 91,000 in all). A 100 MiB header of one tensor whose shape lists tens of millions of zeros was read into a tree
     * of that many nodes and a {@code long[]} of them, 2 GB for a file of 100 MB.
     */
    static final long MAX_TOKENS = 8_000_000;
    /**
     * Longest string a header or index may hold, in characters (names and dtypes are short; a {@code __metadata__}
     * value may be a document): Jackson's own limit, 100 million, let a 94 MB dtype allocate 0.8 GB.
     */
    static final int MAX_STRING_CHARS = 16 << 20;

    /**
     * Fails on duplicate keys and on anything after the top-level value (padding spaces are fine), and beyond
     * {@link #MAX_TOKENS} tokens or a string of {@link #MAX_STRING_CHARS}.
     */
    static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxTokenCount(MAX_TOKENS)
                            .maxStringLength(MAX_STRING_CHARS)
                            .build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }

    /**
     * What is wrong with a header or index that {@link #MAPPER} refused, for "NAME is " + it: {@code beyond this
     * reader's limits: ...} (valid JSON past {@link #MAX_TOKENS} or {@link #MAX_STRING_CHARS}) or {@code not valid
     * JSON: ...}.
     */
    static String problem(JacksonException e) {
        return (e instanceof StreamConstraintsException ? "beyond this reader's limits: " : "not valid JSON: ")
                + JsonProblems.describe(e);
    }
}
