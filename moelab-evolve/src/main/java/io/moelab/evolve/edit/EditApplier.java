package io.moelab.evolve.edit;

import io.moelab.evolve.edit.BlockOutcome.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Applies SEARCH/REPLACE blocks to a program, one after another, each against the program as the earlier ones
 * left it. A block's SEARCH text must match whole lines at exactly one place; it is compared exactly first, then
 * ignoring trailing whitespace, then ignoring indentation (see {@link MatchKind}), and the first comparison that
 * matches anywhere decides. A block that matches several places is not applied to any of them, unless edits
 * are restricted to the EVOLVE-BLOCK regions and exactly one of the places lies inside one (the others could not
 * be changed anyway). When so restricted, a program without markers may gain them only as balanced, unnested
 * pairs. Every block that does not apply gets a one-line reason for the next prompt.
 *
 * <p>The program's line endings and final newline are kept; when no block applies the program is returned as it
 * was given.
 */
public final class EditApplier {
    /** Columns a tab counts for when indentation in tabs and spaces must be compared. */
    private static final int TAB = 4;
    /** Places listed in an AMBIGUOUS reason before the list is cut short. */
    private static final int LISTED = 8;

    private EditApplier() {
    }

    /**
     * Parses an answer and applies its blocks; the result carries the parser's problems. A block with several
     * divider lines divides where its SEARCH text is in the program (by any of the comparisons), if anywhere.
     */
    public static EditResult applyAnswer(String program, String answer, boolean restrictToEvolveBlocks) {
        List<String> original = Text.lines(program);
        DiffParser.ParseReport report = DiffParser.parseReport(answer,
                search -> find(original, Text.blockLines(search), List.of()) != null);
        EditResult result = apply(program, report.blocks(), restrictToEvolveBlocks);
        return new EditResult(result.code(), result.outcomes(), report.problems());
    }

    /**
     * Applies blocks in order.
     *
     * @param restrictToEvolveBlocks when true and the program has EVOLVE-BLOCK markers, only lines strictly inside
     *                               one region may change; a SEARCH that matches several places is then applied
     *                               when exactly one of them lies inside a region; a program without markers
     *                               may change anywhere, but a block that would leave it a lone or nested marker
     *                               is refused ({@link Status#MALFORMED_MARKERS})
     * @throws EditException when restricting and the program's markers are malformed
     */
    public static EditResult apply(String program, List<EditBlock> blocks, boolean restrictToEvolveBlocks) {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(blocks, "blocks");
        List<String> lines = Text.lines(program);
        List<BlockOutcome> outcomes = new ArrayList<>();
        boolean any = false;
        for (EditBlock block : blocks) {
            BlockOutcome o = applyOne(lines, block, restrictToEvolveBlocks);
            any |= o.applied();
            outcomes.add(o);
        }
        String code = any ? Text.join(lines, Text.eol(program), Text.endsWithNewline(program)) : program;
        return new EditResult(code, outcomes, List.of());
    }

    /** Where a SEARCH text matched, how, and the SEARCH and REPLACE lines that go with that comparison. */
    private record Match(MatchKind kind, List<Integer> starts, List<String> search, List<String> replace) {
    }

