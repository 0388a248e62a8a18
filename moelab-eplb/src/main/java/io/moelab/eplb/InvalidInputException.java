package io.moelab.eplb;

import java.io.Serial;
import java.util.HashSet;
import java.util.List;

/**
 * Input that cannot be used: malformed, inconsistent or out of range. The message always starts with the
 * offending field (a JSON path such as {@code weight[3][7]}, a file name, or a parameter such as
 * {@code num_gpus}), so a command line can print it as a single {@code error:} line and exit with code 2.
 */
public class InvalidInputException extends IllegalArgumentException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The input at fault, as the message starts with it. */
    private final String field;

    /**
     * Reports a problem with one input.
     *
     * @param field   the input at fault: a parameter name, JSON path or file
     * @param problem what is wrong with it, without the field name
     */
    public InvalidInputException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    /** Same, keeping the low-level cause for {@code --verbose} output. */
    public InvalidInputException(String field, String problem, Throwable cause) {
        super(field + ": " + problem, cause);
        this.field = field;
    }

    /**
     * This error as found in {@code source} (a file): itself where its message already starts with the source,
     * else a new one whose field is the source, so that a field such as {@code phy2log[0]} is not mistaken for one
     * of another file.
     */
    public InvalidInputException in(String source) {
        return getMessage().startsWith(source + ": ") ? this : new InvalidInputException(source, getMessage(), this);
    }

    /**
     * The same problem under another field: a command-line option that set the value a library checked under its
     * own name (a configuration key, a record component).
     */
    public InvalidInputException as(String otherField) {
        return new InvalidInputException(otherField, problem(), this);
    }

    /** What is wrong, without the field: the message less its {@code "field: "} prefix. */
    public String problem() {
        String message = getMessage();
        return message.startsWith(field + ": ") ? message.substring(field.length() + 2) : message;
    }

    /**
     * Checks that a list given on the command line names nothing twice: results keyed by what the list names (table
     * rows, plot series, JSON) could not tell the two apart, and the work would be done twice.
     *
     * @param field  the list's parameter
     * @param what   one item, for the message ("an algorithm", "a policy", "a value")
     * @param values the list
     * @throws InvalidInputException {@code FIELD: lists WHAT twice: v1,v2,...} if an item repeats
     */
    public static void requireDistinct(String field, String what, List<?> values) {
        if (new HashSet<>(values).size() != values.size()) {
            throw new InvalidInputException(field, "lists " + what + " twice: "
                    + String.join(",", values.stream().map(String::valueOf).toList()));
        }
    }

    /** The offending field, parameter or file. */
    public String field() {
        return field;
    }
}
