package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Inputs#requireOne} called directly: through the CLI a missed {@code /dev/stdin} would read the test JVM's
 * own standard input, which never ends, rather than fail.
 */
class InputsTest {
    private static Map<String, List<Object>> inputs(Object... optionsAndValues) {
        Map<String, List<Object>> inputs = new LinkedHashMap<>();
        for (int i = 0; i < optionsAndValues.length; i += 2) {
            inputs.put((String) optionsAndValues[i], optionsAndValues[i + 1] == null ? null
                    : Arrays.asList((Object[]) optionsAndValues[i + 1]));
        }
        return inputs;
    }

    @Test
    void oneStandardInputAmongFilesPasses() {
        assertThatCode(() -> Inputs.requireOne(inputs("--trace", new Object[] {"-", Path.of("a.json")}, "--model",
                new Object[] {"m.json"}, "--cluster", null))).doesNotThrowAnyException();
        assertThatCode(() -> Inputs.requireOne(inputs("--trace", new Object[] {Path.of("/dev/stdin")}, "--model",
                new Object[] {"/dev/stdinx"}))).doesNotThrowAnyException();
    }

    /** Two "-" read as before: the same messages. */
    @Test
    void twoDashesAreRefusedAsBefore() {
        assertThatThrownBy(() -> Inputs.requireOne(inputs("--trace", new Object[] {"-", "-"})))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("--trace: names standard input (-) twice; it can be read once (name a file for the other)");
        assertThatThrownBy(() -> Inputs.requireOne(inputs("--input", new Object[] {"-"}, "--previous",
                new Object[] {"-"}))).isInstanceOf(InvalidInputException.class)
                .hasMessage("--previous: names standard input (-) as --input does; it can be read once (name a file "
                        + "for the other)");
    }

    /**
     * Standard input by the system's names for it: {@code --trace /dev/stdin --model -} read it twice, the second
     * reader finding it empty and saying so about its file.
     */
    @Test
    void theSystemsNamesForStandardInputCountAsDash() {
        assertThatThrownBy(() -> Inputs.requireOne(inputs("--trace", new Object[] {Path.of("/dev/stdin")},
                "--model", new Object[] {"-"}))).isInstanceOf(InvalidInputException.class)
                .hasMessage("--model: names standard input (-) as --trace does (/dev/stdin); it can be read once "
                        + "(name a file for the other)");
        assertThatThrownBy(() -> Inputs.requireOne(inputs("--input", new Object[] {Path.of("/dev/fd/0")},
                "--previous", new Object[] {Path.of("/proc/self/fd/0")}))).isInstanceOf(InvalidInputException.class)
                .hasMessage("--previous: names standard input (/proc/self/fd/0) as --input does (/dev/fd/0); it can "
                        + "be read once (name a file for the other)");
        assertThatThrownBy(() -> Inputs.requireOne(inputs("--trace", new Object[] {"/dev/stdin", "-"})))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("--trace: names standard input (-) twice (/dev/stdin and -); it can be read once (name "
                        + "a file for the other)");
    }
}
