package io.moelab.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

class JsonProblemsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static String problem(String text) {
        return JsonProblems.describe(catchThrowableOfType(JacksonException.class, () -> JSON.readTree(text)));
    }

    @Test
    void aCutShortObjectOrArrayLosesTheParsersSourceClause() {
        // Jackson adds "(start marker at [Source: REDACTED (`StreamReadFeature...` disabled); ...])" to both.
        assertThat(problem("{\"a\": {\"b\": 1")).isEqualTo("Unexpected end-of-input: expected close marker for Object");
        assertThat(problem("[1, 2")).isEqualTo("Unexpected end-of-input: expected close marker for Array");
    }

    @Test
    void otherProblemsKeepTheirWordsOnOneLine() {
        assertThat(problem("{\"a\": tru}")).startsWith("Unrecognized token 'tru'").doesNotContain("\n")
                .doesNotContain("Source");
    }

    /** A parser limit is said as a limit, without the name of the Jackson method that holds it. */
    @Test
    void aLimitLosesTheNameOfItsSetting() {
        JsonMapper limited = JsonMapper.builder(tools.jackson.core.json.JsonFactory.builder()
                .streamReadConstraints(tools.jackson.core.StreamReadConstraints.builder().maxTokenCount(4).build())
                .build()).build();
        String problem = JsonProblems.describe(catchThrowableOfType(JacksonException.class,
                () -> limited.readTree("[1, 2, 3, 4, 5]")));
        assertThat(problem).startsWith("Token count").contains("exceeds the maximum allowed (4)")
                .doesNotContain("StreamReadConstraints").doesNotContain("from");
    }

    @Test
    void longMessagesAreBounded() {
        String token = "x".repeat(5000);
        assertThat(problem("{\"a\": " + token + "}")).hasSizeLessThanOrEqualTo(203).endsWith("...");
    }
}