    private static BlockOutcome applyOne(List<String> lines, EditBlock block, boolean restrict) {
        int no = block.index() + 1;
        if (block.search().isBlank()) {
            return failed(block, Status.EMPTY_SEARCH, null, -1, "block " + no + ": the SEARCH text is empty; "
                    + "quote the lines to change (to insert code, quote the line before it and repeat it in REPLACE)");
        }
        if (block.search().equals(block.replace())) {
            return failed(block, Status.NO_CHANGE, null, -1,
                    "block " + no + ": SEARCH and REPLACE are the same, so it changes nothing");
        }
        List<String> search = Text.blockLines(block.search());
        List<String> replace = Text.blockLines(block.replace());
        List<int[]> regions = restrict ? EvolveBlocks.regions(lines) : List.of();
        if (!regions.isEmpty() && replace.stream().anyMatch(EvolveBlocks::isMarker)) {
            return failed(block, Status.OUTSIDE_EVOLVE_BLOCK, null, -1, "block " + no + ": the REPLACE text holds an "
                    + "EVOLVE-BLOCK marker; markers must stay as they are, change only the code between them");
        }
        Match m = find(lines, search, replace);
        if (m == null) {
            return failed(block, Status.NOT_FOUND, null, -1, notFound(lines, trimBlank(search), no));
        }
        int k = m.search().size();
        List<Integer> candidates = m.starts();
        if (!regions.isEmpty()) {
            List<Integer> inside = candidates.stream()
                    .filter(s -> EvolveBlocks.inside(regions, s, s + k)).toList();
            if (inside.isEmpty()) {
                int first = candidates.getFirst();
                String where = candidates.size() == 1
                        ? "matches " + Text.span(first + 1, first + k)
                        : "matches only " + places(candidates);
                return failed(block, Status.OUTSIDE_EVOLVE_BLOCK, m.kind(), first + 1, "SEARCH text of block " + no
                        + " " + where + ", outside the EVOLVE-BLOCK regions (" + regionList(regions)
                        + "); change only code between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END");
            }
            candidates = inside;
        }
        if (candidates.size() > 1) {
            return failed(block, Status.AMBIGUOUS, m.kind(), -1, "SEARCH text of block " + no + " matches "
                    + candidates.size() + " places (" + places(candidates) + ")"
                    + (regions.isEmpty() ? "" : " inside the EVOLVE-BLOCK regions")
                    + "; add context lines so that it matches one");
        }
        int start = candidates.getFirst();
        List<String> target = lines.subList(start, start + k);
        List<String> replacement = m.kind() == MatchKind.INDENTATION
                ? reindent(m.replace(), m.search(), lines, start)
                : m.replace();
        if (replacement.equals(target)) {
            return failed(block, Status.NO_CHANGE, m.kind(), start + 1, "block " + no + ": REPLACE equals "
                    + Text.span(start + 1, start + k) + " as they are, so it changes nothing");
        }
        if (restrict && replacement.stream().anyMatch(EvolveBlocks::isMarker)) {
            // Only a program without markers gets here (with regions a marker in REPLACE was refused above). The
            // markers it gains must pair up: a lone or nested one would make every later restricted edit of this
            // program fail on its markers instead of being refused with a reason.
            List<String> edited = new ArrayList<>(lines.subList(0, start));
            edited.addAll(replacement);
            edited.addAll(lines.subList(start + k, lines.size()));
            try {
                EvolveBlocks.regions(edited);
            } catch (EditException e) {
                return failed(block, Status.MALFORMED_MARKERS, m.kind(), start + 1, "block " + no + ": after it, "
                        + e.getMessage() + "; add EVOLVE-BLOCK-START and EVOLVE-BLOCK-END lines only in pairs, "
                        + "one region closed before the next opens");
            }
        }
        target.clear();
        target.addAll(replacement);
        return new BlockOutcome(block, Status.APPLIED, m.kind(), start + 1, null);
    }

    private static BlockOutcome failed(EditBlock b, Status s, MatchKind kind, int line, String reason) {
        return new BlockOutcome(b, s, kind, line, reason);
    }

    /** Tries the comparisons from strictest to loosest; null when none matches anywhere. */
    private static Match find(List<String> lines, List<String> search, List<String> replace) {
        List<Integer> exact = starts(lines, search, UnaryOperator.identity());
        if (!exact.isEmpty()) {
            return new Match(MatchKind.EXACT, exact, search, replace);
        }
        // Blank lines the model added or dropped at the ends of SEARCH are not worth failing for. The same number
        // of blank lines comes off the ends of REPLACE, when it has them, since the model usually copied them there.
        int lead = leadingBlank(search);
        int trail = leadingBlank(search.reversed());
        List<String> s = search.subList(lead, search.size() - trail);
        List<String> r = replace.subList(Math.min(lead, leadingBlank(replace)), replace.size());
        r = r.subList(0, r.size() - Math.min(trail, leadingBlank(r.reversed())));
        List<Integer> ws = starts(lines, s, String::stripTrailing);
        if (!ws.isEmpty()) {
            return new Match(MatchKind.WHITESPACE, ws, s, r);
        }
        List<Integer> ind = starts(lines, s, String::strip);
        return ind.isEmpty() ? null : new Match(MatchKind.INDENTATION, ind, s, r);
    }

