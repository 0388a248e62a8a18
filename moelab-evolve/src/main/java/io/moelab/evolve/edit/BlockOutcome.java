package io.moelab.evolve.edit;

import java.util.Objects;

/**
 * What became of one block.
 *
 * @param block  the block
 * @param status whether it applied, and if not, why
 * @param match  the comparison that found the SEARCH text; null when it was not found or not looked for
 * @param line   1-based program line where the match starts (in the program as earlier blocks left it), or -1
 * @param reason one line for the next prompt when the block did not apply; null when it applied
 */
public record BlockOutcome(EditBlock block, Status status, MatchKind match, int line, String reason) {

    /** Whether a block applied, and if not, why not. */
    public enum Status {
        /** The block changed the program. */
        APPLIED,
        /** The SEARCH text is nowhere in the program, even ignoring whitespace. */
        NOT_FOUND,
        /** The SEARCH text matches several places; none was changed. */
        AMBIGUOUS,
        /** The match lies outside the EVOLVE-BLOCK regions, or the REPLACE text holds a marker. */
        OUTSIDE_EVOLVE_BLOCK,
        /** The SEARCH text is empty or blank. */
        EMPTY_SEARCH,
        /** Applying the block would leave the program as it is. */
        NO_CHANGE,
        /** Applying the block would leave an EVOLVE-BLOCK marker without its pair, or regions nested. */
        MALFORMED_MARKERS
    }

    /** Checks the block and status are present. */
    public BlockOutcome {
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(status, "status");
    }

    /** True when the block changed the program. */
    public boolean applied() {
        return status == Status.APPLIED;
    }
}
