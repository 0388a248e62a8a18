package io.moelab.evolve.edit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;

import io.moelab.evolve.edit.BlockOutcome.Status;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;
import org.quicktheories.impl.Constraint;

/** apply() agrees with a naive splice of lines for any unique SEARCH run, written as is or re-indented. */
class EditPropertiesTest {

    /** A program of distinct lines, a run of them to replace, replacement lines, and an indentation to add. */
    record Case(List<String> program, int from, int to, List<String> replacement, int shift) {
        String text(List<String> lines) {
            return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
        }

        String programText() {
            return text(program);
        }

        String expected() {
            List<String> out = new ArrayList<>(program.subList(0, from));
            out.addAll(replacement);
            out.addAll(program.subList(to, program.size()));
            return text(out);
        }
    }

    private static int between(RandomnessSource r, int lo, int hi) {
        return (int) r.next(Constraint.between(lo, hi));
    }

    private static String line(RandomnessSource r) {
        StringBuilder sb = new StringBuilder(" ".repeat(between(r, 0, 3) * 2));
        int words = between(r, 1, 3);
        for (int w = 0; w < words; w++) {
            sb.append(w == 0 ? "" : " ").append((char) ('a' + between(r, 0, 5))).append(between(r, 0, 40));
        }
        return sb.toString();
    }

    private static Gen<Case> cases() {
        return r -> {
            int n = between(r, 1, 30);
            Set<String> stripped = new LinkedHashSet<>();
            List<String> program = new ArrayList<>();
            while (program.size() < n) {
                String l = line(r);
                if (stripped.add(l.strip())) { // distinct even ignoring indentation, so every run is unique
                    program.add(l);
                }
            }
            int from = between(r, 0, n - 1);
            int to = between(r, from + 1, n);
            List<String> replacement = new ArrayList<>();
            int m = between(r, 0, 5);
            for (int i = 0; i < m; i++) {
                replacement.add(line(r));
            }
            return new Case(program, from, to, replacement, between(r, 1, 6));
        };
    }

    @Test
    void exactSearchGivesTheNaiveSplice() {
        qt().withExamples(500).withFixedSeed(11).forAll(cases()).checkAssert(c -> {
            EditBlock b = new EditBlock(0, String.join("\n", c.program().subList(c.from(), c.to())),
                    String.join("\n", c.replacement()));
            EditResult r = EditApplier.apply(c.programText(), List.of(b), false);
            assertThat(r.code()).isEqualTo(c.expected());
            BlockOutcome o = r.outcomes().getFirst();
            if (o.status() == Status.APPLIED) {
                assertThat(o.match()).isEqualTo(MatchKind.EXACT);
                assertThat(o.line()).isEqualTo(c.from() + 1);
            } else {
                assertThat(o.status()).isEqualTo(Status.NO_CHANGE);
            }
        });
    }

    @Test
    void reindentedSearchStillGivesTheNaiveSplice() {
        qt().withExamples(500).withFixedSeed(12).forAll(cases()).checkAssert(c -> {
            String pad = " ".repeat(c.shift());
            List<String> search = c.program().subList(c.from(), c.to()).stream().map(l -> pad + l).toList();
            List<String> replace = c.replacement().stream().map(l -> pad + l).toList();
            EditBlock b = new EditBlock(0, String.join("\n", search), String.join("\n", replace));
            EditResult r = EditApplier.apply(c.programText(), List.of(b), false);
            assertThat(r.code()).isEqualTo(c.expected());
            BlockOutcome o = r.outcomes().getFirst();
            assertThat(o.match()).isEqualTo(MatchKind.INDENTATION);
            assertThat(o.status()).isIn(Status.APPLIED, Status.NO_CHANGE);
        });
    }

    /**
     * A program indented in steps of {@code programStep} spaces, quoted and replaced by a model that indents in steps
     * of {@code modelStep} and {@code shift} levels deeper; levels per line, the replaced run has two of them.
     */
    record Stepped(List<String> tokens, List<Integer> levels, int from, int to, List<String> newTokens,
                   List<Integer> newLevels, int programStep, int modelStep, int shift) {
        static String lines(List<String> tokens, List<Integer> levels, int step, int shift) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < tokens.size(); i++) {
                sb.append(i == 0 ? "" : "\n").append(" ".repeat((levels.get(i) + shift) * step)).append(tokens.get(i));
            }
            return sb.toString();
        }
    }

    private static Gen<Stepped> stepped() {
        return r -> {
            int n = between(r, 2, 20);
            List<String> tokens = new ArrayList<>();
            List<Integer> levels = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                tokens.add("t" + i);
                levels.add(between(r, 0, 3));
            }
            int from = between(r, 0, n - 2);
            int to = between(r, from + 2, n);
            if (levels.subList(from, to).stream().distinct().count() < 2) {
                levels.set(from, levels.get(from + 1) == 0 ? 1 : 0);
            }
            List<String> newTokens = new ArrayList<>();
            List<Integer> newLevels = new ArrayList<>();
            int m = between(r, 1, 5);
            for (int i = 0; i < m; i++) {
                newTokens.add("n" + i);
                newLevels.add(between(r, 0, 4));
            }
            int[] programSteps = {1, 2, 4, 8};
            int[] modelSteps = {2, 3, 4};
            return new Stepped(tokens, levels, from, to, newTokens, newLevels, programSteps[between(r, 0, 3)],
                    modelSteps[between(r, 0, 2)], between(r, 0, 2));
        };
    }

    @Test
    void aModelsOwnIndentationStepBecomesTheProgramsLevels() {
        qt().withExamples(500).withFixedSeed(13).forAll(stepped()).checkAssert(c -> {
            String program = Stepped.lines(c.tokens(), c.levels(), c.programStep(), 0) + "\n";
            String search = Stepped.lines(c.tokens().subList(c.from(), c.to()),
                    c.levels().subList(c.from(), c.to()), c.modelStep(), c.shift());
            String replace = Stepped.lines(c.newTokens(), c.newLevels(), c.modelStep(), c.shift());
            List<String> tokens = new ArrayList<>(c.tokens().subList(0, c.from()));
            tokens.addAll(c.newTokens());
            tokens.addAll(c.tokens().subList(c.to(), c.tokens().size()));
            List<Integer> levels = new ArrayList<>(c.levels().subList(0, c.from()));
            levels.addAll(c.newLevels());
            levels.addAll(c.levels().subList(c.to(), c.levels().size()));
            EditResult r = EditApplier.apply(program, List.of(new EditBlock(0, search, replace)), false);
            assertThat(r.code()).isEqualTo(Stepped.lines(tokens, levels, c.programStep(), 0) + "\n");
        });
    }
}
