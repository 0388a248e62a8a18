package io.moelab.evolve.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;

/** One line for a YAML or JSON file that does not parse: what the parser expected, and where. */
public final class YamlErrors {
    private static final Pattern WHERE = Pattern.compile("line (\\d+), column (\\d+)");
    /**
     * Jackson's clause for an object or array cut short, {@code (start marker at [Source: REDACTED
     * (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); byte offset: #UNKNOWN])}: names the parser's settings,
     * not the file.
     */
    private static final Pattern START_MARKER = Pattern.compile("\\s*\\(start marker at \\[Source:[^\\]]*]\\)");

    private YamlErrors() {
    }

    /**
     * The parser's problem in one line. SnakeYAML's message is several lines, context first ("while parsing a flow
     * node") and the problem after an excerpt of the file; the first line alone said nothing of what was wrong.
     *
     * @param e what reading the YAML threw
     * @return e.g. {@code while parsing a flow node: expected the node content, but found '<stream end>' (line 2,
     *         column 1)}
     */
    public static String describe(Exception e) {
        String message = e instanceof JacksonException j ? withoutSource(j.getOriginalMessage()) : e.getMessage();
        if (message == null) {
            return e.getClass().getSimpleName();
        }
        if (e instanceof MismatchedInputException m && message.startsWith("Trailing token")
                && m.getLocation() != null) {
            // Jackson's words named its own setting (FAIL_ON_TRAILING_TOKENS), not the file's second document.
            return "a second document begins at line " + m.getLocation().getLineNr() + ", column "
                    + m.getLocation().getColumnNr() + " (after ---): the file must hold one";
        }
        StringBuilder out = new StringBuilder();
        for (String line : message.lines().toList()) {
            // Excerpts and markers are indented; "in reader, line..." repeats the location found below.
            if (line.isBlank() || Character.isWhitespace(line.charAt(0))) {
                continue;
            }
            out.append(out.isEmpty() ? "" : ": ").append(line.strip());
        }
        Matcher where = WHERE.matcher(message);
        if (where.find()) {
            out.append(" (line ").append(where.group(1)).append(", column ").append(where.group(2)).append(')');
        } else if (e instanceof JacksonException j && j.getLocation() != null && j.getLocation().getLineNr() > 0) {
            // Jackson's own problems (a duplicate key) keep the location out of the original message.
            out.append(" (line ").append(j.getLocation().getLineNr()).append(", column ")
                    .append(j.getLocation().getColumnNr()).append(')');
        }
        return out.toString();
    }

    /**
     * A JSON parser's problem in one line: Jackson's original message without its {@code [Source: REDACTED ...]}
     * clause, whitespace runs as one space.
     *
     * @return e.g. {@code Unexpected end-of-input: expected close marker for Object}
     */
    public static String jsonProblem(JacksonException e) {
        String message = withoutSource(e.getOriginalMessage());
        return message == null ? e.getClass().getSimpleName() : message.replaceAll("\\s+", " ").strip();
    }

    /**
     * Whether {@code e} is the parser's refusal of a key repeated in one object
     * ({@link StreamReadFeature#STRICT_DUPLICATE_DETECTION}): never a file cut short, always one edited.
     */
    public static boolean duplicateKey(JacksonException e) {
        return e instanceof StreamReadException && String.valueOf(e.getOriginalMessage()).startsWith("Duplicate ");
    }

    private static String withoutSource(String message) {
        return message == null ? null : START_MARKER.matcher(message).replaceAll("");
    }
}
