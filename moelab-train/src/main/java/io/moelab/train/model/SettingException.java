package io.moelab.train.model;

/**
 * A training or model setting out of range, named as its command-line option without the dashes ({@code lr},
 * {@code top-k}): the message reads {@code lr must be ...}, and a command line can report the problem under the
 * option itself. A constraint between two settings ({@code d-model} a multiple of {@code heads}) also says the
 * problem of the other one, for a command line where the user gave only that one.
 */
public final class SettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String setting;
    private final String problem;
    private final String other;
    private final String otherProblem;

    /**
     * A problem with {@code setting}.
     *
     * @param setting the option's name without dashes
     * @param problem what is wrong, following the name ({@code must be at least 1, got 0})
     */
    public SettingException(String setting, String problem) {
        this(setting, problem, null, null);
    }

    /**
     * A constraint between {@code setting} and {@code other} broken.
     *
     * @param setting      the option's name without dashes
     * @param problem      what is wrong, following the name ({@code 30 is not a multiple of heads 4})
     * @param other        the other option's name without dashes
     * @param otherProblem the same problem said of {@code other} ({@code 4 does not divide d-model 30})
     */
    public SettingException(String setting, String problem, String other, String otherProblem) {
        super(setting + " " + problem);
        this.setting = setting;
        this.problem = problem;
        this.other = other;
        this.otherProblem = otherProblem;
    }

    /** The setting's name, as its option without dashes. */
    public String setting() {
        return setting;
    }

    /** What is wrong with it. */
    public String problem() {
        return problem;
    }

    /** The other setting of a constraint between two, as its option without dashes; null for one setting's. */
    public String other() {
        return other;
    }

    /** What is wrong, said of {@link #other()}; null for one setting's problem. */
    public String otherProblem() {
        return otherProblem;
    }
}
