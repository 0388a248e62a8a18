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

    /**
     * This error as found in {@code source} (a file): itself where its message already starts with the source,
     * else a new one whose field is the source, so that a field such as {@code phy2log[0]} is not mistaken for one
     * of another file.
     */
    public InvalidInputException in(String source) {
        return getMessage().startsWith(source + ": ") ? this : new InvalidInputException(source, getMessage(), this);
    }

    /** The offending field, parameter or file. */
    public String field() {
        return field;
    }
}
