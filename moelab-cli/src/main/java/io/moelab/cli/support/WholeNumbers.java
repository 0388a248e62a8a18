package io.moelab.cli.support;

import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

/**
 * Whole-number options in ASCII digits only. picocli converts them with {@link Integer#valueOf(String)}, which
 * takes any script's decimal digits ({@code --layers ٣} ran as 3, a full-width {@code ５} as 5): a value that no
 * shell, script or document means as a number went through as one. Same messages as picocli's own converters.
 */
public final class WholeNumbers {
    private static final Pattern ASCII = Pattern.compile("[+-]?[0-9]+");

    private WholeNumbers() {
    }

    /** Registers the int and long converters on {@code cmd} and every subcommand it has now. */
    public static void register(CommandLine cmd) {
        cmd.registerConverter(Integer.class, WholeNumbers::toInt);
        cmd.registerConverter(int.class, WholeNumbers::toInt);
        cmd.registerConverter(Long.class, WholeNumbers::toLong);
        cmd.registerConverter(long.class, WholeNumbers::toLong);
    }

    static Integer toInt(String value) {
        try {
            return Integer.valueOf(ascii(value, "an int"));
        } catch (NumberFormatException e) {
            throw notA(value, "an int");
        }
    }

    static Long toLong(String value) {
        try {
            return Long.valueOf(ascii(value, "a long"));
        } catch (NumberFormatException e) {
            throw notA(value, "a long");
        }
    }

    private static String ascii(String value, String what) {
        if (!ASCII.matcher(value).matches()) {
            throw notA(value, what);
        }
        return value;
    }

    private static TypeConversionException notA(String value, String what) {
        return new TypeConversionException("'" + value + "' is not " + what);
    }
}
