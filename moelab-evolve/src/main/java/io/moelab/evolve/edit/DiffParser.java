package io.moelab.evolve.edit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
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
 *
 * <p>A block with several divider lines could divide at any of them: SEARCH may quote a line of equals signs (an
 * underlined heading), and REPLACE may add one. Given the program, the parser takes the last divider whose SEARCH
 * text is in the program; otherwise, and without a program, the first.
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

    /** The well-formed blocks of an answer and a message for each malformed one; each divides at its first divider. */
    public static ParseReport parseReport(String answer) {
        return parseReport(answer, search -> false);
    }

    /**
     * The well-formed blocks of an answer and a message for each malformed one.
     *
     * @param inProgram whether a SEARCH text is in the program: a block with several divider lines divides at the
     *                  last one whose SEARCH text it accepts, or at the first when it accepts none
     */
    public static ParseReport parseReport(String answer, Predicate<String> inProgram) {
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(inProgram, "inProgram");
        List<EditBlock> blocks = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<String> lines = answer.lines().toList();

        // State: 0 outside a block, 1 reading SEARCH lines, 2 reading REPLACE lines.
        int state = 0;
        int started = 0; // SEARCH lines seen so far: the current block's number
        int startLine = 0;
        List<String> search = new ArrayList<>();
        List<String> replace = new ArrayList<>();
        String divider = null;
        List<Integer> laterDividers = new ArrayList<>(); // positions in replace of divider lines after the first
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
                laterDividers.clear();
                state = 1;
            } else if (state == 1 && DIVIDER.matcher(line).matches()) {
                divider = line;
                state = 2;
            } else if (REPLACE.matcher(line).matches()) {
                if (state == 2) {
                    blocks.add(divide(started - 1, search, divider, replace, laterDividers, inProgram));
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
                // A second divider is REPLACE content unless the program says otherwise (see divide).
                if (DIVIDER.matcher(line).matches()) {
                    laterDividers.add(replace.size());
                }
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

    /**
     * The block divided at its first divider, or at the last later one whose SEARCH text is in the program: a
     * SEARCH quoting a line of equals signs was cut there, and the block replaced that line's predecessors with the
     * rest of SEARCH and all of REPLACE.
     */
    private static EditBlock divide(int index, List<String> search, String divider, List<String> replace,
                                    List<Integer> laterDividers, Predicate<String> inProgram) {
        for (int k = laterDividers.size() - 1; k >= 0; k--) {
            int at = laterDividers.get(k);
            List<String> longer = new ArrayList<>(search);
            longer.add(divider);
            longer.addAll(replace.subList(0, at));
            String text = String.join("\n", longer);
            if (inProgram.test(text)) {
                return new EditBlock(index, text, String.join("\n", replace.subList(at + 1, replace.size())));
            }
        }
        return new EditBlock(index, String.join("\n", search), String.join("\n", replace));
    }

    private static String missing(int state, int block, int startLine) {
        String marker = state == 1 ? "'======='" : "'>>>>>>> REPLACE'";
        return "block " + block + ": no " + marker + " line after the SEARCH at answer line " + startLine
                + " (block skipped)";
    }
}