    /** Start indices where every line of {@code search} equals the program line, both mapped by {@code norm}. */
    private static List<Integer> starts(List<String> lines, List<String> search, UnaryOperator<String> norm) {
        List<Integer> out = new ArrayList<>();
        int k = search.size();
        if (k == 0) {
            return out;
        }
        List<String> p = lines.stream().map(norm).toList();
        List<String> s = search.stream().map(norm).toList();
        for (int i = 0; i + k <= p.size(); i++) {
            int j = 0;
            while (j < k && p.get(i + j).equals(s.get(j))) {
                j++;
            }
            if (j == k) {
                out.add(i);
            }
        }
        return out;
    }

    private static int leadingBlank(List<String> lines) {
        int n = 0;
        while (n < lines.size() && lines.get(n).isBlank()) {
            n++;
        }
        return n;
    }

    private static List<String> trimBlank(List<String> lines) {
        int lead = leadingBlank(lines);
        return lines.subList(lead, lines.size() - leadingBlank(lines.reversed()));
    }

    /**
     * Re-indents REPLACE lines matched ignoring indentation: each line keeps its indentation relative to the
     * SEARCH's first non-blank line, on top of the indentation of the program line that one matched, written in
     * the program's style (tabs or spaces).
     */
    private static List<String> reindent(List<String> replace, List<String> search, List<String> lines, int at) {
        // The SEARCH lines here have no blank lines at their ends (find() took them off), so the first is code.
        String searchIndent = Text.indent(search.getFirst());
        String programIndent = Text.indent(lines.get(at));
        boolean tabs = programIndent.isEmpty() ? prefersTabs(lines) : programIndent.indexOf('\t') >= 0;
        int unit = indentUnit(search, replace);
        // Each SEARCH line's indentation stands for the indentation of the program line it matched. Column deltas
        // alone broke programs whose step differs from the model's: in a four-space program a line the model
        // dedented by its two-space step landed at six spaces, which is no level of the program at all.
        Map<Integer, String> known = new HashMap<>();
        int lo = Integer.MAX_VALUE;
        int hi = -1;
        for (int j = 0; j < search.size(); j++) {
            if (!search.get(j).isBlank()) {
                int w = Text.width(Text.indent(search.get(j)), TAB);
                known.putIfAbsent(w, Text.indent(lines.get(at + j)));
                lo = Math.min(lo, w);
                hi = Math.max(hi, w);
            }
        }
        // Other widths scale by the program's columns per model column, as the two outermost SEARCH indentations
        // give it, when the program indents those lines with spaces; tabs are counted in the model's steps below.
        boolean scale = hi > lo && known.get(lo).indexOf('\t') < 0 && known.get(hi).indexOf('\t') < 0;
        List<String> out = new ArrayList<>(replace.size());
        for (String line : replace) {
            if (line.isBlank()) {
                out.add("");
                continue;
            }
            String indent = Text.indent(line);
            String body = line.substring(indent.length());
            int width = Text.width(indent, TAB);
            int delta = width - Text.width(searchIndent, TAB);
            String prefix;
            if (known.containsKey(width)) {
                prefix = known.get(width);
            } else if (scale) {
                int pLo = known.get(lo).length();
                double cols = pLo + (double) (width - lo) * (known.get(hi).length() - pLo) / (hi - lo);
                prefix = " ".repeat((int) Math.max(0, Math.round(cols)));
            } else if (indent.startsWith(searchIndent)) {
                prefix = programIndent + restyle(indent.substring(searchIndent.length()), tabs, unit);
            } else if (delta >= 0) {
                prefix = programIndent + restyle(" ".repeat(delta), tabs, unit);
            } else {
                prefix = dedent(programIndent, -delta, unit);
            }
            out.add(prefix + body);
        }
        return out;
    }

    /** Whether more of the program's indented lines start with a tab than with a space. */
    private static boolean prefersTabs(List<String> lines) {
        int tabs = 0;
        int spaces = 0;
        for (String l : lines) {
            if (l.startsWith("\t")) {
                tabs++;
            } else if (l.startsWith(" ")) {
                spaces++;
            }
        }
        return tabs > spaces;
    }

