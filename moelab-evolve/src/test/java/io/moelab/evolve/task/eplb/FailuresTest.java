package io.moelab.evolve.task.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the model reads of a candidate's throwable: worked by hand on stacks made up frame by frame. */
class FailuresTest {
    private static final Set<String> OWN = Set.of("Cand");

    private static StackTraceElement frame(String cls, String method, String file, int line) {
        return new StackTraceElement(cls, method, file, line);
    }

    private static StackTraceElement lib(int i) {
        return frame("java.util.Lib" + i, "m", "Lib" + i + ".java", 10 + i);
    }

    private static Throwable thrown(Throwable t, StackTraceElement... stack) {
        t.setStackTrace(stack);
        return t;
    }

    /** Four library frames above the candidate's first, then the candidate's frames only. */
    @Test
    void keepsTheCandidatesFramesAndTheFourLibraryFramesAboveTheFirst() {
        Throwable t = thrown(new IllegalStateException("boom"), lib(0), lib(1), lib(2), lib(3), lib(4), lib(5),
                frame("Cand", "a", "Cand.java", 7), lib(6), frame("Cand$Inner", "b", "Cand.java", 9), lib(7),
                frame("Candidate", "c", "Candidate.java", 3), frame("$Cand", "d", "X.java", 4));
        assertThat(Failures.describe(t, OWN)).isEqualTo("""
                java.lang.IllegalStateException: boom
                    at java.util.Lib2.m(Lib2.java:12)
                    at java.util.Lib3.m(Lib3.java:13)
                    at java.util.Lib4.m(Lib4.java:14)
                    at java.util.Lib5.m(Lib5.java:15)
                    at Cand.a(Cand.java:7)
                    at Cand$Inner.b(Cand.java:9)
                """);
    }

    @Test
    void fewerLibraryFramesAboveTheCandidateAreAllKept() {
        Throwable t = thrown(new RuntimeException("x"), lib(0), lib(1), frame("Cand", "a", "Cand.java", 1));
        assertThat(Failures.describe(t, OWN)).isEqualTo("""
                java.lang.RuntimeException: x
                    at java.util.Lib0.m(Lib0.java:10)
                    at java.util.Lib1.m(Lib1.java:11)
                    at Cand.a(Cand.java:1)
                """);
        Throwable top = thrown(new RuntimeException("y"), frame("Cand", "a", "Cand.java", 1), lib(0),
                frame("Cand", "b", "Cand.java", 2));
        assertThat(Failures.describe(top, OWN)).isEqualTo("""
                java.lang.RuntimeException: y
                    at Cand.a(Cand.java:1)
                    at Cand.b(Cand.java:2)
                """);
    }

    /** Without a frame of the candidate's, the first eight frames. */
    @Test
    void withoutACandidateFrameTheFirstEight() {
        StackTraceElement[] stack = new StackTraceElement[10];
        for (int i = 0; i < stack.length; i++) {
            stack[i] = lib(i);
        }
        StringBuilder expected = new StringBuilder("java.lang.Error: e\n");
        for (int i = 0; i < 8; i++) {
            expected.append("    at java.util.Lib").append(i).append(".m(Lib").append(i).append(".java:")
                    .append(10 + i).append(")\n");
        }
        assertThat(Failures.describe(thrown(new Error("e"), stack), OWN)).isEqualTo(expected.toString());
        assertThat(Failures.describe(thrown(new Error("e"), lib(0), lib(1)), OWN)).isEqualTo("""
                java.lang.Error: e
                    at java.util.Lib0.m(Lib0.java:10)
                    at java.util.Lib1.m(Lib1.java:11)
                """);
        assertThat(Failures.describe(thrown(new Error("e")), OWN)).isEqualTo("java.lang.Error: e\n");
    }

    @Test
    void framesWithoutALineOrFileOrInNativeCode() {
        Throwable t = thrown(new RuntimeException("f"), frame("Cand", "a", "Cand.java", -1),
                frame("Cand", "b", null, 5), frame("Cand", "c", "Cand.java", -2), frame("Cand", "d", "Cand.java", 0));
        assertThat(Failures.describe(t, OWN)).isEqualTo("""
                java.lang.RuntimeException: f
                    at Cand.a(Cand.java)
                    at Cand.b(Unknown Source)
                    at Cand.c(Native Method)
                    at Cand.d(Cand.java:0)
                """);
    }

    /** Up to three causes, each as the throwable itself; a cause chain that loops ends where it repeats. */
    @Test
    void threeCausesAtMostAndLoopsEnd() {
        Throwable d = thrown(new RuntimeException("d"), frame("Cand", "d", "Cand.java", 4));
        Throwable c = thrown(new RuntimeException("c", d), frame("Cand", "c", "Cand.java", 3));
        Throwable b = thrown(new RuntimeException("b", c), frame("Cand", "b", "Cand.java", 2));
        Throwable a = thrown(new RuntimeException("a", b), frame("Cand", "a", "Cand.java", 1));
        Throwable top = thrown(new RuntimeException("top", a), frame("Cand", "top", "Cand.java", 0));
        assertThat(Failures.describe(top, OWN)).isEqualTo("""
                java.lang.RuntimeException: top
                    at Cand.top(Cand.java:0)
                Caused by: java.lang.RuntimeException: a
                    at Cand.a(Cand.java:1)
                Caused by: java.lang.RuntimeException: b
                    at Cand.b(Cand.java:2)
                Caused by: java.lang.RuntimeException: c
                    at Cand.c(Cand.java:3)
                """);

        Throwable x = thrown(new RuntimeException("x"), frame("Cand", "x", "Cand.java", 1));
        Throwable y = thrown(new RuntimeException("y", x), frame("Cand", "y", "Cand.java", 2));
        x.initCause(y);
        assertThat(Failures.describe(y, OWN)).isEqualTo("""
                java.lang.RuntimeException: y
                    at Cand.y(Cand.java:2)
                Caused by: java.lang.RuntimeException: x
                    at Cand.x(Cand.java:1)
                """);
    }
}
