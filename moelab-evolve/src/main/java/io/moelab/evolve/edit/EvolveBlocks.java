package io.moelab.evolve.edit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The EVOLVE-BLOCK markers that fence the parts of a program a model may change. A marker line is any line
 * containing the marker text, so it can sit in a comment of any language ({@code // EVOLVE-BLOCK-START},
 * {@code # EVOLVE-BLOCK-END}). Regions must be balanced and must not nest.
 */
public final class EvolveBlocks {
    /** Text that marks the line before a region. */
    public static final String START = "EVOLVE-BLOCK-START";
    /** Text that marks the line after a region. */
    public static final String END = "EVOLVE-BLOCK-END";

    private EvolveBlocks() {
    }

    /**
     * The regions of a program as {@code {first, after}} 0-based indices into {@code code.lines()}: the region's
     * content is lines {@code [first, after)}, strictly between its marker lines. Empty when there are no markers.
     *
     * @throws EditException when a marker is unmatched or regions nest
     */
    public static List<int[]> regions(String code) {
        Objects.requireNonNull(code, "code");
        return regions(code.lines().toList());
    }

    static List<int[]> regions(List<String> lines) {
        List<int[]> out = new ArrayList<>();
        int open = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            boolean start = line.contains(START);
            boolean end = line.contains(END);
            if (start && end) {
                throw new EditException("line " + (i + 1) + " holds both " + START + " and " + END);
            }
            if (start) {
                if (open >= 0) {
                    throw new EditException(START + " at line " + (i + 1) + " is nested in the region opened at line "
                            + (open + 1) + "; close each region with " + END + " first");
                }
                open = i;
            } else if (end) {
                if (open < 0) {
                    throw new EditException(END + " at line " + (i + 1) + " has no " + START + " before it");
                }
                out.add(new int[] {open + 1, i});
                open = -1;
            }
        }
        if (open >= 0) {
            throw new EditException(START + " at line " + (open + 1) + " has no " + END + " after it");
        }
        return out;
    }

    /** Whether lines {@code [from, to)} lie inside one region. */
    static boolean inside(List<int[]> regions, int from, int to) {
        for (int[] r : regions) {
            if (r[0] <= from && to <= r[1]) {
                return true;
            }
        }
        return false;
    }

    /** Whether a line is a marker line. */
    static boolean isMarker(String line) {
        return line.contains(START) || line.contains(END);
    }

    /**
     * Puts a full rewrite's region contents into the original program's regions, so that code outside the markers
     * cannot change however the model rewrote it. The original's line endings and final newline are kept.
     *
     * @return the rewrite itself when the original has no markers, else the original with new region contents
     * @throws EditException when either program's markers are malformed (the rewrite's also when the original has
     *                       none) or their region counts differ
     */
    public static String splice(String original, String rewrite) {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(rewrite, "rewrite");
        List<String> orig = Text.lines(original);
        List<int[]> origRegions = regions(orig);
        List<String> rew = Text.lines(rewrite);
        // Checked also when the original has none: a lone or nested marker the rewrite adds would make every
        // later splice into this program fail.
        List<int[]> rewRegions = regions(rew);
        if (origRegions.isEmpty()) {
            return rewrite;
        }
        if (rewRegions.size() != origRegions.size()) {
            throw new EditException("the rewrite has " + rewRegions.size() + " " + START + "/" + END
                    + " pair(s) but the program has " + origRegions.size()
                    + "; keep every marker line of the program and change code only between them");
        }
        List<String> out = new ArrayList<>();
        int next = 0;
        for (int r = 0; r < origRegions.size(); r++) {
            int[] o = origRegions.get(r);
            int[] w = rewRegions.get(r);
            out.addAll(orig.subList(next, o[0]));
            out.addAll(rew.subList(w[0], w[1]));
            next = o[1];
        }
        out.addAll(orig.subList(next, orig.size()));
        return Text.join(out, Text.eol(original), Text.endsWithNewline(original));
    }
}
