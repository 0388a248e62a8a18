package io.moelab.cli.support;

import io.moelab.eplb.InvalidInputException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A command whose option values the libraries check under their own names: {@code window} for {@code --window},
 * {@code num_gpus} for {@code --gpus}. Its errors are printed under the option as the user typed it
 * ({@code error: --window: must be at least 1 step, got 0}), while library users keep the library's names.
 */
public interface OptionFields {

    /**
     * Library fields that are not an option's name less its dashes, by the option that sets them here, such as
     * {@code num_gpus -> --gpus}. Empty by default.
     */
    default Map<String, String> fieldOptions() {
        return Map.of();
    }

    /**
     * {@code e} under the option of {@code command} that set the value it names: the one in {@code fieldOptions},
     * else {@code --FIELD} where the command has that option; else {@code e} itself (a file, a JSON path). A
     * {@code fieldOptions} key with an underscore ({@code num_gpus}, never an English word) is renamed in the
     * problem too ({@code is not a multiple of num_gpus M=3}).
     *
     * @param e            the library's error
     * @param command      the command that failed, for its options
     * @param fieldOptions the command's {@link #fieldOptions()}
     * @return the error as the command line reports it
     */
    static InvalidInputException asTyped(InvalidInputException e, CommandSpec command,
                                         Map<String, String> fieldOptions) {
        String option = fieldOptions.get(e.field());
        if (option == null && !e.field().startsWith("-") && command.findOption("--" + e.field()) != null) {
            option = "--" + e.field();
        }
        if (option == null) {
            return e;
        }
        String problem = e.problem();
        for (Map.Entry<String, String> alias : fieldOptions.entrySet()) {
            if (alias.getKey().contains("_")) {
                problem = problem.replaceAll("\\b" + Pattern.quote(alias.getKey()) + "\\b",
                        Matcher.quoteReplacement(alias.getValue()));
            }
        }
        return new InvalidInputException(option, problem, e);
    }
}
