package io.moelab.train.model;

/**
 * A training or model setting out of range, named as its command-line option without the dashes ({@code lr},
 * {@code top-k}): the message reads {@code lr must be ...}, and a command line can report the problem under the
 * option itself.
 */
public final class SettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String setting;
    private final String problem;

    /**
     * A problem with {@code setting}.
     *
     * @param setting the option's name without dashes
     * @param problem what is wrong, following the name ({@code must be at least 1, got 0})
     */
    public SettingException(String setting, String problem) {
        super(setting + " " + problem);
        this.setting = setting;
        this.problem = problem;
    }

    /** The setting's name, as its option without dashes. */
    public String setting() {
        return setting;
    }

    /** What is wrong with it. */
    public String problem() {
        return problem;
    }
}
