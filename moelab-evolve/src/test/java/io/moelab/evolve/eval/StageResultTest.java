package io.moelab.evolve.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a stage's JSON result means. */
class StageResultTest {

    @Test
    void numbersAreMetricsInOrder() {
        StageResult r = StageResult.parse("{\"b\": 2, \"a\": -0.5, \"big\": 1e300, \"i\": 7}");
        assertThat(r.metrics()).containsExactly(Map.entry("b", 2.0), Map.entry("a", -0.5), Map.entry("big", 1e300),
                Map.entry("i", 7.0));
        assertThat(r.error()).isNull();
        assertThat(r.errorMessage()).isEmpty();
        assertThat(r.feedback()).isEmpty();
    }

    @Test
    void booleansAreOneOrZero() {
        assertThat(StageResult.parse("{\"valid\": true, \"fast\": false}").metrics())
                .containsExactly(Map.entry("valid", 1.0), Map.entry("fast", 0.0));
    }

    @Test
    void errorAndItsMessage() {
        StageResult r = StageResult.parse(
                "{\"error\": \"compile_error\", \"error_message\": \"line 3\", \"score\": 0}");
        assertThat(r.error()).isEqualTo("compile_error");
        assertThat(r.errorMessage()).isEqualTo("line 3");
        assertThat(r.metrics()).containsExactly(Map.entry("score", 0.0));
        assertThat(r.feedback()).as("error fields are not feedback").isEmpty();
    }

    @Test
    void nullOrBlankErrorIsNoError() {
        assertThat(StageResult.parse("{\"error\": null, \"error_message\": null}").error()).isNull();
        assertThat(StageResult.parse("{\"error\": null, \"error_message\": null}").errorMessage()).isEmpty();
        assertThat(StageResult.parse("{\"error\": \"  \"}").error()).isNull();
        assertThat(StageResult.parse("{\"error_message\": \"odd\"}").error()).isNull();
        StageResult no = StageResult.parse("{\"error\": false, \"score\": 2}");
        assertThat(no.error()).isNull();
        assertThat(no.metrics()).as("error is never a metric").containsExactly(Map.entry("score", 2.0));
        assertThat(StageResult.parse("{\"error\": true}").error()).isEqualTo("error");
    }

    /**
     * An {@code error} that is neither a string, a boolean nor null reads as Python's truth would read it, as an
     * OpenEvolve evaluator's dict does: 0 and empty containers say there was none, anything else is an unnamed error.
     * A number was taken as the error's name ({@code "error": 0} failed the candidate as error "0"), and an object or
     * array read as blank, so no error.
     */
    @Test
    void anErrorOfAnotherTypeReadsByItsTruth() {
        for (String none : new String[] {"0", "0.0", "-0", "[]", "{}"}) {
            assertThat(StageResult.parse("{\"error\": " + none + ", \"score\": 1}").error()).as(none).isNull();
        }
        for (String some : new String[] {"1", "-3", "0.5", "[\"oom\"]", "{\"kind\": \"oom\"}"}) {
            StageResult r = StageResult.parse("{\"error\": " + some + ", \"score\": 1}");
            assertThat(r.error()).as(some).isEqualTo("error");
            assertThat(r.metrics()).as("error is never a metric").containsExactly(Map.entry("score", 1.0));
        }
    }

    @Test
    void otherStringsAreFeedbackLines() {
        StageResult r = StageResult.parse("{\"note\": \"try 2-opt\", \"x\": 1, \"hint\": \"too slow\"}");
        assertThat(r.feedback()).isEqualTo("note: try 2-opt\nhint: too slow\n");
        assertThat(r.metrics()).containsOnlyKeys("x");
    }

    @Test
    void arraysObjectsAndNullsAreIgnored() {
        StageResult r = StageResult.parse("{\"per_case\": [1, 2], \"detail\": {\"a\": 1}, \"gone\": null, \"s\": 3}");
        assertThat(r.metrics()).containsExactly(Map.entry("s", 3.0));
        assertThat(r.feedback()).isEmpty();
    }

    @Test
    void notAnObjectOrNotJsonIsRefused() {
        for (String bad : new String[] {"[1, 2]", "42", "\"text\"", "null", "{not json}", "", "{\"a\": 1",
                "score: 1"}) {
            assertThatThrownBy(() -> StageResult.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> StageResult.parse("[1]")).hasMessageContaining("object");
        assertThatThrownBy(() -> StageResult.parse("{x}")).hasMessageStartingWith("not JSON");
    }

    @Test
    void aCutShortObjectIsNamedWithoutTheParsersSettings() {
        // Jackson's message adds "(start marker at [Source: REDACTED (`StreamReadFeature...` disabled); ...])".
        assertThatThrownBy(() -> StageResult.parse("{\"score\": 1, \"detail\": {"))
                .hasMessage("not JSON: Unexpected end-of-input: expected close marker for Object");
    }

    /** A metric given twice: the last was scored without a word, though which one the evaluator meant is unknown. */
    @Test
    void aKeyGivenTwiceIsRefusedNamingIt() {
        assertThatThrownBy(() -> StageResult.parse("{\"score\": 1, \"size\": 3, \"score\": 9}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("Duplicate Object property \"score\"");
        assertThatThrownBy(() -> StageResult.parse("{\"score\": 1, \"detail\": {\"a\": 1, \"a\": 2}}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("Duplicate Object property \"a\"");
    }

    @Test
    void nonFiniteNumbersAreRefused() {
        // Jackson reads 1e999 as infinity.
        assertThatThrownBy(() -> StageResult.parse("{\"score\": 1e999}")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("score");
    }

    @Test
    void numbersSurviveTheRoundTrip() {
        qt().withExamples(300).withFixedSeed(3).forAll(doubles().between(-1e12, 1e12), integers().all())
                .checkAssert((d, i) -> assertThat(StageResult.parse("{\"d\": " + d + ", \"i\": " + i + "}").metrics())
                        .containsExactly(Map.entry("d", d), Map.entry("i", (double) i)));
    }

    @Test
    void lastJsonLinePicksTheLastObjectLine() {
        assertThat(StageResult.lastJsonLine("{\"a\": 1}\nlog\n  {\"a\": 2}  \ntrailing text\n\n"))
                .isEqualTo("{\"a\": 2}");
        assertThat(StageResult.lastJsonLine("{\"a\": 1}\r\n{\"a\": 3}\r\n")).isEqualTo("{\"a\": 3}");
        assertThat(StageResult.lastJsonLine("[1, 2]\n{\"a\": 1} and more\n")).isNull();
        assertThat(StageResult.lastJsonLine("")).isNull();
        assertThat(StageResult.lastJsonLine("no json here")).isNull();
        // A line that only looks like JSON is still picked; parse() then refuses it.
        assertThat(StageResult.lastJsonLine("{\"a\": 1}\n{oops}\n")).isEqualTo("{oops}");
    }
}
