package io.moelab.evolve.edit;

import java.util.Objects;
import java.util.Optional;

/** Takes the program out of a full-rewrite answer, which should hold it in a fenced code block. */
public final class CodeExtractor {
    private CodeExtractor() {
    }

    /**
     * The longest fenced code block whose info string names {@code language} (ignoring case), or failing that
     * the longest fenced block of any or no language. Fences are three or more backticks or tildes, closed by at
     * least as many of the same character; a block left open at the end of the answer is ignored, since a cut-off
     * program is not one to evaluate. The code is kept as written, except that it ends with exactly one newline.
     *
     * @param language the wanted language, such as {@code python}; null accepts any
     * @return the program, or empty when the answer has no complete, non-blank fenced block
     */
    public static Optional<String> program(String answer, String language) {
        Objects.requireNonNull(answer, "answer");
        String bestNamed = null;
        String bestAny = null;
        int pos = 0;
        char fenceChar = 0;
        int fenceLen = 0;
        String info = null;
        int contentStart = -1;
        while (pos < answer.length()) {
            int nl = answer.indexOf('\n', pos);
            int lineEnd = nl < 0 ? answer.length() : nl;
            int next = nl < 0 ? answer.length() : nl + 1;
            String line = answer.substring(pos, lineEnd).strip();
            if (contentStart < 0) {
                int n = run(line);
                if (n >= 3) {
                    String rest = line.substring(n).strip();
                    // A backtick in the info string means inline code, not a fence (as in CommonMark).
                    if (line.charAt(0) != '`' || rest.indexOf('`') < 0) {
                        fenceChar = line.charAt(0);
                        fenceLen = n;
                        info = rest.isEmpty() ? "" : rest.split("\\s+", 2)[0];
                        contentStart = next;
                    }
                }
            } else {
                int n = run(line);
                if (n >= fenceLen && n == line.length() && line.charAt(0) == fenceChar) {
                    String code = normalize(answer.substring(contentStart, pos));
                    if (!code.isBlank()) {
                        if (language != null && info.equalsIgnoreCase(language) && longer(code, bestNamed)) {
                            bestNamed = code;
                        }
                        if (longer(code, bestAny)) {
                            bestAny = code;
                        }
                    }
                    contentStart = -1;
                }
            }
            pos = next;
        }
        return Optional.ofNullable(bestNamed != null ? bestNamed : bestAny);
    }

    /** Length of the run of backticks or tildes that starts the line; 0 when it starts with neither. */
    private static int run(String line) {
        if (line.isEmpty() || (line.charAt(0) != '`' && line.charAt(0) != '~')) {
            return 0;
        }
        char c = line.charAt(0);
        int n = 0;
        while (n < line.length() && line.charAt(n) == c) {
            n++;
        }
        return n;
    }

    private static boolean longer(String code, String best) {
        return best == null || code.length() > best.length();
    }

    /** Drops trailing line breaks and ends with one, in the block's own line ending. */
    private static String normalize(String code) {
        int end = code.length();
        while (end > 0 && (code.charAt(end - 1) == '\n' || code.charAt(end - 1) == '\r')) {
            end--;
        }
        return code.substring(0, end) + (code.contains("\r\n") ? "\r\n" : "\n");
    }
}
