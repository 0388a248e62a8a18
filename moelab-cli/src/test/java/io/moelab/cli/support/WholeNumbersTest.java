package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.cli.CliRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.TypeConversionException;

class WholeNumbersTest {
    @TempDir
    Path dir;

    @Test
    void digitsOfOtherScriptsAreNotNumbers() {
        // Arabic-Indic three, full-width five, Devanagari seven: Integer.valueOf takes each as its digit.
        for (String value : new String[] {"\u0663", "\uFF15", "\u096D", "1\u0663"}) {
            assertThatThrownBy(() -> WholeNumbers.toInt(value)).isInstanceOf(TypeConversionException.class)
                    .hasMessage("'" + value + "' is not an int");
            assertThatThrownBy(() -> WholeNumbers.toLong(value)).isInstanceOf(TypeConversionException.class)
                    .hasMessage("'" + value + "' is not a long");
        }
    }

    @Test
    void asciiNumbersReadAsBefore() {
        assertThat(WholeNumbers.toInt("010")).isEqualTo(10);
        assertThat(WholeNumbers.toInt("+5")).isEqualTo(5);
        assertThat(WholeNumbers.toInt("-2147483648")).isEqualTo(Integer.MIN_VALUE);
        assertThat(WholeNumbers.toLong("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        for (String value : new String[] {"2147483648", "0x10", " 5", "5 ", "", "+", "1e3", "1_000"}) {
            assertThatThrownBy(() -> WholeNumbers.toInt(value)).isInstanceOf(TypeConversionException.class)
                    .hasMessage("'" + value + "' is not an int");
        }
        assertThatThrownBy(() -> WholeNumbers.toLong("9223372036854775808"))
                .hasMessage("'9223372036854775808' is not a long");
    }

    @Test
    void theCommandLineRefusesThemNamingTheOption() {
        Path out = dir.resolve("t.json");
        CliRunner.Result layers = CliRunner.run("eplb", "generate", "--layers", "\u0663", "--experts", "8", "--steps",
                "2", "--seed", "1", "--output", out.toString());
        assertThat(layers.exitCode()).isEqualTo(2);
        assertThat(layers.err()).isEqualTo("error: Invalid value for option '--layers': '\u0663' is not an int (see "
                + "'moelab eplb generate --help')" + System.lineSeparator());
        // A long option, and an int array split at commas.
        CliRunner.Result seed = CliRunner.run("eplb", "generate", "--layers", "3", "--experts", "8", "--steps",
                "2", "--seed", "\uFF15", "--output", out.toString());
        assertThat(seed.exitCode()).isEqualTo(2);
        assertThat(seed.err()).startsWith("error: Invalid value for option '--seed': '\uFF15' is not a long");
        CliRunner.Result ids = CliRunner.run("logits", "--model", dir.toString(), "--token-ids", "1,\u0663",
                "--output", dir.resolve("l.json").toString());
        assertThat(ids.exitCode()).isEqualTo(2);
        assertThat(ids.err()).startsWith("error: Invalid value for option '--token-ids' (ID): '\u0663' is not an int");
        assertThat(Files.exists(out)).isFalse();
        // ASCII still runs.
        assertThat(CliRunner.run("eplb", "generate", "--layers", "+3", "--experts", "8", "--steps", "2", "--seed",
                "1", "--output", out.toString()).exitCode()).isZero();
    }
}