    /** The model's indentation step in columns: the gcd of the indentation widths it used, or 4 if none. */
    private static int indentUnit(List<String> search, List<String> replace) {
        int g = 0;
        for (List<String> part : List.of(search, replace)) {
            for (String l : part) {
                if (!l.isBlank()) {
                    g = gcd(g, Text.width(Text.indent(l), TAB));
                }
            }
        }
        return g == 0 ? TAB : g;
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Extra indentation written in the program's style: one tab per step when it uses tabs, else spaces. */
    private static String restyle(String extra, boolean tabs, int unit) {
        if (tabs) {
            if (extra.indexOf(' ') < 0) {
                return extra;
            }
            int cols = Text.width(extra, unit);
            return "\t".repeat(cols / unit) + " ".repeat(cols % unit);
        }
        return extra.indexOf('\t') < 0 ? extra : extra.replace("\t", " ".repeat(TAB));
    }

    /** The program's indentation less {@code cols} of the model's columns: whole tabs or single spaces. */
    private static String dedent(String indent, int cols, int unit) {
        int end = indent.length();
        int left = cols;
        while (left > 0 && end > 0) {
            left -= indent.charAt(end - 1) == '\t' ? unit : 1;
            end--;
        }
        return indent.substring(0, end);
    }

    /**
     * A reason naming the program lines most like the SEARCH text: the window of as many lines with the most
     * equal non-blank stripped lines at the same positions, and its first differing line.
     */
    private static String notFound(List<String> lines, List<String> search, int no) {
        String head = "SEARCH text of block " + no + " not found";
        int n = lines.size();
        int k = search.size();
        if (n == 0) {
            return head + "; the program is empty";
        }
        List<String> p = lines.stream().map(String::strip).toList();
        List<String> s = search.stream().map(String::strip).toList();
        int w = Math.min(n, k);
        int best = 0;
        int bestAt = 0;
        for (int i = 0; i + w <= n; i++) {
            int score = 0;
            for (int j = 0; j < w; j++) {
                if (!s.get(j).isEmpty() && s.get(j).equals(p.get(i + j))) {
                    score++;
                }
            }
            if (score > best) {
                best = score;
                bestAt = i;
            }
        }
        if (best == 0) {
            String firstLine = s.stream().filter(x -> !x.isEmpty()).findFirst().orElse("");
            int like = mostSimilar(p, firstLine);
            return head + "; no program lines line up with it. Its first line `" + Text.quote(firstLine)
                    + "` is most like line " + (like + 1) + " `" + Text.quote(p.get(like))
                    + "`; copy the lines to change exactly from the current program";
        }
        int diff = 0;
        while (diff < w && s.get(diff).equals(p.get(bestAt + diff))) {
            diff++;
        }
        if (diff == w) {
            return head + "; it has " + k + " lines but the program only " + n;
        }
        return head + "; closest " + Text.span(bestAt + 1, bestAt + w) + " (" + best + " of " + k
                + " lines equal) differ at line " + (bestAt + diff + 1) + ": expected `" + Text.quote(s.get(diff))
                + "` but the program has `" + Text.quote(p.get(bestAt + diff)) + "`";
    }

    /** Index of the line sharing the longest common prefix plus suffix with {@code target}; first on ties. */
    private static int mostSimilar(List<String> lines, String target) {
        int best = -1;
        int bestAt = 0;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            int max = Math.min(l.length(), target.length());
            int pre = 0;
            while (pre < max && l.charAt(pre) == target.charAt(pre)) {
                pre++;
            }
            int suf = 0;
            while (suf < max - pre && l.charAt(l.length() - 1 - suf) == target.charAt(target.length() - 1 - suf)) {
                suf++;
            }
            if (pre + suf > best) {
                best = pre + suf;
                bestAt = i;
            }
        }
        return bestAt;
    }

    /** "lines 10, 52, 90" for 0-based starts, cut short after a few. */
    private static String places(List<Integer> starts) {
        StringBuilder sb = new StringBuilder("lines ");
        for (int i = 0; i < starts.size() && i < LISTED; i++) {
            sb.append(i == 0 ? "" : ", ").append(starts.get(i) + 1);
        }
        if (starts.size() > LISTED) {
            sb.append(", ...");
        }
        return sb.toString();
    }

    /** The regions' lines, 1-based, such as "lines 3-20, 31-40". */
    private static String regionList(List<int[]> regions) {
        StringBuilder sb = new StringBuilder("lines ");
        for (int i = 0; i < regions.size(); i++) {
            int[] r = regions.get(i);
            sb.append(i == 0 ? "" : ", ").append(r[0] + 1).append('-').append(r[1]);
        }
        return sb.toString();
    }
}
