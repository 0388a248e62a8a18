package io.moelab.evolve.edit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.evolve.edit.BlockOutcome.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

class EditApplierTest {

    private static EditResult apply(String program, String search, String replace) {
        return EditApplier.apply(program, List.of(new EditBlock(0, search, replace)), false);
    }

    private static String block(String search, String replace) {
        return "<<<<<<< SEARCH\n" + search + "\n=======\n" + replace + "\n>>>>>>> REPLACE\n";
    }

    @Test
    void exactMatchReplacesThoseLines() {
        EditResult r = apply("a\nb\nc\nd\n", "b\nc", "B\nC\nC2");
        assertThat(r.code()).isEqualTo("a\nB\nC\nC2\nd\n");
        assertThat(r.outcomes()).singleElement().satisfies(o -> {
            assertThat(o.status()).isEqualTo(Status.APPLIED);
            assertThat(o.match()).isEqualTo(MatchKind.EXACT);
            assertThat(o.line()).isEqualTo(2);
            assertThat(o.reason()).isNull();
        });
        assertThat(r.changed()).isTrue();
        assertThat(r.failures()).isEmpty();
        assertThat(r.feedback()).isEmpty();
    }

    @Test
    void matchesWholeLinesOnly() {
        EditResult r = apply("foo(1)\nbar\n", "foo(1", "x");
        assertThat(r.outcomes().getFirst().status()).isEqualTo(Status.NOT_FOUND);
        assertThat(r.code()).isEqualTo("foo(1)\nbar\n");
    }

    @Test
    void keepsCrlfAndMissingFinalNewline() {
        assertThat(apply("a\r\nb\r\nc", "b", "x\ny").code()).isEqualTo("a\r\nx\r\ny\r\nc");
        assertThat(apply("a\nb", "b", "c").code()).isEqualTo("a\nc");
    }

