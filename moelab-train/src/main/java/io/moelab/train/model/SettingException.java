package io.moelab.train.model;

/**
 * A training or model setting out of range, named as its command-line option without the dashes ({@code lr},
 * {@code top-k}): the message reads {@code lr must be ...}, and a command line can report the problem under the
 * option itself. A constraint between two settings ({@code d-model} a multiple of {@code heads}) also says the
 * problem of the other one, for a command line where the user gave only that one. A value out of range is kept as
 * a number ({@link #got()}) beside the range it broke ({@link #requirement()}), so that a command line can write it
 * as its user would ({@code got 1}, where the message has Java's {@code got 1.0}) without reading it back from text.
 */
public final class SettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The option's name without dashes. */
    private final String setting;
    /** What is wrong, following the name. */
    private final String problem;
    /** The other option of a constraint between two, or null. */
    private final String other;
    /** The problem said of {@link #other}, or null. */
    private final String otherProblem;
    /** What a value out of range must be, or null. */
    private final String requirement;
    /** The value out of range, or null. */
    private final Number got;

    /**
     * A problem with {@code setting}.
     *
     * @param setting the option's name without dashes
     * @param problem what is wrong, following the name ({@code must be at least 1, got 0})
     */
    public SettingException(String setting, String problem) {
        this(setting, problem, null, null, null, null);
    }

    /**
     * {@code setting}'s value {@code got} out of range: the problem reads {@code REQUIREMENT, got VALUE}.
     *
     * @param setting     the option's name without dashes
     * @param requirement what the value must be, following the name ({@code must be at least 1})
     * @param got         the value, an {@link Integer}, {@link Long} or {@link Double}
     */
    public SettingException(String setting, String requirement, Number got) {
        this(setting, requirement + ", got " + got, null, null, requirement, got);
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
        this(setting, problem, other, otherProblem, null, null);
    }

    private SettingException(String setting, String problem, String other, String otherProblem, String requirement,
                             Number got) {
        super(setting + " " + problem);
        this.setting = setting;
        this.problem = problem;
        this.other = other;
        this.otherProblem = otherProblem;
        this.requirement = requirement;
        this.got = got;
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

    /**
     * What the value must be ({@code must be at least 1}), where the problem is a value out of range; else null.
     * The problem is then {@code requirement() + ", got " + got()}.
     */
    public String requirement() {
        return requirement;
    }

    /** The value out of range, as the setting's type has it; null where the problem is not one value's. */
    public Number got() {
        return got;
    }
}
