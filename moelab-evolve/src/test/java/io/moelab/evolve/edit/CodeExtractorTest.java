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
}
