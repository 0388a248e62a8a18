package io.moelab.eplb;

import java.io.Serial;

/**
 * Input that cannot be used: malformed, inconsistent or out of range. The message always starts with the
 * offending field (a JSON path such as {@code weight[3][7]}, a file name, or a parameter such as
 * {@code num_gpus}), so a command line can print it as a single {@code error:} line and exit with code 2.
 */
public class InvalidInputException extends IllegalArgumentException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String field;

    /**
     * @param field   what is wrong: a parameter name, JSON path or file
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

    /** The offending field, parameter or file. */
    public String field() {
        return field;
    }
}
