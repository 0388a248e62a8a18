package io.moelab.evolve.edit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CodeExtractorTest {

    @Test
    void prefersTheLongestBlockInTheLanguage() {
        String answer = """
                Run it with:
                ```bash
                python main.py --with-a-long-list-of-flags --that-make-this-block-the-longest --of-all
                ```
                Short helper:
                ```python
                x = 1
                ```
                The program:
                ```Python
                def f():
                    \treturn 2


                ```
                """;
        assertThat(CodeExtractor.program(answer, "python")).contains("def f():\n    \treturn 2\n");
    }

    @Test
    void fallsBackToTheLongestBlockOfAnyLanguage() {
        String answer = "```\nshort\n```\n```text\nthe longer one\n  indented\n```\n";
        assertThat(CodeExtractor.program(answer, "java")).contains("the longer one\n  indented\n");
        assertThat(CodeExtractor.program(answer, null)).contains("the longer one\n  indented\n");
    }

    @Test
    void nestedFenceWithInfoStringIsContentAndLongerFenceCloses() {
        String answer = "````md\n```python\nx\n```\n````\n";
        assertThat(CodeExtractor.program(answer, "md")).contains("```python\nx\n```\n");
    }

    @Test
    void emptyWithoutACompleteFence() {
        assertThat(CodeExtractor.program("no code here", "python")).isEmpty();
        assertThat(CodeExtractor.program("```python\ncut off", "python")).isEmpty();
    }

    @Test
    void keepsCrlf() {
        assertThat(CodeExtractor.program("```c\r\nint x;\r\n```\r\n", "c")).contains("int x;\r\n");
    }

    @Test
    void tildeFencesCountAndABacktickFenceOpensNoInlineCode() {
        assertThat(CodeExtractor.program("~~~python\nx = `a`\n~~~\n", "python")).contains("x = `a`\n");
        // A blank line first: the first fence is found on the answer's second line, not read through the end.
        assertThat(CodeExtractor.program("\n~~~python\nx\n~~~\n", "python")).contains("x\n");
        // A line of backticks followed by inline code opens nothing, so the closing-looking line opens a block
        // that the answer never closes.
        assertThat(CodeExtractor.program("``` `a`\nnot code\n```\n", null)).isEmpty();
        // With tildes the info string may hold backticks.
        assertThat(CodeExtractor.program("~~~ `py`\ncode\n~~~\n", null)).contains("code\n");
    }

    @Test
    void ofEquallyLongBlocksTheFirstIsTakenAndABlankBlockIsSkipped() {
        String answer = "```python\n\n\n```\n```python\nfirst\n```\n```python\nlater\n```\n```python\nend\n```\n";
        assertThat(CodeExtractor.program(answer, "python")).contains("first\n");
        assertThat(CodeExtractor.program(answer, "java")).contains("first\n");
    }
}
