package io.moelab.evolve.edit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DiffParserTest {

    @Test
    void readsSeveralBlocksKeepingInnerNewlines() {
        String answer = """
                I will change two things.
                <<<<<<< SEARCH
                def f(x):
                    return x

                =======
                def f(x):

                    return x + 1
                >>>>>>> REPLACE
                And then:
                <<<<<<< SEARCH
                y = 1
                =======
                y = 2
                >>>>>>> REPLACE
                """;
        List<EditBlock> blocks = DiffParser.parse(answer);
        assertThat(blocks).containsExactly(
                new EditBlock(0, "def f(x):\n    return x\n", "def f(x):\n\n    return x + 1"),
                new EditBlock(1, "y = 1", "y = 2"));
        assertThat(DiffParser.parseReport(answer).problems()).isEmpty();
    }

    @Test
    void aSecondDividerIsReplaceContent() {
        // Only the first '=======' after SEARCH divides; a later one is a line the model is writing (a banner, a
        // conflict marker in a text file) and stays in REPLACE.
        String answer = """
                <<<<<<< SEARCH
                title
                =======
                title
                =======
                >>>>>>> REPLACE
                """;
        assertThat(DiffParser.parse(answer)).containsExactly(new EditBlock(0, "title", "title\n======="));
        assertThat(DiffParser.parseReport(answer).problems()).isEmpty();
    }

    @Test
    void givenTheProgramABlockDividesAtTheLastDividerWhoseSearchIsInIt() {
        String answer = "<<<<<<< SEARCH\na\n=====\nb\n=======\nc\n=====\nd\n>>>>>>> REPLACE\n";
        // Three places to divide: after a, after b (SEARCH "a", "=====", "b") and after c.
        assertThat(DiffParser.parseReport(answer, s -> s.equals("a\n=====\nb")).blocks())
                .containsExactly(new EditBlock(0, "a\n=====\nb", "c\n=====\nd"));
        assertThat(DiffParser.parseReport(answer, s -> true).blocks())
                .containsExactly(new EditBlock(0, "a\n=====\nb\n=======\nc", "d"));
        assertThat(DiffParser.parseReport(answer, s -> false).blocks())
                .containsExactly(new EditBlock(0, "a", "b\n=======\nc\n=====\nd"));
        assertThat(DiffParser.parse(answer)).isEqualTo(DiffParser.parseReport(answer, s -> false).blocks());
        // The dividers of one block do not carry over to the next.
        String two = answer + "<<<<<<< SEARCH\ne\n=======\nf\n>>>>>>> REPLACE\n";
        assertThat(DiffParser.parseReport(two, s -> s.startsWith("a") || s.equals("e")).blocks())
                .containsExactly(new EditBlock(0, "a\n=====\nb\n=======\nc", "d"), new EditBlock(1, "e", "f"));
    }

    @Test
    void toleratesMarkerLengthCaseTrailingSpaceFencesAndCrlf() {
        String answer = "```python\r\n<<<<< search  \r\na = 1\r\n=========\t\r\na = 2\r\n>>>>>>>>> Replace \r\n```\r\n"
                + "<<<<<<< SEARCH\r\nb\r\n=======\r\n>>>>>>> REPLACE\r\n";
        DiffParser.ParseReport r = DiffParser.parseReport(answer);
        assertThat(r.problems()).isEmpty();
        assertThat(r.blocks()).containsExactly(new EditBlock(0, "a = 1", "a = 2"), new EditBlock(1, "b", ""));
    }

    @Test
    void emptySearchStillParses() {
        assertThat(DiffParser.parse("<<<<<<< SEARCH\n=======\nnew\n>>>>>>> REPLACE\n"))
                .containsExactly(new EditBlock(0, "", "new"));
    }

    @Test
    void tenMarkerCharactersAreNotAMarker() {
        DiffParser.ParseReport r = DiffParser.parseReport("<<<<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n");
        assertThat(r.blocks()).isEmpty();
        assertThat(r.problems()).singleElement().asString().contains("without a '<<<<<<< SEARCH'");
    }

    @Test
    void blockMissingReplaceIsSkippedAndOthersParse() {
        String answer = """
                <<<<<<< SEARCH
                a
                =======
                b
                >>>>>>> REPLACE
                <<<<<<< SEARCH
                c
                =======
                d
                <<<<<<< SEARCH
                e
                =======
                f
                >>>>>>> REPLACE
                """;
        DiffParser.ParseReport r = DiffParser.parseReport(answer);
        assertThat(r.blocks()).containsExactly(new EditBlock(0, "a", "b"), new EditBlock(2, "e", "f"));
        assertThat(r.problems()).containsExactly(
                "block 2: no '>>>>>>> REPLACE' line after the SEARCH at answer line 6 (block skipped)");
    }

    @Test
    void blockMissingDividerIsReported() {
        String answer = "<<<<<<< SEARCH\na\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nb\n";
        DiffParser.ParseReport r = DiffParser.parseReport(answer);
        assertThat(r.blocks()).isEmpty();
        assertThat(r.problems()).containsExactly(
                "block 1: no '=======' line between the SEARCH at answer line 1 and the REPLACE at line 3"
                        + " (block skipped)",
                "block 2: no '=======' line after the SEARCH at answer line 4 (block skipped)");
    }

    @Test
    void answerWithoutBlocksSaysSo() {
        DiffParser.ParseReport r = DiffParser.parseReport("Here is my idea, in prose.");
        assertThat(r.blocks()).isEmpty();
        assertThat(r.problems()).singleElement().asString().contains("no SEARCH/REPLACE block");
    }
}
