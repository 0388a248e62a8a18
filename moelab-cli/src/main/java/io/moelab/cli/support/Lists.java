package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Comma-separated list options ({@code --algorithms moelab,deepseek}). picocli splits them, dropping a trailing empty
 * item without a word ({@code --algorithms moelab,} ran moelab alone) and passing an inner one on, where it read as a
 * puzzling {@code empty algorithm name in ''}; each is refused here, quoting the list as given.
 */
public final class Lists {
    private Lists() {
    }

    /**
     * Checks that no value given to the {@code options} of the parsed command has an empty (or blank) item.
     *
     * @param commandLine the command, after parsing
     * @param options     its list options, by name ({@code "--algorithms"}); options not given are skipped
     * @throws InvalidInputException {@code OPTION: empty item in 'moelab,'}
     */
    public static void requireItems(CommandLine commandLine, String... options) {
        CommandLine.ParseResult parsed = commandLine.getParseResult();
        for (String option : options) {
            OptionSpec spec = parsed == null ? null : parsed.matchedOption(option);
            if (spec == null) {
                continue;
            }
            for (String value : spec.originalStringValues()) {
                if (Arrays.stream(value.split(",", -1)).anyMatch(String::isBlank)) {
                    throw new InvalidInputException(option, "empty item in '" + value + "'");
                }
            }
        }
    }
}
