package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;

/**
 * Options that take one of a few words, such as {@code --format table|json}: one check and one message for every
 * command (picocli's enum conversion listed the words in capitals, {@code [TABLE, JSON]}, where the help spells them
 * in lower case).
 */
public final class Choices {
    private Choices() {
    }

    /**
     * {@code value} in lower case when it is one of {@code allowed} in any case.
     *
     * @throws InvalidInputException naming {@code option}: {@code expected table, json or csv, got xml}
     */
    public static String require(String option, String value, String... allowed) {
        String word = value.toLowerCase(Locale.ROOT);
        if (Arrays.asList(allowed).contains(word)) {
            return word;
        }
        String list = allowed.length == 1 ? allowed[0]
                : String.join(", ", Arrays.copyOf(allowed, allowed.length - 1)) + " or " + allowed[allowed.length - 1];
        throw new InvalidInputException(option, "expected " + list + ", got " + value);
    }
}
