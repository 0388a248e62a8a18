package io.moelab.runtime;

import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.exc.StreamReadException;

/** One-line descriptions of JSON that does not parse, for error messages that name the file themselves. */
public final class JsonProblems {
    /**
     * Jackson's clause for an object or array cut short, {@code (start marker at [Source: REDACTED
     * (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); byte offset: #UNKNOWN])}: it names the parser's
     * settings, not the file.
     */
    private static final Pattern START_MARKER = Pattern.compile("\\s*\\(start marker at \\[Source:[^\\]]*]\\)");
    private static final int MOST_CHARS = 200;
    /** Where a limit's message names the setting that holds it, {@code , from `StreamReadConstraints.getX()`}. */
    private static final Pattern SETTING = Pattern.compile(", from `[^`]*`");

    private JsonProblems() {
    }

    /**
     * The parser's problem in one bounded line: Jackson's original message without its source clause or the name of
     * a limit's setting, whitespace runs as one space, at most 200 characters.
     *
     * @return e.g. {@code Unexpected end-of-input: expected close marker for Object}
     */
    public static String describe(JacksonException e) {
        String m = e.getOriginalMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        m = SETTING.matcher(START_MARKER.matcher(m).replaceAll("")).replaceAll("").replaceAll("\\s+", " ").strip();
        return m.length() > MOST_CHARS ? m.substring(0, MOST_CHARS) + "..." : m;
    }

    /**
     * The key an object repeats when {@code e} is the parser's {@link StreamReadFeature#STRICT_DUPLICATE_DETECTION},
     * else null. The files moelab writes never repeat a key, so a repeat is an edit whose meaning cannot be known
     * (Jackson otherwise keeps the last value without a word).
     */
    public static String duplicateKey(JacksonException e) {
        if (e instanceof StreamReadException read && read.processor() instanceof JsonParser p
                && String.valueOf(e.getOriginalMessage()).startsWith("Duplicate")) {
            return p.streamReadContext().currentName();
        }
        return null;
    }

    /**
     * {@code duplicate key "NAME" (line N)} when {@code e} is the parser's refusal of a repeated key (see
     * {@link #duplicateKey}), else null.
     */
    public static String duplicate(JacksonException e) {
        String key = duplicateKey(e);
        return key == null ? null : "duplicate key \"" + key + "\""
                + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")");
    }
}