    @Test
    void trailingWhitespaceAndBlankEdgesAreTolerated() {
        String program = "def f():   \n    x = 1\t\n    return x\n";
        EditResult r = apply(program, "\ndef f():\n    x = 1\n", "\ndef f():\n    x = 2\n");
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.WHITESPACE);
        assertThat(r.code()).isEqualTo("def f():\n    x = 2\n    return x\n");
    }

    @Test
    void indentationTolerantMatchReindentsWithSpaces() {
        String program = """
                class A:
                    def f(self):
                        if x:
                            y = 1
                        return y
                """;
        // The model dropped the method's indentation.
        EditResult r = apply(program, "if x:\n    y = 1\nreturn y", "if x:\n    y = 2\nelse:\n    y = 3\nreturn y");
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.outcomes().getFirst().line()).isEqualTo(3);
        assertThat(r.code()).isEqualTo("""
                class A:
                    def f(self):
                        if x:
                            y = 2
                        else:
                            y = 3
                        return y
                """);
    }

    @Test
    void indentationTolerantMatchKeepsTheProgramsTabs() {
        String program = "int f() {\n\tif (x) {\n\t\ty = 1;\n\t}\n\treturn y;\n}\n";
        // The model turned tabs into four spaces and indented one level too far.
        String search = "        if (x) {\n            y = 1;\n        }";
        String replace = "        if (x) {\n            y = 2;\n            z = 3;\n        }\n    // outer";
        EditResult r = apply(program, search, replace);
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.code())
                .isEqualTo("int f() {\n\tif (x) {\n\t\ty = 2;\n\t\tz = 3;\n\t}\n// outer\n\treturn y;\n}\n");
    }

    @Test
    void twoSpaceStepsBecomeTabsInATabbedProgram() {
        // The SEARCH starts at column 0, so the program's style comes from its lines (tabs); the model indents
        // by two spaces, so each two columns are one tab.
        String program = "int f() {\n\treturn 1;\n}\nint g() {\n\tif (x) {\n\t\ty = 1;\n\t}\n}\n";
        String search = "int g() {\n  if (x) {\n    y = 1;\n  }";
        String replace = "int g() {\n  if (x) {\n    y = 2;\n  }\n  return;";
        EditResult r = apply(program, search, replace);
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.code()).isEqualTo(
                "int f() {\n\treturn 1;\n}\nint g() {\n\tif (x) {\n\t\ty = 2;\n\t}\n\treturn;\n}\n");
    }

    @Test
    void aLineLessIndentedThanTheSearchDropsWholeTabs() {
        // Matched two tabs deep; the closing brace sits one model step (two spaces) left of the SEARCH's first
        // line, which is one tab.
        String program = "class A {\n\tvoid f() {\n\t\tx();\n\t}\n}\n";
        EditResult r = apply(program, "    x();\n  }", "    x();\n    y();\n  }");
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.code()).isEqualTo("class A {\n\tvoid f() {\n\t\tx();\n\t\ty();\n\t}\n}\n");
    }

    @Test
    void aModelThatStepsByTwoKeepsTheLevelsOfAFourSpaceProgram() {
        // The model indents by two where the program indents by four. Each SEARCH line stands for the program
        // line it matched, so `h(x)` lands on the loop's level and `k()` on the function body's: kept in columns,
        // `g(x)` moved to ten spaces and `k()` to six, which is no level of the program (an IndentationError).
        String program = "def f(xs):\n    for x in xs:\n        if x:\n            g(x)\n    return 1\n";
        EditResult r = apply(program, "  if x:\n    g(x)", "  if x:\n    g(x)\n      y\n  h(x)\nk()");
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.code()).isEqualTo("def f(xs):\n    for x in xs:\n        if x:\n            g(x)\n"
                + "                y\n        h(x)\n    k()\n    return 1\n");
    }

    @Test
    void aModelThatStepsByFourKeepsTheLevelsOfATwoSpaceProgram() {
        String program = "def f(xs):\n  for x in xs:\n    if x:\n      g(x)\n  return 1\n";
        EditResult r = apply(program, "        if x:\n            g(x)", "        if x:\n            g(x)\n"
                + "                y\n        h(x)\n    k()");
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.code()).isEqualTo(
                "def f(xs):\n  for x in xs:\n    if x:\n      g(x)\n        y\n    h(x)\n  k()\n  return 1\n");
    }

    @Test
    void aLineDeeperThanAnySearchLineTakesTheProgramsTabsInTheModelsSteps() {
        // The SEARCH starts at column 0, so tabs come from the program's lines; the model steps by two, and
        // `y = 2` is two of its steps deep, where no SEARCH line was.
        String program = "int f() {\n\treturn 1;\n}\nint g() {\n\ty = 1;\n}\n";
        EditResult r = apply(program, "int g() {\n  y = 1;", "int g() {\n  if (x) {\n    y = 2;\n  }");
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.code()).isEqualTo("int f() {\n\treturn 1;\n}\nint g() {\n\tif (x) {\n\t\ty = 2;\n\t}\n}\n");
    }

    @Test
    void aSearchOfOneIndentationKeepsTheModelsColumnsBeyondIt() {
        // One SEARCH indentation gives no step to scale by: the four columns the model added stay four.
        EditResult r = apply("def f():\n    x = 1\n", "x = 1", "x = 1\nif y:\n    z = 2");
        assertThat(r.code()).isEqualTo("def f():\n    x = 1\n    if y:\n        z = 2\n");
    }

    /**
     * A SEARCH that quotes a line of equals signs (an underlined docstring heading) was cut at that line, taken for
     * the divider: the block replaced the heading's first line with the rest of SEARCH and all of REPLACE, the real
     * divider included. Of the places a block could divide, the last whose SEARCH is in the program is now taken.
     */
    @Test
    void aSearchQuotingALineOfEqualsSignsDividesWhereItsSearchIsInTheProgram() {
        String program = "def f():\n    \"\"\"Sum.\n\n    Notes\n    =====\n    Adds.\n    \"\"\"\n    return 1\n";
        String answer = block("    Notes\n    =====\n    Adds.\n    \"\"\"\n    return 1",
                "    Notes\n    =====\n    Adds twice.\n    \"\"\"\n    return 2");
        EditResult r = EditApplier.applyAnswer(program, answer, false);
        assertThat(r.outcomes()).singleElement().extracting(BlockOutcome::status).isEqualTo(Status.APPLIED);
        assertThat(r.code()).isEqualTo(program.replace("Adds.", "Adds twice.").replace("return 1", "return 2"));
        // A line of equals signs the REPLACE adds stays REPLACE content.
        EditResult underline = EditApplier.applyAnswer("Title\ntext\n", block("Title", "Title\n====="), false);
        assertThat(underline.code()).isEqualTo("Title\n=====\ntext\n");
    }

    @Test
    void ambiguousMatchIsNotAppliedAndListsTheLines() {
        String program = "x = 0\ny = 1\nz\ny = 1\nw\ny = 1\n";
        EditResult r = apply(program, "y = 1", "y = 2");
        BlockOutcome o = r.outcomes().getFirst();
        assertThat(o.status()).isEqualTo(Status.AMBIGUOUS);
        assertThat(o.reason()).isEqualTo(
                "SEARCH text of block 1 matches 3 places (lines 2, 4, 6); add context lines so that it matches one");
        assertThat(r.code()).isEqualTo(program);
        assertThat(r.changed()).isFalse();
    }

    @Test
    void ambiguityIsDecidedAtTheFirstKindThatMatches() {
        // One exact match and one that matches only ignoring indentation: the exact one wins.
        EditResult r = apply("a\n  a\nb\n", "a", "c");
        assertThat(r.outcomes().getFirst().status()).isEqualTo(Status.APPLIED);
        assertThat(r.code()).isEqualTo("c\n  a\nb\n");
    }

    @Test
    void notFoundNamesTheClosestLinesAndTheDifferingLine() {
        StringBuilder program = new StringBuilder();
        for (int i = 1; i <= 50; i++) {
            program.append(i == 42 ? "    for (int i = 0; i < m; i++) {" : "line" + i).append('\n');
        }
        String search = "line40\nline41\nfor (int i = 0; i < n; i++) {\nline43\nline44";
        BlockOutcome o = apply(program.toString(), search, "x").outcomes().getFirst();
        assertThat(o.status()).isEqualTo(Status.NOT_FOUND);
        assertThat(o.line()).isEqualTo(-1);
        assertThat(o.reason()).isEqualTo("SEARCH text of block 1 not found; closest lines 40-44 (4 of 5 lines equal)"
                + " differ at line 42: expected `for (int i = 0; i < n; i++) {` but the program has"
                + " `for (int i = 0; i < m; i++) {`");
    }

    @Test
    void notFoundWithNothingAlignedNamesTheMostSimilarLine() {
        BlockOutcome o = apply("alpha = 1\nbeta = 2\ngamma = 3\n", "beta = 7", "x").outcomes().getFirst();
        assertThat(o.status()).isEqualTo(Status.NOT_FOUND);
        assertThat(o.reason()).contains("`beta = 7`").contains("line 2 `beta = 2`");
    }

    @Test
    void laterBlocksSeeEarlierEdits() {
        String answer = block("a = 1", "a = 2") + block("a = 2\nb = 1", "a = 3\nb = 1") + block("a = 1", "nope");
        EditResult r = EditApplier.applyAnswer("a = 1\nb = 1\n", answer, false);
        assertThat(r.code()).isEqualTo("a = 3\nb = 1\n");
        assertThat(r.outcomes()).extracting(BlockOutcome::status)
                .containsExactly(Status.APPLIED, Status.APPLIED, Status.NOT_FOUND);
        assertThat(r.outcomes()).extracting(BlockOutcome::line).containsExactly(1, 1, -1);
    }

    @Test
    void identicalSearchAndReplaceIsNoChange() {
        BlockOutcome o = apply("a\nb\n", "a", "a").outcomes().getFirst();
        assertThat(o.status()).isEqualTo(Status.NO_CHANGE);
        assertThat(o.reason()).contains("block 1").contains("changes nothing");
        // Differs from SEARCH only in trailing whitespace, matched loosely: still nothing to change.
        BlockOutcome loose = apply("a\nb\n", "a  ", "a").outcomes().getFirst();
        assertThat(loose.status()).isEqualTo(Status.NO_CHANGE);
        assertThat(loose.line()).isEqualTo(1);
    }

    @Test
    void emptySearchIsRejected() {
        EditResult r = EditApplier.applyAnswer("a\n", block("", "new"), false);
        assertThat(r.outcomes().getFirst().status()).isEqualTo(Status.EMPTY_SEARCH);
        assertThat(r.code()).isEqualTo("a\n");
    }

    @Test
    void emptyReplaceDeletes() {
        EditResult r = EditApplier.applyAnswer("a\nb\nc\n", "<<<<<<< SEARCH\nb\n=======\n>>>>>>> REPLACE\n", false);
        assertThat(r.code()).isEqualTo("a\nc\n");
        assertThat(apply("a\n", "a", "").code()).isEmpty();
    }

    private static final String EVOLVING = """
            def helper():
                return 1
            # EVOLVE-BLOCK-START
            def solve():
                return 1
            # EVOLVE-BLOCK-END
            def main():
                return 1
            """;

    @Test
    void restrictionRejectsAMatchOutsideTheRegions() {
        EditResult r = EditApplier.apply(EVOLVING, List.of(new EditBlock(0, "def main():\n    return 1",
                "def main():\n    return 2")), true);
        BlockOutcome o = r.outcomes().getFirst();
        assertThat(o.status()).isEqualTo(Status.OUTSIDE_EVOLVE_BLOCK);
        assertThat(o.line()).isEqualTo(7);
        assertThat(o.reason()).contains("lines 7-8").contains("outside the EVOLVE-BLOCK regions (lines 4-5)");
        assertThat(r.code()).isEqualTo(EVOLVING);
        // Without the restriction the same block applies.
        assertThat(EditApplier.apply(EVOLVING, List.of(o.block()), false).changed()).isTrue();
    }

    @Test
    void restrictionPicksTheOnlyMatchInsideARegion() {
        EditResult r = EditApplier.apply(EVOLVING, List.of(new EditBlock(0, "    return 1", "    return 42")), true);
        assertThat(r.outcomes().getFirst().status()).isEqualTo(Status.APPLIED);
        assertThat(r.outcomes().getFirst().line()).isEqualTo(5);
        assertThat(r.code()).isEqualTo(EVOLVING.replace("def solve():\n    return 1", "def solve():\n    return 42"));
        // Unrestricted, the three matches are ambiguous.
        assertThat(EditApplier.apply(EVOLVING, List.of(new EditBlock(0, "    return 1", "    return 42")), false)
                .outcomes().getFirst().status()).isEqualTo(Status.AMBIGUOUS);
    }

    @Test
    void restrictionRejectsMarkersInReplaceAndSpanningMatches() {
        EditResult r = EditApplier.apply(EVOLVING, List.of(
                new EditBlock(0, "def solve():", "# EVOLVE-BLOCK-END\ndef solve():"),
                new EditBlock(1, "    return 1\n# EVOLVE-BLOCK-END", "    return 2")), true);
        assertThat(r.outcomes()).extracting(BlockOutcome::status)
                .containsExactly(Status.OUTSIDE_EVOLVE_BLOCK, Status.OUTSIDE_EVOLVE_BLOCK);
        assertThat(r.code()).isEqualTo(EVOLVING);
    }

    /**
     * A program without markers is edited freely, but a REPLACE must not leave a lone or nested marker: every later
     * restricted edit of that program would fail on its markers rather than be refused with a reason.
     */
    @Test
    void restrictionRefusesABlockThatLeavesTheMarkersUnbalanced() {
        String plain = "a\nb\nc\n";
        String start = "# EVOLVE-BLOCK-START";
        String end = "# EVOLVE-BLOCK-END";
        List<String> reasons = new java.util.ArrayList<>();
        for (String replace : List.of(start + "\nb", "b\n" + end, end + "\nb\n" + start,
                start + "\n" + start + "\nb\n" + end + "\n" + end)) {
            EditResult r = EditApplier.apply(plain, List.of(new EditBlock(0, "b", replace)), true);
            BlockOutcome o = r.outcomes().getFirst();
            assertThat(o.status()).as(replace).isEqualTo(Status.MALFORMED_MARKERS);
            assertThat(r.code()).isEqualTo(plain);
            assertThat(r.changed()).isFalse();
            reasons.add(o.reason());
        }
        assertThat(reasons.get(0)).startsWith("block 1: ")
                .contains("EVOLVE-BLOCK-START at line 2 has no EVOLVE-BLOCK-END after it");
        assertThat(reasons.get(1)).contains("EVOLVE-BLOCK-END at line 3 has no EVOLVE-BLOCK-START before it");
        assertThat(reasons.get(2)).contains("EVOLVE-BLOCK-END at line 2 has no EVOLVE-BLOCK-START before it");
        assertThat(reasons.get(3)).contains("EVOLVE-BLOCK-START at line 3 is nested in the region opened at line 2");
        // Unrestricted, markers mean nothing and the same block applies.
        assertThat(EditApplier.apply(plain, List.of(new EditBlock(0, "b", start + "\nb")), false).changed()).isTrue();
    }

    @Test
    void restrictionAcceptsABalancedPairAddedToAProgramWithoutMarkers() {
        EditResult r = EditApplier.apply("a\nb\nc\n", List.of(
                new EditBlock(0, "b", "# EVOLVE-BLOCK-START\nb\n# EVOLVE-BLOCK-END"),
                new EditBlock(1, "a", "A"),
                new EditBlock(2, "b", "B")), true);
        assertThat(r.outcomes()).extracting(BlockOutcome::status)
                .containsExactly(Status.APPLIED, Status.OUTSIDE_EVOLVE_BLOCK, Status.APPLIED);
        assertThat(r.code()).isEqualTo("a\n# EVOLVE-BLOCK-START\nB\n# EVOLVE-BLOCK-END\nc\n");
    }

    @Test
    void noChangeNamesTheLinesItWouldHaveReplaced() {
        // Matched ignoring trailing whitespace at lines 2-3, where REPLACE is the program's text already.
        BlockOutcome o = apply("a\nb\nc\nd\n", "b \nc", "b\nc").outcomes().getFirst();
        assertThat(o.status()).isEqualTo(Status.NO_CHANGE);
        assertThat(o.line()).isEqualTo(2);
        assertThat(o.reason()).isEqualTo("block 1: REPLACE equals lines 2-3 as they are, so it changes nothing");
    }

    @Test
    void aMarkerAddedAtTheFirstLineIsCheckedAgainstTheWholeProgram() {
        EditResult r = EditApplier.apply("a\nb\n", List.of(new EditBlock(0, "a", "# EVOLVE-BLOCK-START\na")), true);
        BlockOutcome o = r.outcomes().getFirst();
        assertThat(o.status()).isEqualTo(Status.MALFORMED_MARKERS);
        assertThat(o.line()).isEqualTo(1);
        EditResult paired = EditApplier.apply("a\nb\n",
                List.of(new EditBlock(0, "a", "# EVOLVE-BLOCK-START\na\n# EVOLVE-BLOCK-END")), true);
        assertThat(paired.code()).isEqualTo("# EVOLVE-BLOCK-START\na\n# EVOLVE-BLOCK-END\nb\n");
    }

    @Test
    void tabsTheModelWroteStayTabsAndBecomeSpacesInASpacedProgram() {
        // Both SEARCHes are one tab deeper than the program; the REPLACE's extra tab is a tab in the tabbed
        // program and four spaces in the spaced one.
        assertThat(apply("f {\n\tx\n}\n", "\t\tx", "\t\tx\n\t\t\ty").code()).isEqualTo("f {\n\tx\n\t\ty\n}\n");
        assertThat(apply("def f():\n    x\n", "\tx", "\tx\n\t\ty").code()).isEqualTo("def f():\n    x\n        y\n");
    }

    @Test
    void aDedentBeyondTheProgramsIndentationStopsAtColumnZero() {
        // Matched one tab deep; the model steps by two, and `z` is two of its steps left of the SEARCH.
        EditResult r = apply("f {\n\tx\n}\n", "    x", "    x\n  y\nz");
        assertThat(r.outcomes().getFirst().match()).isEqualTo(MatchKind.INDENTATION);
        assertThat(r.code()).isEqualTo("f {\n\tx\ny\nz\n}\n");
    }

    @Test
    void notFoundInAnEmptyProgram() {
        assertThat(apply("", "x", "y").outcomes().getFirst().reason())
                .isEqualTo("SEARCH text of block 1 not found; the program is empty");
    }

    @Test
    void notFoundWhenTheProgramIsShorterThanTheSearch() {
        // The program's lines equal the SEARCH's first ones; blank lines at the SEARCH's ends are not counted.
        assertThat(apply("a\nb\n", "\na\nb\nc\n\n", "y").outcomes().getFirst().reason())
                .isEqualTo("SEARCH text of block 1 not found; it has 3 lines but the program only 2");
    }

    @Test
    void notFoundNamesTheFirstOfEquallyCloseWindowsAndReachesTheLastOne() {
        assertThat(apply("p\na\nx\nq\na\nx\n", "a\nb", "y").outcomes().getFirst().reason())
                .isEqualTo("SEARCH text of block 1 not found; closest lines 2-3 (1 of 2 lines equal) differ at line 3:"
                        + " expected `b` but the program has `x`");
        assertThat(apply("p\nq\na\nx\n", "a\nb", "y").outcomes().getFirst().reason())
                .isEqualTo("SEARCH text of block 1 not found; closest lines 3-4 (1 of 2 lines equal) differ at line 4:"
                        + " expected `b` but the program has `x`");
    }

    @Test
    void theMostSimilarLineCountsItsCommonPrefixAndSuffix() {
        // Both lines share the prefix `foo(`; only the second also shares ` + baz`.
        assertThat(apply("foo(1) + bar\nfoo(2) + baz\n", "foo(3) + baz", "y").outcomes().getFirst().reason())
                .isEqualTo("SEARCH text of block 1 not found; no program lines line up with it. Its first line "
                        + "`foo(3) + baz` is most like line 2 `foo(2) + baz`; copy the lines to change exactly from "
                        + "the current program");
        // `aab` and `aaa` share two characters with `aa` (the prefix of `aaa` is not counted again as its suffix):
        // the first of equals is named.
        assertThat(apply("aab\naaa\n", "aa", "y").outcomes().getFirst().reason()).contains("most like line 1 `aab`");
        // Suffix alone: `xyz` shares `yz` with `ayz` and nothing with `xbc`'s end beyond its prefix `x`.
        assertThat(apply("xbc\nayz\n", "xyz", "y").outcomes().getFirst().reason()).contains("most like line 2 `ayz`");
        // Two and two characters beat two.
        assertThat(apply("abYcd\nabcZ\n", "abXcd", "y").outcomes().getFirst().reason())
                .contains("most like line 1 `abYcd`");
    }

    @Test
    void ambiguousPlacesAreListedUpToEight() {
        String eight = "a\n".repeat(8);
        assertThat(apply(eight + "b\n", "a", "c").outcomes().getFirst().reason()).isEqualTo("SEARCH text of block 1 "
                + "matches 8 places (lines 1, 2, 3, 4, 5, 6, 7, 8); add context lines so that it matches one");
        assertThat(apply(eight + "a\n", "a", "c").outcomes().getFirst().reason()).isEqualTo("SEARCH text of block 1 "
                + "matches 9 places (lines 1, 2, 3, 4, 5, 6, 7, 8, ...); add context lines so that it matches one");
    }

    @Test
    void loneCarriageReturnsAndCrlfBlocksAreLineEndings() {
        assertThat(apply("a\rb\r", "a", "x").code()).isEqualTo("x\rb\r");
        assertThat(apply("\ra\r", "a", "x").code()).isEqualTo("\rx\r");
        // Both kinds but no CRLF: written back with LF.
        assertThat(apply("\na\rb", "b", "c").code()).isEqualTo("\na\nc");
        // A hand-made block with CRLF compares like a parsed one.
        assertThat(apply("a\nb\nc\n", "a\r\nb", "x\r\ny").code()).isEqualTo("x\ny\nc\n");
    }

    @Test
    void quotedLinesAreCutAfter120Characters() {
        String exact = "v".repeat(119) + "1";
        String longer = "w".repeat(120) + "1";
        assertThat(apply("a\n", exact, "y").outcomes().getFirst().reason()).contains("`" + exact + "`");
        assertThat(apply("a\n", longer, "y").outcomes().getFirst().reason())
                .contains("`" + "w".repeat(120) + "...`").doesNotContain(longer);
    }

    @Test
    void feedbackNamesTheStatusOfAFailureWithoutAReason() {
        EditBlock b = new EditBlock(2, "a", "b");
        EditResult r = new EditResult("a", List.of(new BlockOutcome(b, Status.NOT_FOUND, null, -1, null),
                new BlockOutcome(b, Status.AMBIGUOUS, null, -1, "")), List.of());
        assertThat(r.feedback()).isEqualTo("- block 3: NOT_FOUND\n- block 3: AMBIGUOUS");
    }

    @Test
    void feedbackListsEveryFailureAndParseProblem() {
        String answer = block("nothing like this", "x") + block("a", "A") + block("b", "b")
                + "<<<<<<< SEARCH\nc\n=======\nC\n";
        EditResult r = EditApplier.applyAnswer("a\nb\nc\n", answer, false);
        assertThat(r.code()).isEqualTo("A\nb\nc\n");
        assertThat(r.failures()).extracting(BlockOutcome::status).containsExactly(Status.NOT_FOUND, Status.NO_CHANGE);
        assertThat(r.parseProblems()).hasSize(1);
        List<String> lines = r.feedback().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith("- block 4: no '>>>>>>> REPLACE'");
        assertThat(lines.get(1)).startsWith("- SEARCH text of block 1 not found");
        assertThat(lines.get(2)).startsWith("- block 3: SEARCH and REPLACE are the same");
    }
}
