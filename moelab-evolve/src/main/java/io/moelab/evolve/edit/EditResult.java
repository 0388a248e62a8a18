package io.moelab.evolve.edit;

import java.util.List;
import java.util.Objects;

/**
 * The program after an answer's blocks were applied, with what became of each block.
 *
 * @param code          the edited program (the original, unchanged, when no block applied)
 * @param outcomes      one outcome per block, in answer order
 * @param parseProblems blocks of the answer that could not be parsed, as one-line messages
 */
public record EditResult(String code, List<BlockOutcome> outcomes, List<String> parseProblems) {
    /** Copies the lists so that the result cannot change afterwards. */
    public EditResult {
        Objects.requireNonNull(code, "code");
        outcomes = List.copyOf(outcomes);
        parseProblems = List.copyOf(parseProblems);
    }

    /**
     * True when at least one block applied. Each applied block changed the program as it stood then, so this is
     * "the code differs from the original" except when later blocks undo earlier ones.
     */
    public boolean changed() {
        return outcomes.stream().anyMatch(BlockOutcome::applied);
    }

    /** The outcomes of the blocks that did not apply, in answer order. */
    public List<BlockOutcome> failures() {
        return outcomes.stream().filter(o -> !o.applied()).toList();
    }

    /**
     * Text for the next prompt: one line per parse problem, then one per failed block, each starting with
     * {@code "- "}; empty when every block parsed and applied.
     */
    public String feedback() {
        StringBuilder sb = new StringBuilder();
        for (String p : parseProblems) {
            line(sb, p);
        }
        for (BlockOutcome o : failures()) {
            line(sb, o.reason() == null || o.reason().isEmpty()
                    ? "block " + (o.block().index() + 1) + ": " + o.status() : o.reason());
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, String text) {
        if (!sb.isEmpty()) {
            sb.append('\n');
        }
        sb.append("- ").append(text);
    }
}
