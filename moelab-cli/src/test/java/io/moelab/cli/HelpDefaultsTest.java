package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What every command's --help says of its options' defaults, against the defaults picocli actually applies: a
 * default the code sets must be shown, and a default written out in the text must be the one the code uses.
 */
class HelpDefaultsTest {
    /**
     * A default written in a description, "(default: X" or "(default X", X up to a semicolon, colon or parenthesis
     * (picocli has already put a ${DEFAULT-VALUE} in, commas and all).
     */
    private static final Pattern STATED = Pattern.compile("\\(default:? ([^;:)]+)");

    /** Every option of every command and subcommand, with the command's qualified name. */
    private static List<Object[]> options() {
        List<Object[]> all = new ArrayList<>();
        collect(new CommandLine(new MoelabCommand()), all);
        return all;
    }

    private static void collect(CommandLine cmd, List<Object[]> all) {
        for (OptionSpec o : cmd.getCommandSpec().options()) {
            if (!o.usageHelp() && !o.versionHelp()) {
                all.add(new Object[] {cmd.getCommandSpec().qualifiedName() + " " + o.longestName(), o});
            }
        }
        for (CommandLine sub : cmd.getSubcommands().values()) {
            if (!sub.getCommandName().equals("help")) {
                collect(sub, all);
            }
        }
    }

    private static boolean isFlag(OptionSpec o) {
        return o.type() == boolean.class || o.type() == Boolean.class;
    }

    @Test
    void everyDefaultTheCodeSetsIsShown() {
        List<String> unshown = new ArrayList<>();
        for (Object[] e : options()) {
            OptionSpec o = (OptionSpec) e[1];
            String text = String.join(" ", o.description());
            if (o.defaultValue() != null && !isFlag(o) && !text.toLowerCase(Locale.ROOT).contains("default")) {
                unshown.add(e[0] + " (default " + o.defaultValue() + ")");
            }
        }
        assertThat(unshown).as("options whose --help does not give the default they have").isEmpty();
    }

    @Test
    void everyDefaultWrittenOutIsTheCodes() {
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (Object[] e : options()) {
            OptionSpec o = (OptionSpec) e[1];
            Matcher m = STATED.matcher(String.join(" ", o.description()));
            if (o.defaultValue() == null || isFlag(o) || !m.find()) {
                continue;
            }
            checked++;
            if (!m.group(1).strip().equals(o.defaultValue())) {
                wrong.add(e[0] + ": help says " + m.group(1).strip() + ", code " + o.defaultValue());
            }
        }
        assertThat(checked).as("options with a default written out").isGreaterThan(10);
        assertThat(wrong).isEmpty();
    }
}
