package io.moelab.evolve.edit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Reads the SEARCH/REPLACE blocks of a model's answer:
 *
 * <pre>
 * &lt;&lt;&lt;&lt;&lt;&lt;&lt; SEARCH
 * lines to find
 * =======
 * lines to put there
 * &gt;&gt;&gt;&gt;&gt;&gt;&gt; REPLACE
 * </pre>
 *
 * <p>Models are sloppy with the markers, so 5 to 9 marker characters, surrounding whitespace and any letter case
 * are accepted, blocks may sit inside or outside code fences, and CRLF answers read like LF ones. A block that
 * lacks its divider or REPLACE line is skipped with a problem message; the blocks around it still parse.
 */
public final class DiffParser {
    private static final Pattern SEARCH = Pattern.compile("^\\s*<{5,9}\\s*SEARCH\\s*$", Pattern.CASE_INSENSITIVE);
    private static final Pattern DIVIDER = Pattern.compile("^\\s*={5,9}\\s*$");
    private static final Pattern REPLACE = Pattern.compile("^\\s*>{5,9}\\s*REPLACE\\s*$", Pattern.CASE_INSENSITIVE);

    private DiffParser() {
    }

    /**
     * The blocks of an answer and the problems met reading it.
     *
     * @param blocks   the well-formed blocks, in answer order
     * @param problems one line per skipped block or stray marker; also one when the answer has no block at all
     */
    public record ParseReport(List<EditBlock> blocks, List<String> problems) {
        /** Copies the lists. */
        public ParseReport {
            blocks = List.copyOf(blocks);
            problems = List.copyOf(problems);
        }
    }

    /** The well-formed blocks of an answer, in order; malformed ones are left out silently. */
    public static List<EditBlock> parse(String answer) {
        return parseReport(answer).blocks();
    }

    /** The well-formed blocks of an answer and a message for each malformed one. */
    public static ParseReport parseReport(String answer) {
        Objects.requireNonNull(answer, "answer");
        List<EditBlock> blocks = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<String> lines = answer.lines().toList();

        // State: 0 outside a block, 1 reading SEARCH lines, 2 reading REPLACE lines.
        int state = 0;
        int started = 0; // SEARCH lines seen so far: the current block's number
        int startLine = 0;
        List<String> search = new ArrayList<>();
        List<String> replace = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int lineNo = i + 1;
            if (SEARCH.matcher(line).matches()) {
                if (state != 0) {
                    problems.add(missing(state, started, startLine));
                }
                started++;
                startLine = lineNo;
                search.clear();
                replace.clear();
                state = 1;
            } else if (state == 1 && DIVIDER.matcher(line).matches()) {
                state = 2;
            } else if (REPLACE.matcher(line).matches()) {
                if (state == 2) {
                    blocks.add(new EditBlock(started - 1, String.join("\n", search), String.join("\n", replace)));
                } else if (state == 1) {
                    problems.add("block " + started + ": no '=======' line between the SEARCH at answer line "
                            + startLine + " and the REPLACE at line " + lineNo + " (block skipped)");
                } else {
                    problems.add("answer line " + lineNo
                            + ": '>>>>>>> REPLACE' without a '<<<<<<< SEARCH' line before it (ignored)");
                }
                state = 0;
            } else if (state == 1) {
                search.add(line);
            } else if (state == 2) {
                // A second divider here is taken as REPLACE content: the model may be writing such a line.
                replace.add(line);
            }
        }
        if (state != 0) {
            problems.add(missing(state, started, startLine));
        }
        if (blocks.isEmpty() && problems.isEmpty()) {
            problems.add("the answer has no SEARCH/REPLACE block; write each change as '<<<<<<< SEARCH', "
                    + "the current lines, '=======', the new lines, '>>>>>>> REPLACE'");
        }
        return new ParseReport(blocks, problems);
    }

    private static String missing(int state, int block, int startLine) {
        String marker = state == 1 ? "'======='" : "'>>>>>>> REPLACE'";
        return "block " + block + ": no " + marker + " line after the SEARCH at answer line " + startLine
                + " (block skipped)";
    }
}
